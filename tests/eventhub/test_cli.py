"""The command line: init-db, seed-demo (idempotent, undone if interrupted), create-user, serve."""

from __future__ import annotations

import os
import re
import resource
import socket
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.models import Event, Participant, Room, Session, User
from eventhub.services import demo
from eventhub.services import sessions as session_service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def migrated_app(app_config, tmp_path):
    """An app whose database is made by the migrations, not by create_all."""
    from eventhub import create_app

    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app(app_config)
    result = app.test_cli_runner().invoke(args=["eventhub", "init-db"])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.engine.dispose()


def counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Event, Room, Session, Participant, User)}


def test_init_db_is_idempotent_and_matches_the_models(migrated_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    again = migrated_app.test_cli_runner().invoke(args=["eventhub", "init-db"])
    assert again.exit_code == 0
    with migrated_app.app_context(), db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_seed_demo_twice_creates_nothing_new(migrated_app):
    runner = migrated_app.test_cli_runner()
    first = runner.invoke(args=["eventhub", "seed-demo", "--start-date", "2021-06-28"])
    assert first.exit_code == 0, first.output
    assert "organizer@eventhub.local / organizer-demo" in first.output
    with migrated_app.app_context():
        before = counts()
    second = runner.invoke(args=["eventhub", "seed-demo"])
    assert second.exit_code == 0 and "already there" in second.output
    assert runner.invoke(args=["eventhub", "seed-demo", "--if-empty"]).exit_code == 0
    with migrated_app.app_context():
        assert counts() == before
        assert before["Room"] >= 4 and before["Session"] >= 30 and before["Participant"] >= 60
        event = db.session.scalar(select(Event))
        assert event.published and event.timezone == "Europe/Moscow"
        assert event.start_date == date(2021, 6, 28) and event.end_date == date(2021, 6, 30)
        sessions = list(db.session.scalars(select(Session)))
        assert all(set(s.title) == {"ru", "de", "en"} for s in sessions)
        days = Counter(s.starts_at.date() for s in sessions)
        assert len(days) == 3
        people = list(db.session.scalars(select(Participant)))
        assert {p.country for p in people} == {"RU", "DE"}
        # Twin cities: a Russian administration's partner is a German city and vice versa, each
        # organization under one name (its own language's) on both sides.
        suhl = [p for p in people if p.organization == "Stadt Suhl"]
        kaluga = [p for p in people if p.organization == "Администрация г. Калуга"]
        assert suhl and all(p.partner_organization == "Администрация г. Калуга" for p in suhl)
        assert kaluga and all(p.partner_organization == "Stadt Suhl" for p in kaluga)
        assert counts()["User"] == 4


def test_seed_demo_defaults_to_today_in_moscow(migrated_app):
    from eventhub.services.demo import demo_start_date

    migrated_app.test_cli_runner().invoke(args=["eventhub", "seed-demo"])
    with migrated_app.app_context():
        assert db.session.scalar(select(Event.start_date)) == demo_start_date()


def test_create_user(migrated_app):
    runner = migrated_app.test_cli_runner()
    ok = runner.invoke(args=["eventhub", "create-user", "chair@example.org", "--role",
                             "organizer", "--password", "long-enough"])
    assert ok.exit_code == 0, ok.output
    dup = runner.invoke(args=["eventhub", "create-user", "chair@example.org", "--role",
                              "moderator", "--password", "long-enough"])
    assert dup.exit_code != 0 and "exists" in dup.output
    short = runner.invoke(args=["eventhub", "create-user", "x@example.org", "--role",
                                "moderator", "--password", "short"])
    assert short.exit_code != 0 and "password" in short.output


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _few_files() -> None:
    """The usual soft limit of open files, below the hard one (`serve` raises it again)."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, hard), hard))


@pytest.mark.parametrize("mode", ["gevent", "gevent-asked", "threading"])
def test_serve_answers_the_demo_programme_and_pushes_live(tmp_path, mode):
    """What `make run` does, on a fresh database, in real processes: gevent by default (the
    production stack) or when EVENTHUB_ASYNC_MODE says so (patched all the same), its file
    limit raised to the hard one; threading when EVENTHUB_ASYNC_MODE says so; in each the
    programme is served and a Socket.IO client on a WebSocket gets its subscription's
    snapshot."""
    import socketio

    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
           "SECRET_KEY": "test", "PYTHONPATH": str(ROOT)}
    env.pop("EVENTHUB_BASE_URL", None)  # links follow the served port
    env.pop("EVENTHUB_ASYNC_MODE", None)
    if mode != "gevent":
        env["EVENTHUB_ASYNC_MODE"] = mode.removesuffix("-asked")
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "eventhub"]
    for step in (["init-db"], ["seed-demo", "--if-empty"]):
        subprocess.run(flask + step, cwd=ROOT, env=env, check=True, capture_output=True,
                       timeout=120)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(flask + ["serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              preexec_fn=_few_files)  # noqa: PLW1509 - no threads started here
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        programme = requests.get(f"{base}/api/v1/events/1/sessions?limit=500", timeout=5).json()
        assert programme["total"] >= 30
        page = requests.get(f"{base}/events/partner-cities-xvi?lang=ru", timeout=5)
        assert page.status_code == 200 and "Калуга" in page.text
        assert f"{base}/calendars/events/" in page.text and ":5000" not in page.text
        client = socketio.Client(reconnection=False)
        # websocket-client sends the Origin of the URL it connects to: the served one.
        client.connect(base, namespaces=["/live"], transports=["websocket"], wait_timeout=10)
        try:
            ack = client.call("subscribe", {"event_id": 1}, namespace="/live", timeout=10)
            assert ack["ok"] and len(ack["sessions"]) == programme["total"]
        finally:
            client.disconnect()
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0].decode()
    assert f"EventHub on {base}/ ({mode.removesuffix('-asked')})" in output
    assert re.search(r"garbage collector: [\d,]+ start-up objects frozen", output), output
    if mode.startswith("gevent"):  # re-executed, patched first, with the hard file limit
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        limit = "" if hard == resource.RLIM_INFINITY else f" {hard} open files"
        assert f"gevent server, up to{limit}" in output


def test_demo_shows_live_and_hybrid_sessions(migrated_app):
    """Seeded during the first morning, the opening session is live; the press centre hybrid."""
    from datetime import UTC, datetime

    from eventhub.services import demo, provisioning

    with migrated_app.app_context():
        # 10:30 in Kaluga (UTC+3) on the first day: the opening (10:00-11:30) is under way.
        demo.seed_demo(date(2021, 6, 28), now=datetime(2021, 6, 28, 7, 30, tzinfo=UTC))
        provisioning.dispatcher().wait(30)
        sessions = list(db.session.scalars(select(Session)))
        live = [s for s in sessions if s.status == "live"]
        assert [s.title["en"] for s in live] == ["Opening: welcome by the mayors"]
        press = [s for s in sessions if s.track == demo.TRACKS["press"]]
        assert press and all(s.mode == "hybrid" for s in press)
        assert all(s.video_room is not None and s.video_room.state == "ready" for s in press)


def test_seed_demo_under_the_sandbox_makes_no_room_before_serve(app_config, tmp_path):
    """EVENTHUB_SANDBOX=1: the simulators run in `serve`; rooms made before would be real."""
    from eventhub import create_app
    from eventhub.models import VideoRoom

    app_config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'sandboxed.db'}"
    app_config["EVENTHUB_SANDBOX"] = True
    app = create_app(app_config)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["eventhub", "init-db"]).exit_code == 0
    result = runner.invoke(args=["eventhub", "seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        rooms = list(db.session.scalars(select(VideoRoom)))
        assert rooms and all(room.state == "pending" and not room.data for room in rooms)
        assert not app.config.get("PROVISIONING_DEFERRED")
        db.engine.dispose()


# -- seed-demo interrupted ------------------------------------------------------------------


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_seed_interrupted_halfway_is_undone_and_the_next_run_completes(ctx, monkeypatch):
    """`make run` seeds with --if-empty: a half demo left behind would never be completed."""
    real, calls = session_service.create_session, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("interrupted")  # Ctrl-C, a full disk, a lost connection
        return real(*args, **kwargs)

    monkeypatch.setattr(session_service, "create_session", interrupted)
    with pytest.raises(RuntimeError):
        demo.seed_demo(date(2021, 6, 28))
    monkeypatch.undo()
    db.session.remove()
    assert (count(Event), count(Room), count(Session), count(Participant)) == (0, 0, 0, 0)

    result = demo.seed_demo(date(2021, 6, 28))
    assert result.created
    assert count(Session) == len(demo.PROGRAMME) and count(Room) == len(demo.HALLS)
