"""The programme as the core keeps it: sessions added to an event that has moved online."""

from __future__ import annotations

from eventhub.extensions import db
from eventhub.models import Session
from eventhub.services import provisioning
from tests.conftest import at, bearer
from tests.eventhub.test_bad_input import snapshot


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
