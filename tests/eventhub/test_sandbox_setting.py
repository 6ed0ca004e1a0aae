"""``EVENTHUB_SANDBOX`` applies in every process that builds the app (gunicorn, worker, CLI),
not only in ``serve``: ``1`` starts simulators in the process, a URL points at a shared one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lifecycle_support import room_of

from eventhub import create_app
from eventhub.extensions import db
from eventhub.services import provisioning, switching

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config, sandbox):
    return {**app_config, "EVENTHUB_SANDBOX": sandbox.url}


def test_a_sandbox_url_points_every_provider_at_it(app, ctx, sandbox, create_user,
                                                    create_event, create_session):
    assert app.config["PROVIDERS"]["DAILY_API_BASE"] == f"{sandbox.url}/daily/v1"
    assert "eventhub.sandbox" not in app.extensions  # no simulators of its own
    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="daily"))
    switching.switch_session(event_session, "online", actor=organizer)
    assert provisioning.dispatcher().wait(30)
    db.session.expire_all()
    assert room_of(event_session).state == "ready"
    assert len(sandbox.rooms("daily")) == 1


def test_sandbox_1_starts_simulators_in_any_process(app_config):
    app = create_app({**app_config, "EVENTHUB_SANDBOX": "1"})
    try:
        server = app.extensions["eventhub.sandbox"]
        assert app.config["PROVIDERS"]["JITSI_BASE_URL"] == f"{server.url}/jitsi"
    finally:
        app.extensions["eventhub.sandbox"].stop()
        with app.app_context():
            provisioning.dispatcher().shutdown()
            db.engine.dispose()


def test_a_worker_process_reads_the_setting_from_the_environment(tmp_path):
    """What gunicorn and `flask eventhub worker` do: `wsgi.app` from the environment."""
    script = ("from wsgi import app\n"
              "print(app.config['PROVIDERS']['JITSI_BASE_URL'])\n")
    env = {"PATH": "/usr/bin:/bin", "EVENTHUB_SANDBOX": "1", "SECRET_KEY": "x",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("http://127.0.0.1:") and out.strip().endswith("/jitsi")
