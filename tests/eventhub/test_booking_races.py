"""Real parallel requests booking one hall: exactly one wins, on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import db_support
import live_support
import pytest
import requests
from sqlalchemy import select

from eventhub.extensions import db
from eventhub.models import Session
from tests.conftest import at, bearer

database, app_config = db_support.database, db_support.app_config
live_server = live_support.live_server

PARALLEL = 20


@pytest.fixture
def hall(create_user, create_event, create_room, api_token):
    organizer = create_user("organizer")
    event = create_event()
    room = create_room(event)
    return {"event": event.id, "room": room.id, "token": api_token(organizer)}


def _parallel(calls) -> list[requests.Response]:
    """Run the calls at once (a barrier releases them together) and return their responses."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        with requests.Session() as http:
            barrier.wait(10)
            return call(http)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _overlapping(hall, i: int) -> dict:
    start = at(10, i)  # every one overlaps every other in the same hall
    return {"title": {"en": f"Talk {i}"}, "room_id": hall["room"],
            "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}


def test_twenty_parallel_creates_in_one_hall_book_it_once(live_server, hall, app):
    url = f"{live_server.url}/api/v1/events/{hall['event']}/sessions"
    responses = _parallel([
        (lambda http, i=i: http.post(url, json=_overlapping(hall, i), headers=bearer(hall["token"]),
                                     timeout=60))
        for i in range(PARALLEL)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * (PARALLEL - 1), codes
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {
        "room_double_booked"}
    with app.app_context():
        booked = db.session.scalars(select(Session).where(Session.room_id == hall["room"])).all()
        assert len(booked) == 1


def test_parallel_patches_into_one_slot_move_one_session(live_server, hall, app,
                                                         create_session):
    with app.app_context():
        from eventhub.models import Event, Room

        event, room = db.session.get(Event, hall["event"]), db.session.get(Room, hall["room"])
        ids = [create_session(event, room, start=at(8 + i, day=1)).id for i in range(10)]
    slot = {"starts_at": at(18).isoformat(), "ends_at": at(19).isoformat()}
    responses = _parallel([
        (lambda http, sid=sid: http.patch(f"{live_server.url}/api/v1/sessions/{sid}", json=slot,
                                          headers=bearer(hall["token"]), timeout=60))
        for sid in ids])
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * 9, codes
    with app.app_context():
        moved = db.session.scalars(select(Session).where(Session.starts_at == at(18))).all()
        assert len(moved) == 1
