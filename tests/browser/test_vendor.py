"""The pages load their scripts from this server only: no CDN, nothing from the internet."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "eventhub" / "static"
TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_vendored_socketio_client_matches_its_note():
    note = (STATIC / "vendor" / "README.md").read_text()
    digest = hashlib.sha256((STATIC / "vendor" / "socket.io.min.js").read_bytes()).hexdigest()
    assert digest in note
    assert "MIT" in (STATIC / "vendor" / "socket.io.LICENSE").read_text()


def test_templates_reference_no_external_assets():
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', text), template
