"""Rooms whose worker died are taken up by the running processes themselves, within the lease
(``PROVISIONING_LEASE_SECONDS``) plus the scan period (``PROVISIONING_RECOVER_SECONDS``)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from lifecycle_support import room_of, sandbox_settings

from eventhub.extensions import db
from eventhub.models import VideoRoom, utcnow
from eventhub.services import provisioning, switching
from integrations.sandbox import Sandbox

LEASE, PERIOD = 1.0, 0.2


@pytest.fixture
def sandbox():
    """A provider sandbox of this module's own. The shared one saw a second "s1-g1" Daily room
    made during this test (another app's session 1, so another database) in two full runs:
    the rooms counted here must be this test's alone."""
    own = Sandbox().start()
    yield own
    own.stop()


@pytest.fixture
def app_config(app_config, sandbox):
    return {**app_config, **sandbox_settings(sandbox), "PROVISIONING_LEASE_SECONDS": LEASE,
            "PROVISIONING_RECOVER_SECONDS": PERIOD}


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, \
            f"timed out after {timeout}s waiting for {what() if callable(what) else what}"
        time.sleep(0.02)


def test_the_embedded_process_takes_up_a_dead_workers_room_by_itself(
        app, ctx, sandbox, create_user, create_event, create_session):
    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="daily"))
    sandbox.faults.status("daily", 503, times=1000)  # the first job cannot finish...
    switching.switch_session(event_session, "online", actor=organizer)
    assert provisioning.dispatcher().wait(30), "the first job did not give up within 30 s"
    sandbox.faults.clear()
    room = room_of(event_session)
    # ...as if its worker had died holding the room: a lease that is running out.
    room.state, room.last_error, room.lease_until = "pending", None, utcnow() + timedelta(
        seconds=LEASE)
    db.session.commit()
    recovery = provisioning.start_recovery(app)
    try:
        def ready() -> bool:
            db.session.expire_all()
            return room_of(event_session).state == "ready"

        def seen() -> str:
            room = room_of(event_session)
            return (f"the room taken up (state {room.state}, attempts {room.attempts}, "
                    f"lease {room.lease_until} at {utcnow()}, error {room.last_error!r}, "
                    f"daily received {[(r.method, r.path) for r in sandbox.received('daily')]})")

        wait_for(ready, timeout=LEASE + PERIOD + 5, what=seen)
    finally:
        recovery.stop()
    made = [(r.method, r.path, r.body[:120]) for r in sandbox.received("daily")
            if r.method == "POST"]
    threads = sorted(t.name for t in threading.enumerate())
    assert len(sandbox.rooms("daily")) == 1, (sorted(sandbox.rooms("daily")), made, threads)


def test_the_scan_leaves_a_live_lease_and_a_freshly_queued_room_alone(
        app, ctx, create_user, create_event, create_session):
    event = create_event()
    leased, queued = (create_session(event) for _ in range(2))
    now = utcnow()
    db.session.add_all([
        VideoRoom(session=leased, provider="jitsi", lease_until=now + timedelta(minutes=5)),
        VideoRoom(session=queued, provider="jitsi"),  # just committed: its job is queued
    ])
    db.session.commit()
    assert provisioning.recover(lost_only=True) == 0
    assert provisioning.recover() == 1  # at start-up an unleased room is taken at once


def test_the_lease_is_a_setting(app, ctx):
    assert provisioning.lease_length() == timedelta(seconds=LEASE)
