"""Compiled catalogs come with every way of starting the server, not only with make."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from babel.support import Translations

from eventhub.catalogs import SOURCE, ensure_compiled

ROOT = Path(__file__).resolve().parents[2]


def copy_sources(target: Path) -> Path:
    for po_path in SOURCE.glob("*/LC_MESSAGES/messages.po"):
        destination = target / po_path.relative_to(SOURCE)
        destination.parent.mkdir(parents=True)
        shutil.copy(po_path, destination)
    return target


def test_missing_and_stale_catalogs_are_compiled(tmp_path):
    source = copy_sources(tmp_path / "translations")
    assert ensure_compiled(source) == source
    mo_path = source / "ru" / "LC_MESSAGES" / "messages.mo"
    assert Translations.load(str(source), ["ru"]).gettext("Now and next") != "Now and next"
    stamp = mo_path.stat().st_mtime
    os.utime(mo_path.with_suffix(".po"), (stamp + 10, stamp + 10))  # the .po changed since
    ensure_compiled(source)
    assert mo_path.stat().st_mtime > stamp


def test_a_read_only_package_compiles_into_the_fallback(tmp_path):
    source = copy_sources(tmp_path / "translations")
    for folder in source.glob("*/LC_MESSAGES"):
        folder.chmod(0o555)
    try:
        if os.access(source / "ru" / "LC_MESSAGES", os.W_OK):  # running as root
            return
        target = ensure_compiled(source, tmp_path / "instance")
        assert target == tmp_path / "instance"
        assert Translations.load(str(target), ["de"]).gettext("Now and next") != "Now and next"
    finally:
        for folder in source.glob("*/LC_MESSAGES"):
            folder.chmod(0o755)


def test_a_server_started_without_make_speaks_russian(tmp_path):
    """As the README's production section starts it: no make, so no compiled catalogs."""
    for mo_path in SOURCE.glob("*/LC_MESSAGES/messages.mo"):
        mo_path.unlink()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.db'}",
           "SECRET_KEY": "test", "PYTHONPATH": str(ROOT)}
    script = ("from wsgi import app\n"
              "client = app.test_client()\n"
              "print(client.get('/login?lang=ru').get_data(as_text=True))\n")
    output = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True, timeout=120).stdout
    assert "Пароль" in output or "Войти" in output
