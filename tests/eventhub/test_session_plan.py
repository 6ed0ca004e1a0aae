"""Each session keeps its planned mode: reinstating, whole-event switches back, sessions over.

DESIGN.md's Domain: cancelled -> scheduled returns the session with its planned mode, a new
video room and a higher sequence; a cancelled or ended session refuses a switch; cancelling
deletes its provider room; ``as_planned`` restores every session's plan; sessions over are
left alone.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from lifecycle_support import room_of, sandbox_settings, wait_jobs

from eventhub.errors import Conflict
from eventhub.extensions import db
from eventhub.models import utcnow
from eventhub.services import sessions as session_service
from eventhub.services import switching
from tests.conftest import at, bearer


@pytest.fixture
def app_config(app_config, sandbox):
    return {**app_config, **sandbox_settings(sandbox)}


@pytest.fixture
def organizer(create_user):
    return create_user("organizer")


@pytest.fixture
def event(create_event):
    return create_event(default_provider="daily")


def planned(create_session, event, mode, hour):
    event_session = create_session(event, start=at(hour), mode=mode, planned_mode=mode)
    return event_session


def test_create_keeps_the_plan_not_the_event_switch(organizer, event):
    switching.switch_event(event, "online", actor=organizer)
    created = session_service.create_session(
        organizer, event, {"title": {"en": "T"}, "starts_at": at(10), "ends_at": at(11)})
    wait_jobs()
    assert created.mode == "online" and created.planned_mode == "in_person"


def test_online_then_in_person_then_as_planned_restores_hybrid(organizer, event, sandbox,
                                                              create_session):
    hybrid = planned(create_session, event, "hybrid", 10)
    plain = planned(create_session, event, "in_person", 12)
    switching.switch_event(event, "online", actor=organizer)
    wait_jobs()
    switching.switch_event(event, "in_person", actor=organizer)
    wait_jobs()
    db.session.expire_all()
    assert (hybrid.mode, plain.mode) == ("in_person", "in_person")
    assert hybrid.planned_mode == "hybrid"
    switching.switch_event(event, "as_planned", actor=organizer)
    wait_jobs()
    db.session.expire_all()
    assert (hybrid.mode, plain.mode) == ("hybrid", "in_person")
    assert room_of(hybrid).state == "ready"
    assert plain.video_room.state == "deleted"
    assert sandbox.rooms("daily") and len(list(sandbox.rooms("daily"))) == 1
    assert event.mode == "in_person"


def test_as_planned_over_rest(client, organizer, event, api_token, create_session):
    hybrid = planned(create_session, event, "hybrid", 10)
    token = api_token(organizer)
    response = client.post(f"/api/v1/events/{event.id}/switch", json={"mode": "as_planned"},
                           headers=bearer(token))
    assert response.status_code == 200, response.get_json()
    wait_jobs()
    assert [s["id"] for s in response.get_json()["items"]] == []  # already as planned
    body = client.get(f"/api/v1/sessions/{hybrid.id}").get_json()
    assert body["planned_mode"] == "hybrid"


def test_organizer_edit_of_the_mode_changes_the_plan(client, organizer, event, api_token,
                                                     create_session):
    event_session = planned(create_session, event, "in_person", 10)
    response = client.patch(f"/api/v1/sessions/{event_session.id}", json={"mode": "hybrid"},
                            headers=bearer(api_token(organizer)))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["mode"] == "hybrid" and body["planned_mode"] == "hybrid"
    assert body["sequence"] >= 1 and body["room"]["state"] == "pending"
    wait_jobs()
    assert room_of(event_session).state == "ready"


def test_a_switch_does_not_change_the_plan(organizer, event, create_session):
    event_session = planned(create_session, event, "in_person", 10)
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    assert event_session.planned_mode == "in_person"


def test_whole_event_switch_leaves_sessions_over_alone(organizer, create_event, create_session,
                                                       sandbox):
    today = utcnow().date()
    event = create_event(default_provider="daily", start_date=today - timedelta(days=1),
                         end_date=today + timedelta(days=1))
    now = utcnow()
    over = create_session(event, start=now - timedelta(hours=3), minutes=60)
    running = create_session(event, start=now - timedelta(minutes=10), minutes=60)
    delayed_over = create_session(event, start=now - timedelta(minutes=90), minutes=60,
                                  status="delayed", delay_minutes=60)  # expected end: +30 min
    moved = switching.switch_event(event, "online", actor=organizer)
    wait_jobs()
    assert {s.id for s in moved} == {running.id, delayed_over.id}
    db.session.expire_all()
    assert over.mode == "in_person" and over.video_room is None
    assert over.is_over(utcnow()) and not running.is_over(utcnow())


@pytest.mark.parametrize("status", ["cancelled", "ended"])
def test_a_finished_session_refuses_a_switch(organizer, event, create_session, status):
    event_session = create_session(event, status=status)
    with pytest.raises(Conflict):
        switching.switch_session(event_session, "online", actor=organizer)
    db.session.expire_all()
    assert event_session.mode == "in_person" and event_session.video_room is None


def test_a_cancelled_session_refuses_a_switch_over_rest_with_409(client, organizer, event,
                                                                create_session, api_token):
    event_session = create_session(event, status="cancelled")
    response = client.post(f"/api/v1/sessions/{event_session.id}/switch",
                           json={"mode": "online"}, headers=bearer(api_token(organizer)))
    assert response.status_code == 409


def test_cancel_deletes_the_provider_room_and_reinstate_makes_a_new_one(
        organizer, event, create_session, sandbox):
    event_session = create_session(event)
    session_service.update_session(organizer, event_session, {"mode": "hybrid"})  # the plan
    wait_jobs()
    first = room_of(event_session)
    assert first.state == "ready" and list(sandbox.rooms("daily")) == [first.external_id]
    first_key, sequence = first.generation, event_session.sequence
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    session_service.set_session_status(organizer, event_session, "cancelled")
    wait_jobs()
    assert room_of(event_session).state == "deleted"
    assert list(sandbox.rooms("daily")) == []
    session_service.set_session_status(organizer, event_session, "scheduled")
    wait_jobs()
    db.session.expire_all()
    again = room_of(event_session)
    assert event_session.status == "scheduled" and event_session.mode == "hybrid"
    assert event_session.sequence > sequence
    assert again.state == "ready" and again.generation > first_key
    assert list(sandbox.rooms("daily")) == [again.external_id]


def test_reinstating_an_in_person_session_makes_no_room(organizer, event, create_session):
    event_session = create_session(event)
    session_service.set_session_status(organizer, event_session, "cancelled")
    cancelled_sequence = event_session.sequence
    session_service.set_session_status(organizer, event_session, "scheduled")
    assert event_session.status == "scheduled" and event_session.video_room is None
    assert event_session.sequence > cancelled_sequence


def test_ended_is_still_final(organizer, event, create_session):
    event_session = create_session(event, status="ended")
    with pytest.raises(Conflict):
        session_service.set_session_status(organizer, event_session, "scheduled")
