"""Switch storms: one provider room per session whatever the order of clicks and jobs.

The provider (whereby in the sandbox) answers slowly, so the jobs of earlier switches are still
at work while later switches land; the end state is checked in the database and at the
simulator (rooms counted), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import db_support
import live_support
import pytest
import requests
from lifecycle_support import room_of, sandbox_settings, wait_jobs

from eventhub.extensions import db
from eventhub.models import Session
from tests.conftest import at, bearer

database, live_server = db_support.database, live_support.live_server


@pytest.fixture
def app_config(app_config, database, sandbox):
    return {**app_config, **sandbox_settings(sandbox), "SQLALCHEMY_DATABASE_URI": database}


@pytest.fixture
def world(create_user, create_event, create_session, api_token):
    organizer = create_user("organizer")
    event = create_event(default_provider="whereby")
    sessions = [create_session(event, start=at(9 + i)) for i in range(3)]
    return {"token": api_token(organizer), "sessions": [s.id for s in sessions]}


def _switch(http, url: str, session_id: int, mode: str, token: str) -> int:
    response = http.post(f"{url}/api/v1/sessions/{session_id}/switch",
                         json={"mode": mode, "provider": "whereby"} if mode != "in_person"
                         else {"mode": mode}, headers=bearer(token), timeout=60)
    return response.status_code


def _assert_one_room_per_online_session(sandbox, ids: list[int]) -> None:
    online = []
    for session_id in ids:
        event_session = db.session.get(Session, session_id)
        room = event_session.video_room
        if event_session.mode == "in_person":
            assert room is None or room.state == "deleted", (session_id, room)
        else:
            assert room is not None and room.state == "ready", (session_id, room)
            online.append(room.external_id)
    assert sorted(sandbox.rooms("whereby")) == sorted(online)


def test_online_then_at_once_in_person_twelve_times_leaves_no_room(
        live_server, world, sandbox, app):
    def storm(session_id: int) -> None:  # one moderator per session, all at the same time
        with requests.Session() as http:
            for _ in range(12):
                assert _switch(http, live_server.url, session_id, "online", world["token"]) == 200
                assert _switch(http, live_server.url, session_id, "in_person",
                               world["token"]) == 200

    with ThreadPoolExecutor(len(world["sessions"])) as pool:
        list(pool.map(storm, world["sessions"]))
    with app.app_context():
        wait_jobs(60)
        _assert_one_room_per_online_session(sandbox, world["sessions"])
        assert sandbox.rooms("whereby") == {}


def test_twenty_alternating_concurrent_switches_end_with_one_room(
        live_server, world, sandbox, app):
    session_id = world["sessions"][0]
    modes = ["online", "in_person"] * 10
    barrier = threading.Barrier(len(modes))

    def run(mode: str) -> int:
        with requests.Session() as http:
            barrier.wait(10)
            return _switch(http, live_server.url, session_id, mode, world["token"])

    with ThreadPoolExecutor(len(modes)) as pool:
        codes = list(pool.map(run, modes))
    assert set(codes) == {200}, codes
    # And once more online: the room must come without a restart whatever the storm left.
    with requests.Session() as http:
        assert _switch(http, live_server.url, session_id, "online", world["token"]) == 200
    with app.app_context():
        wait_jobs(60)
        assert room_of(db.session.get(Session, session_id)).state == "ready"
        _assert_one_room_per_online_session(sandbox, [session_id])
