"""integrations/ loads no Flask and no EventHub; the sandbox runs as a module."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from integrations.registry import PROVIDERS

ROOT = Path(__file__).resolve().parents[2]
MODULES = [
    "integrations", "integrations.base", "integrations.http", "integrations.registry",
    "integrations.sandbox", "integrations.sandbox.faults", "integrations.sandbox.server",
    *(f"integrations.{name}" for name in PROVIDERS),
    *(f"integrations.sandbox.{name}" for name in PROVIDERS),
]


def test_import_loads_no_flask_or_eventhub():
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'eventhub'))\n"
        "print(' '.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    assert result.stdout.strip() == ""


def test_sandbox_serves_from_command_line():
    process = subprocess.Popen(
        [sys.executable, "-m", "integrations.sandbox", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("JITSI_BASE_URL=http://127.0.0.1:")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
