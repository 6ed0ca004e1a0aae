"""Imports point one way (STYLE.md §1): api/live/web/cli -> services -> models, integrations,
calendars, publish, serializers. Read from the source (AST), so an import inside a function
counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "eventhub"
ENTRY_POINTS = frozenset({"api", "web", "live", "cli"})

#: module or folder (relative to eventhub/) -> the top-level eventhub packages it may not import
RULES = {
    "services": ENTRY_POINTS,
    "models": ENTRY_POINTS,
    "publish.py": ENTRY_POINTS,
    "versioning.py": ENTRY_POINTS,
    "serializers.py": ENTRY_POINTS,
    "validation.py": ENTRY_POINTS,
    "live": ENTRY_POINTS - {"live"},
}


def imported_packages(path: Path, root: Path = PACKAGE) -> set[str]:
    """The eventhub sub-packages (first level under ``root``, the eventhub/ folder) that
    ``path`` imports."""
    package = ["eventhub", *path.parent.relative_to(root).parts]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets: list[list[str]] = []
        if isinstance(node, ast.Import):
            targets = [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = (package[:len(package) - node.level + 1] if node.level else [])
            base = base + (node.module.split(".") if node.module else [])
            # ``from .. import api`` names a package in the alias, ``from ..api import x`` in
            # the module: count both.
            targets = [base] + [base + [alias.name] for alias in node.names]
        for target in targets:
            if len(target) >= 2 and target[0] == "eventhub":
                found.add(target[1])
    return found


def _files(place: str) -> list[Path]:
    path = PACKAGE / place
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


CASES = [(place, path) for place in RULES for path in _files(place)]


@pytest.mark.parametrize(("place", "path"), CASES,
                         ids=[str(path.relative_to(PACKAGE)) for _, path in CASES])
def test_lower_floors_import_no_entry_point(place, path):
    wrong = imported_packages(path) & RULES[place]
    assert not wrong, f"{path.relative_to(PACKAGE.parent)} imports eventhub.{sorted(wrong)}"


def test_the_check_sees_each_spelling_of_an_import(tmp_path):
    """The check itself finds each spelling of a wrong import (else the test above is idle)."""
    services = tmp_path / "eventhub" / "services"
    services.mkdir(parents=True)
    spellings = {
        "from ..api import schemas": {"api"},
        "from .. import web": {"web"},
        "import eventhub.live.namespace": {"live"},
        "def f():\n    from ..cli import worker": {"cli"},
        "from . import access": {"services"},
        "from ..models import Session": {"models"},
    }
    for source, wanted in spellings.items():
        module = services / "probe.py"
        module.write_text(source + "\n")
        assert imported_packages(module, tmp_path / "eventhub") == wanted, source
