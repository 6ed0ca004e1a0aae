"""Switching online end to end, for each of the six providers, against the sandbox.

The API answers at once with the room ``pending``; the background job makes it ``ready``; a
participant's personal link redirects to the provider's participant URL with their name, a
moderator gets the host URL from ``GET /sessions/<id>/room``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from lifecycle_support import make_sessions, room_of, sandbox_settings, wait_jobs

from eventhub.extensions import db
from eventhub.models import Session
from eventhub.services import provisioning
from integrations.registry import PROVIDERS
from tests.conftest import bearer

NAME = "Анна Müller"


@pytest.fixture
def app_config(app_config, sandbox):
    """The test app talks to the sandbox."""
    return {**app_config, **sandbox_settings(sandbox)}


def visit(url: str) -> dict:
    """Open a sandbox meeting page as a browser would; the simulator says who joined how."""
    response = requests.get(url, headers={"Accept": "application/json"}, timeout=5,
                            allow_redirects=True)
    return {**response.json(), "status": response.status_code}


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_switch_session_end_to_end(name, client, sandbox, create_user, create_event,
                                   create_session, create_participant, api_token):
    """Switch via the API, provision in the background, join as participant and as host."""
    moderator = create_user("moderator", name="Mod Erator")
    event = create_event(default_provider=name)
    event_session = create_session(event, moderators=[moderator], status="live")
    participant = create_participant(event, name=NAME)
    token = api_token(moderator)
    if name != "jitsi":  # Jitsi makes no provider call: nothing to hold up
        sandbox.faults.latency(name, 0.3)

    response = client.post(f"/api/v1/sessions/{event_session.id}/switch",
                           json={"mode": "online"}, headers=bearer(token))
    assert response.status_code == 200, response.json
    assert response.json["mode"] == "online"
    assert response.json["room"] == {"state": "pending", "provider": name, "error": None}

    wait_jobs()
    room = room_of(event_session)
    assert room.state == "ready", room.last_error
    assert client.get(f"/api/v1/sessions/{event_session.id}",
                      headers=bearer(token)).json["room"]["state"] == "ready"

    hosted = client.get(f"/api/v1/sessions/{event_session.id}/room", headers=bearer(token))
    assert hosted.status_code == 200, hosted.json
    host_url = hosted.json["host_url"]
    as_participant = client.get(f"/api/v1/sessions/{event_session.id}/room",
                                headers=bearer(participant.token))
    assert as_participant.status_code == 200
    assert "host_url" not in as_participant.json

    joined = client.get(f"/join/{event_session.id}?t={participant.token}")
    assert joined.status_code == 302
    join_url = joined.headers["Location"]
    provider = provisioning.provider(name)
    if provider.host_rights_by_url():  # Teams: one URL; the organizer's account hosts
        assert join_url != host_url
    page = visit(join_url)
    assert page["status"] == 200 and page["role"] == "participant"
    if name != "teams":  # Teams asks a guest's name on its own page (no URL parameter)
        assert page["name"] == NAME
    if provider.host_rights_by_url():
        assert visit(host_url)["role"] in ("host", "moderator")


def test_join_outside_window_has_no_url(client, sandbox, create_event, create_session,
                                        create_participant, create_user):
    """Before the join window the personal link shows a page, not a redirect."""
    organizer = create_user("organizer")
    event = create_event(default_provider="whereby")
    event_session = create_session(event)  # 2030: far outside the window
    participant = create_participant(event)
    from eventhub.services import switching

    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    response = client.get(f"/join/{event_session.id}?t={participant.token}")
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["bigbluebutton", "daily"])
def test_join_when_provider_is_down_is_a_page(name, client, sandbox, create_event,
                                              create_session, create_participant,
                                              create_user):
    """BBB and Daily are asked for every join URL: an outage shows a page, never a 500."""
    from eventhub.services import joining, switching

    organizer = create_user("organizer")
    event = create_event(default_provider=name)
    event_session = create_session(event, status="live")
    participant = create_participant(event)
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    assert room_of(event_session).state == "ready"
    sandbox.faults.status(name, 503, times=10)
    decision = joining.decide(participant, db.session.get(Session, event_session.id))
    assert decision.url is None and decision.reason == "room_unavailable"
    response = client.get(f"/join/{event_session.id}?t={participant.token}")
    assert response.status_code == 200
    assert "Location" not in response.headers


def test_host_url_when_zoom_is_down_is_503(client, sandbox, create_event, create_session,
                                           create_user, api_token):
    """Zoom's start URL is fetched fresh; a Zoom outage is a 503 error body, not a crash."""
    from eventhub.services import switching

    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="zoom"))
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    sandbox.faults.status("zoom", 503, times=10, method="GET")
    response = client.get(f"/api/v1/sessions/{event_session.id}/room",
                          headers=bearer(api_token(organizer)))
    assert response.status_code == 503
    assert response.json["error"]["code"] == "room_unavailable"
    assert "zoom" in response.json["error"]["message"]


@pytest.mark.parametrize("name", ["zoom", "teams", "daily"])
def test_switch_event_end_to_end(name, client, sandbox, create_user, create_event,
                                 create_session, api_token):
    """The whole event online: every session answers pending, then each has one ready room."""
    organizer = create_user("organizer")
    event = create_event(default_provider=name)
    sessions = make_sessions(create_session, event, 6)
    sandbox.faults.latency(name, 0.2, times=100)
    response = client.post(f"/api/v1/events/{event.id}/switch", json={"mode": "online"},
                           headers=bearer(api_token(organizer)))
    assert response.status_code == 200, response.json
    assert response.json["total"] == 6
    assert {item["room"]["state"] for item in response.json["items"]} == {"pending"}
    wait_jobs()
    assert {room_of(s).state for s in sessions} == {"ready"}
    assert len(sandbox.rooms(name)) == 6
    # The same switch again changes nothing and creates nothing.
    again = client.post(f"/api/v1/events/{event.id}/switch", json={"mode": "online"},
                        headers=bearer(api_token(organizer)))
    assert again.status_code == 200 and again.json["total"] == 0
    wait_jobs()
    assert sandbox.created(name) == 6


def test_rescheduled_zoom_meeting_gets_new_utc_time(client, sandbox, create_user, create_event,
                                                    create_session, api_token):
    """PATCH of a session's times reaches Zoom as a PATCH with ``start_time`` in UTC (``Z``)."""
    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="zoom"))
    client.post(f"/api/v1/sessions/{event_session.id}/switch", json={"mode": "online"},
                headers=bearer(api_token(organizer)))
    wait_jobs()
    room = room_of(event_session)
    new_start = event_session.starts_at + timedelta(hours=2)
    response = client.patch(
        f"/api/v1/sessions/{event_session.id}",
        json={"starts_at": new_start.isoformat(),
              "ends_at": (new_start + timedelta(minutes=90)).isoformat()},
        headers=bearer(api_token(organizer)),
    )
    assert response.status_code == 200, response.json
    wait_jobs()
    patches = [r for r in sandbox.received("zoom") if r.method == "PATCH"]
    assert len(patches) == 1
    sent = patches[0].json()
    assert sent["start_time"] == new_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sent["duration"] == 90
    meeting = sandbox.rooms("zoom")[room.external_id].data
    assert meeting["start_time"] == new_start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert sandbox.created("zoom") == 1


@pytest.mark.parametrize("name", ["teams", "daily"])
def test_rescheduled_room_is_updated(name, client, sandbox, create_user, create_event,
                                     create_session, api_token):
    """Teams and Daily receive the new times as an update of the same room."""
    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider=name))
    client.post(f"/api/v1/sessions/{event_session.id}/switch", json={"mode": "online"},
                headers=bearer(api_token(organizer)))
    wait_jobs()
    room = room_of(event_session)
    new_start = event_session.starts_at + timedelta(hours=1)
    response = client.patch(
        f"/api/v1/sessions/{event_session.id}",
        json={"starts_at": new_start.isoformat(),
              "ends_at": (new_start + timedelta(minutes=60)).isoformat()},
        headers=bearer(api_token(organizer)),
    )
    assert response.status_code == 200, response.json
    wait_jobs()
    updates = [r for r in sandbox.received(name)
               if r.method in ("PATCH", "POST") and room.external_id in r.path]
    assert len(updates) == 1
    assert sandbox.created(name) == 1
    assert room_of(event_session).last_error is None
