"""Response headers: a Content-Security-Policy without inline code, no framing, no sniffing,
nothing cached of the pages and redirects that carry a personal token, and no page URL sent to
other sites."""

from __future__ import annotations

from datetime import timedelta

import pytest

from eventhub.extensions import db
from eventhub.models import VideoRoom, utcnow
from tests.conftest import bearer


@pytest.fixture
def world(create_user, create_event, create_session, create_participant, api_token):
    now = utcnow()
    event = create_event(start_date=(now - timedelta(days=1)).date(),
                         end_date=(now + timedelta(days=1)).date())
    live = create_session(event, start=now - timedelta(minutes=5), mode="online", status="live")
    db.session.add(VideoRoom(session=live, provider="jitsi", state="ready", external_id="x",
                             data={"url": "https://meet.example/x"}, host_data={}))
    db.session.commit()
    participant = create_participant(event, attendance="remote")
    return {"event": event, "session": live.id, "token": participant.token,
            "organizer": api_token(create_user("organizer"))}


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/", "/login", "/events/conf", "/api/v1/events", "/healthz",
                                  "/calendars/events/1.ics", "/no-such-page"])
def test_every_response_has_the_policy_and_nosniff(client, world, path):
    response = client.get(path, headers=bearer(world["organizer"]))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = directives(response)
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert policy["script-src"] == "script-src 'self'"
    assert policy["style-src"] == "style-src 'self'"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_personal_pages_and_the_join_redirect_are_not_stored(client, world):
    page = client.get(f"/p/{world['token']}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    join = client.get(f"/join/{world['session']}?t={world['token']}")
    assert join.status_code == 302
    assert join.headers["Cache-Control"] == "no-store"
    assert client.get("/events/conf").headers.get("Cache-Control") != "no-store"


def test_pages_never_send_their_url_to_other_sites(client, create_event, create_participant):
    participant = create_participant(create_event())
    response = client.get(f"/p/{participant.token}")
    assert response.headers["Referrer-Policy"] == "same-origin"
