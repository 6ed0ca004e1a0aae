"""The serving processes tune the garbage collector (eventhub/gctune.py): start-up frozen, a
wider young generation. Run in a fresh interpreter: freezing the test process's objects would
keep them for the rest of the suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import gc, json
from eventhub import create_app
from eventhub.gctune import YOUNG_THRESHOLD, tune
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "t"})
before = gc.get_threshold()
said = tune()
young = [object() for _ in range(10)]  # made after: still collected as usual
print(json.dumps({"said": said, "before": before, "after": gc.get_threshold(),
                  "frozen": gc.get_freeze_count(), "young": YOUNG_THRESHOLD,
                  "tracked": len(gc.get_objects())}))
"""


def test_tune_freezes_start_up_and_widens_the_young_generation():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"][0] == 700  # Python's default, which the app itself leaves alone
    assert seen["after"] == [seen["young"], seen["before"][1], seen["before"][2]]
    assert seen["frozen"] > 50_000  # the app, its modules and catalogs
    assert seen["tracked"] < seen["frozen"] // 10  # collections no longer walk them
    assert f"{seen['frozen']:,} start-up objects frozen" in seen["said"]
