"""calendars/ is pure: importing it loads neither Flask nor EventHub (STYLE.md §1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CHECK = """
import sys
import calendars, calendars.build, calendars.importer, calendars.model
web = {"flask", "eventhub", "werkzeug", "sqlalchemy", "flask_socketio"}
bad = sorted(m for m in sys.modules if m.split(".")[0] in web)
print(",".join(bad))
"""


def test_import_loads_no_flask_or_eventhub():
    # A fresh interpreter: this test process may already have Flask loaded by other tests.
    result = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_package_exports():
    import calendars.build as build
    import calendars.importer as importer

    for module in (build, importer):
        for name in module.__all__:
            assert getattr(module, name).__doc__, f"{module.__name__}.{name} has no docstring"
