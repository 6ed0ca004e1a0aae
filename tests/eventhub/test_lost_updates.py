"""Edits beside a whole-event switch lose nothing: ``sequence`` is bumped once per change and
the switch decides on each session's status as it is when it writes, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import db_support
import live_support
import pytest
import requests
from sqlalchemy import update

from eventhub.extensions import db
from eventhub.models import Session
from eventhub.services import sessions as session_service
from eventhub.services import switching
from tests.conftest import at, bearer

database, app_config = db_support.database, db_support.app_config
live_server = live_support.live_server


@pytest.fixture
def world(create_user, create_event, create_session, api_token):
    organizer = create_user("organizer")
    event = create_event()
    sessions = [create_session(event, start=at(9 + i)) for i in range(6)]
    return organizer, event, sessions, api_token(organizer)


def _commit_elsewhere(statement) -> None:
    """What another request commits while this one holds its objects."""
    with db.engine.begin() as other:
        other.execute(statement)


def test_a_reschedule_after_a_concurrent_bump_bumps_again(world):
    organizer, _, sessions, _ = world
    event_session = sessions[0]
    before = event_session.sequence  # loaded here; another request bumps it meanwhile
    _commit_elsewhere(update(Session).where(Session.id == event_session.id)
                      .values(sequence=Session.sequence + 1))
    session_service.update_session(organizer, event_session, {
        "starts_at": at(15), "ends_at": at(16)})
    db.session.expire_all()
    assert db.session.get(Session, event_session.id).sequence == before + 2


def test_the_event_switch_skips_a_session_cancelled_after_it_was_read(world):
    organizer, event, sessions, _ = world
    for event_session in sessions:
        assert event_session.status == "scheduled"  # loaded in this request
    _commit_elsewhere(update(Session).where(Session.id == sessions[0].id)
                      .values(status="cancelled"))
    moved = switching.switch_event(event, "online", actor=organizer)
    assert sessions[0].id not in {s.id for s in moved}
    db.session.expire_all()
    cancelled = db.session.get(Session, sessions[0].id)
    assert cancelled.mode == "in_person" and cancelled.video_room is None


def test_reschedules_during_an_event_switch_each_bump_the_sequence(live_server, world, app):
    _, event, sessions, token = world
    event_id = event.id
    ids, before = [s.id for s in sessions], {s.id: s.sequence for s in sessions}
    barrier = threading.Barrier(len(ids) + 1)

    def reschedule(session_id: int) -> int:
        with requests.Session() as http:
            start = at(14, day=1) + timedelta(hours=ids.index(session_id))
            barrier.wait(10)
            return http.patch(f"{live_server.url}/api/v1/sessions/{session_id}",
                              json={"starts_at": start.isoformat(),
                                    "ends_at": (start + timedelta(minutes=30)).isoformat()},
                              headers=bearer(token), timeout=60).status_code

    def switch() -> int:
        with requests.Session() as http:
            barrier.wait(10)
            return http.post(f"{live_server.url}/api/v1/events/{event_id}/switch",
                             json={"mode": "online"}, headers=bearer(token),
                             timeout=60).status_code

    with ThreadPoolExecutor(len(ids) + 1) as pool:
        switched = pool.submit(switch)
        codes = list(pool.map(reschedule, ids))
        assert switched.result() == 200
    assert codes == [200] * len(ids)
    with app.app_context():
        from eventhub.services import provisioning

        provisioning.dispatcher().wait(30)
        for session_id in ids:
            event_session = db.session.get(Session, session_id)
            assert event_session.mode == "online"
            assert event_session.sequence == before[session_id] + 2, session_id
