"""A whole-event switch provisions concurrently on a bounded pool (no timing assertions:
the sandbox's request intervals show how many creates were in flight at once)."""

from __future__ import annotations

import pytest
from lifecycle_support import make_sessions, room_of, sandbox_settings, wait_jobs

from eventhub.services import switching


@pytest.fixture
def app_config(app_config, sandbox):
    """The test app talks to the sandbox with the default pool of 8."""
    return {**app_config, **sandbox_settings(sandbox, PROVISIONING_WORKERS=8)}


def test_switch_event_overlaps_creates_within_the_pool(app, sandbox, create_user, create_event,
                                                       create_session):
    """40 sessions against a provider answering in 300 ms: creates overlap, at most 8."""
    organizer = create_user("organizer")
    event = create_event(default_provider="daily")
    sessions = make_sessions(create_session, event, 40)
    sandbox.faults.latency("daily", 0.3, times=1000, method="POST", path="/rooms")
    moved = switching.switch_event(event, "online", actor=organizer)
    assert len(moved) == 40
    wait_jobs(60)
    assert {room_of(s).state for s in sessions} == {"ready"}
    in_flight = sandbox.max_in_flight("daily", "POST", "/rooms")
    assert 1 < in_flight <= app.config["PROVISIONING_WORKERS"]
    assert sandbox.created("daily") == 40
