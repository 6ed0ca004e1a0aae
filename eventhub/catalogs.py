"""Compiled translation catalogs (.mo) for every way the server is started.

The .po files are committed; the .mo files are build output and are not. ``make`` compiles
them, but gunicorn, ``flask run`` or a container started without make would show English.
:func:`ensure_compiled` runs in ``create_app`` and compiles a missing or stale catalog (older
than its .po): in the package when it is writable, else under the instance folder.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

log = logging.getLogger(__name__)

SOURCE = Path(__file__).parent / "translations"


def _stale(po_path: Path, mo_path: Path) -> bool:
    return not mo_path.exists() or mo_path.stat().st_mtime < po_path.stat().st_mtime


def _compile(po_path: Path, mo_path: Path) -> None:
    """Write the .mo next to a temporary name and rename it: two processes starting at once
    never read a half-written catalog."""
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file)
    mo_path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(handle, "wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(temporary, mo_path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def ensure_compiled(source: Path = SOURCE, fallback: Path | None = None) -> Path:
    """Compile the catalogs under ``source`` that are missing or stale; return the directory
    that holds the compiled ones (``source``, or ``fallback`` when ``source`` is read-only)."""
    pos = sorted(source.glob("*/LC_MESSAGES/messages.po"))
    target = source
    for po_path in pos:
        mo_path = po_path.with_suffix(".mo")
        if not _stale(po_path, mo_path):
            continue
        try:
            _compile(po_path, mo_path)
        except OSError:
            if fallback is None:
                raise
            target = fallback
            break
    if target is not source:
        for po_path in pos:
            mo_path = fallback / po_path.relative_to(source).with_suffix(".mo")
            if _stale(po_path, mo_path):
                _compile(po_path, mo_path)
        log.info("translations compiled under %s (the package is read-only)", target)
    return target
