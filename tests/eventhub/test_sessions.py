"""The programme service: validation, double booking, the status machine, sequence; a session
added to an event that has moved online."""

from __future__ import annotations

from datetime import timedelta

import pytest
from api_support import snapshot

from eventhub.errors import Conflict, Forbidden, Invalid, Unauthorized
from eventhub.extensions import db
from eventhub.models import Session
from eventhub.services import events as event_service
from eventhub.services import provisioning
from eventhub.services import sessions as session_service
from tests.conftest import START, at, bearer


@pytest.fixture
def world(create_user, create_event, create_room):
    organizer = create_user("organizer")
    event = create_event()
    return organizer, event, create_room(event)


def data(**kwargs):
    values = {"title": {"en": "Talk"}, "starts_at": at(10), "ends_at": at(11)}
    values.update(kwargs)
    return values


def test_create_session_stores_utc_and_reads_back_aware(world):
    organizer, event, room = world
    created = session_service.create_session(organizer, event, data(room_id=room.id))
    assert created.starts_at == at(10)
    assert created.starts_at.utcoffset() == timedelta(0)
    assert created.sequence == 0 and created.status == "scheduled"


def test_create_session_end_before_start_is_422_naming_ends_at(world):
    organizer, event, _ = world
    with pytest.raises(Invalid) as error:
        session_service.create_session(organizer, event, data(ends_at=at(9)))
    assert "ends_at" in error.value.fields


@pytest.mark.parametrize("start,end", [
    (at(10, day=-1), at(11, day=-1)),  # the day before the event
    (at(23, day=2), at(1, day=3)),  # runs past the last day's midnight (Moscow)
])
def test_create_session_outside_event_dates_is_422(world, start, end):
    organizer, event, _ = world
    with pytest.raises(Invalid) as error:
        session_service.create_session(organizer, event, data(starts_at=start, ends_at=end))
    assert "starts_at" in error.value.fields


def test_session_on_last_evening_local_time_is_inside(world):
    organizer, event, _ = world
    # 23:00-23:59 Moscow on the last day is 20:00-20:59 UTC: inside.
    created = session_service.create_session(
        organizer, event, data(starts_at=at(23, day=2), ends_at=at(23, 59, day=2)))
    db.session.expire_all()
    stored = db.session.get(Session, created.id)
    assert stored.event_id == event.id
    assert (stored.starts_at, stored.ends_at) == (at(23, day=2), at(23, 59, day=2))


def test_double_booked_hall_is_409_and_cancelled_sessions_do_not_block(world):
    organizer, event, room = world
    first = session_service.create_session(organizer, event, data(room_id=room.id))
    with pytest.raises(Conflict) as error:
        session_service.create_session(
            organizer, event, data(room_id=room.id, starts_at=at(10, 30), ends_at=at(11, 30)))
    assert error.value.code == "room_double_booked"
    # Back to back is fine.
    session_service.create_session(
        organizer, event, data(room_id=room.id, starts_at=at(11), ends_at=at(12)))
    session_service.set_session_status(organizer, first, "cancelled")
    session_service.create_session(
        organizer, event, data(room_id=room.id, starts_at=at(10), ends_at=at(10, 30)))


def test_field_errors_come_before_conflicts(world):
    organizer, event, room = world
    session_service.create_session(organizer, event, data(room_id=room.id))
    with pytest.raises(Invalid):  # overlapping and invalid: 422 wins
        session_service.create_session(organizer, event, data(room_id=room.id, title={}))


def test_update_moving_onto_booked_slot_is_409(world):
    organizer, event, room = world
    session_service.create_session(organizer, event, data(room_id=room.id))
    second = session_service.create_session(
        organizer, event, data(room_id=room.id, starts_at=at(12), ends_at=at(13)))
    with pytest.raises(Conflict):
        session_service.update_session(organizer, second, {"starts_at": at(10, 30)})
    assert second.starts_at == at(12)


def test_room_of_another_event_is_422(world, create_event, create_room):
    organizer, event, _ = world
    other_room = create_room(create_event(slug="other"), name="Elsewhere")
    with pytest.raises(Invalid) as error:
        session_service.create_session(organizer, event, data(room_id=other_room.id))
    assert "room_id" in error.value.fields


def test_unknown_time_zone_is_422(world):
    organizer, event, _ = world
    with pytest.raises(Invalid) as error:
        event_service.update_event(organizer, event, {"timezone": "Mars/Olympus_Mons"})
    assert "timezone" in error.value.fields


def test_moving_event_dates_away_from_sessions_is_409(world):
    organizer, event, _ = world
    session_service.create_session(organizer, event, data())
    with pytest.raises(Conflict):
        event_service.update_event(organizer, event, {"start_date": START + timedelta(days=1)})


def test_sequence_bumps_on_calendar_changes_only(world):
    organizer, event, room = world
    created = session_service.create_session(organizer, event, data())
    session_service.update_session(organizer, created, {"title": {"en": "New title"}})
    assert created.sequence == 1
    session_service.update_session(organizer, created, {"title": {"en": "New title"}})
    assert created.sequence == 1  # no change, no bump
    session_service.update_session(organizer, created, {"room_id": room.id})
    assert created.sequence == 2
    session_service.set_session_status(organizer, created, "live")
    assert created.sequence == 2  # going live is not a calendar change
    session_service.set_session_status(organizer, created, "cancelled")
    assert created.sequence == 3


LEGAL = [
    ("scheduled", "live"), ("scheduled", "delayed"), ("scheduled", "cancelled"),
    ("delayed", "live"), ("delayed", "cancelled"), ("live", "paused"), ("live", "ended"),
    ("live", "cancelled"), ("paused", "live"), ("paused", "ended"), ("paused", "cancelled"),
    ("cancelled", "scheduled"),  # reinstate
]
ALL = ("scheduled", "live", "paused", "delayed", "ended", "cancelled")
ILLEGAL = [(a, b) for a in ALL for b in ALL if a != b and (a, b) not in LEGAL]


def _put_in(organizer, event_session, status):
    path = {"scheduled": [], "live": ["live"], "paused": ["live", "paused"],
            "delayed": ["delayed"], "ended": ["live", "ended"], "cancelled": ["cancelled"]}
    for step in path[status]:
        session_service.set_session_status(
            organizer, event_session, step, 10 if step == "delayed" else None)


@pytest.mark.parametrize("before,after", LEGAL)
def test_legal_transitions(world, before, after):
    organizer, event, _ = world
    created = session_service.create_session(organizer, event, data())
    _put_in(organizer, created, before)
    session_service.set_session_status(organizer, created, after,
                                       5 if after == "delayed" else None)
    assert created.status == after


@pytest.mark.parametrize("before,after", ILLEGAL)
def test_illegal_transitions_are_409_and_change_nothing(world, before, after):
    organizer, event, _ = world
    created = session_service.create_session(organizer, event, data())
    _put_in(organizer, created, before)
    with pytest.raises(Conflict) as error:
        session_service.set_session_status(organizer, created, after,
                                           5 if after == "delayed" else None)
    assert error.value.code == "illegal_transition"
    assert created.status == before


def test_delay_needs_minutes_and_can_be_extended(world):
    organizer, event, _ = world
    created = session_service.create_session(organizer, event, data())
    with pytest.raises(Invalid):
        session_service.set_session_status(organizer, created, "delayed")
    session_service.set_session_status(organizer, created, "delayed", 10)
    session_service.set_session_status(organizer, created, "delayed", 20)
    assert created.delay_minutes == 20
    session_service.set_session_status(organizer, created, "live")
    assert created.delay_minutes == 20  # it starts late: its expected times stay as announced


def test_status_needs_a_moderator_of_the_session(world, create_user, create_session):
    organizer, event, _ = world
    moderator, stranger = create_user("moderator"), create_user("moderator")
    event_session = create_session(event, moderators=[moderator])
    with pytest.raises(Unauthorized):
        session_service.set_session_status(None, event_session, "live")
    with pytest.raises(Forbidden):
        session_service.set_session_status(stranger, event_session, "live")
    session_service.set_session_status(moderator, event_session, "live")
    assert event_session.status == "live"


# -- a session added to an event that has moved online ------------------------------------


def test_a_session_added_to_an_online_event_gets_a_video_room(client, create_user,
                                                              create_event, api_token):
    """An online session without a room would never get a join link (nothing provisions it)."""
    headers = bearer(api_token(create_user("organizer")))
    event = create_event(mode="online")
    response = client.post(f"/api/v1/events/{event.id}/sessions", headers=headers, json={
        "title": {"en": "Added late"}, "starts_at": at(10).isoformat(),
        "ends_at": at(11).isoformat()})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["mode"] == "online"
    assert body["room"] is not None and body["room"]["provider"] == "jitsi"
    provisioning.dispatcher().wait(30)
    db.session.remove()
    assert db.session.get(Session, body["id"]).video_room.state == "ready"


def test_a_session_for_an_online_event_whose_provider_is_gone_is_422_and_changes_nothing(
        client, create_user, create_event, api_token):
    headers = bearer(api_token(create_user("organizer")))
    event_id = create_event(mode="online", default_provider="zoom").id  # zoom: not configured
    before = snapshot()
    response = client.post(f"/api/v1/events/{event_id}/sessions", headers=headers, json={
        "title": {"en": "Added late"}, "starts_at": at(10).isoformat(),
        "ends_at": at(11).isoformat()})
    assert response.status_code == 422, response.get_json()
    assert "default_provider" in response.get_json()["error"]["fields"]
    assert snapshot() == before


def test_a_session_added_to_an_in_person_event_has_no_video_room(client, create_user,
                                                                 create_event, api_token):
    headers = bearer(api_token(create_user("organizer")))
    event = create_event()
    body = client.post(f"/api/v1/events/{event.id}/sessions", headers=headers, json={
        "title": {"en": "Talk"}, "starts_at": at(10).isoformat(),
        "ends_at": at(11).isoformat()}).get_json()
    assert body["mode"] == "in_person" and body["room"] is None
