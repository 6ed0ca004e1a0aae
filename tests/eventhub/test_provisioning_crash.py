"""A process killed with SIGKILL in the middle of ``switch_event`` loses nothing: the next
start's ``recover(take_over=True)`` completes every pending room, one provider room each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lifecycle_support import creates, read_line, sandbox_settings, wait_jobs
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.models import Session, VideoRoom
from eventhub.services import provisioning

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = 40

# The first process: seed an event of 40 sessions, switch it online, then wait to be killed.
CHILD = """
import json, sys, time
from datetime import UTC, date, datetime, timedelta
from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import Event, Session, User
from eventhub.services import switching

uri, providers, count = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
# The restarted app's SECRET_KEY, as on a real restart: the provider keys depend on it.
app = create_app({"SQLALCHEMY_DATABASE_URI": uri, "SECRET_KEY": "test-secret-key",
                  "PROVIDERS": providers, "PROVISIONING_BACKOFF": 0.01,
                  "PROVIDER_TIMEOUT": [2.0, 5.0]})
with app.app_context():
    db.create_all()
    organizer = User(email="organizer@example.org", role="organizer", password_hash="-")
    event = Event(slug="crash", title={"en": "Crash"}, timezone="UTC", published=True,
                  start_date=date(2030, 6, 28), end_date=date(2030, 6, 30),
                  default_provider="whereby")
    db.session.add_all([organizer, event])
    start = datetime(2030, 6, 28, 6, tzinfo=UTC)
    for i in range(count):
        begin = start + timedelta(minutes=20 * i)
        db.session.add(Session(event=event, title={"en": f"Session {i}"}, starts_at=begin,
                               ends_at=begin + timedelta(minutes=15)))
    db.session.commit()
    switching.switch_event(event, "online", actor=organizer)
    print("switched", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def app_config(app_config, sandbox):
    """The test app talks to the sandbox."""
    return {**app_config, **sandbox_settings(sandbox)}


def wait_for(condition, timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``condition`` until true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_sigkill_mid_switch_event_then_recover(app, ctx, app_config, sandbox, tmp_path):
    """SIGKILL while ~8 creates are in flight; a new app's recover() makes all 40 rooms."""
    sandbox.faults.latency("whereby", 0.3, times=1000)
    log = (tmp_path / "child.log").open("w")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, app_config["SQLALCHEMY_DATABASE_URI"],
         json.dumps(app_config["PROVIDERS"]), str(SESSIONS)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert read_line(child).strip() == "switched"
        # Mid-flight: some rooms created, others still being asked for.
        wait_for(lambda: len(creates(sandbox, "whereby")) >= 10, what="creates in flight")
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()
        log.close()
    sandbox.faults.clear()
    # What the provider had received it finishes; the next start comes after that.
    sim = sandbox.simulators["whereby"]
    wait_for(lambda: len(sim.answered) == len(sim.received), what="provider to finish")

    db.session.expire_all()
    states = dict(db.session.execute(
        select(VideoRoom.state, func.count()).group_by(VideoRoom.state)).all())
    assert states.get("pending", 0) > 0, states  # the crash did leave work undone
    assert sum(states.values()) == SESSIONS

    assert provisioning.recover(take_over=True) == states["pending"]
    wait_jobs(60)
    rooms = list(db.session.scalars(select(VideoRoom)))
    assert len(rooms) == SESSIONS
    assert {room.state for room in rooms} == {"ready"}
    assert len({room.session_id for room in rooms}) == SESSIONS
    assert db.session.query(Session).count() == SESSIONS
    assert len(sandbox.rooms("whereby")) == SESSIONS
    assert sandbox.created("whereby") == SESSIONS
    assert {room.external_id for room in rooms} == set(sandbox.rooms("whereby"))
