"""The board's attendance and host figures match what happened: join links opened (counted at
the redirect) and the hosts a parallel day needs on a provider with a host pool."""

from __future__ import annotations

import re

import pytest
from lifecycle_support import sandbox_settings, wait_jobs
from manage_support import sign_in

from eventhub.extensions import db
from eventhub.models import Event, Room, Session
from eventhub.services import switching
from tests.conftest import at


@pytest.fixture
def app_config(app_config, sandbox):
    providers = {**sandbox.env(), "ZOOM_HOST_USERS": "host1@zoom.sandbox.test,"
                                                     "host2@zoom.sandbox.test"}
    return {**app_config, **sandbox_settings(sandbox, PROVIDERS=providers)}


def figure(html: str, name: str) -> str:
    return re.search(rf'data-sum="{name}">([^<]*)<', html).group(1)


def build(app):
    """Three halls in parallel on Zoom, live, switched online; returns the event, the sessions
    and the organizer's API token."""
    from datetime import date, timedelta

    from eventhub.models import User
    from eventhub.services import users

    with app.app_context():
        event = Event(slug="pool", title={"en": "Pool"}, timezone="Europe/Moscow",
                      start_date=date(2030, 1, 1), end_date=date(2030, 1, 1),
                      published=True, default_provider="zoom")
        halls = [Room(event=event, name=f"Hall {n}") for n in range(3)]
        start = at(9).replace(year=2030, month=1, day=1)
        sessions = [Session(event=event, room=hall, title={"en": f"Talk {n}"}, starts_at=start,
                            ends_at=start + timedelta(hours=1), status="live")
                    for n, hall in enumerate(halls)]
        db.session.add_all([event, *halls, *sessions])
        db.session.commit()
        organizer = db.session.scalar(db.select(User).where(User.role == "organizer"))
        switching.switch_event(event, "online", actor=organizer)
        wait_jobs()
        ready = [s.id for s in sessions if s.video_room.state == "ready"]
        return event.id, ready, users.issue_api_token(organizer.email, "secret-pw-1")


def add_participant(client, token: str, event_id: int, name: str, attendance: str) -> str:
    """A participant through the API; their personal token (from access_url)."""
    response = client.post(f"/api/v1/events/{event_id}/participants",
                           headers={"Authorization": f"Bearer {token}"},
                           json={"name": name, "email": f"{name.lower()}@example.org",
                                 "attendance": attendance})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["access_url"].rsplit("/", 1)[1]


def test_opened_links_and_hosts_needed_on_the_board(app, sandbox):
    client = sign_in(app, "organizer", email="org@example.org")
    event_id, ready, api_token = build(app)
    assert len(ready) == 2  # a pool of two hosts for three parallel halls
    api = app.test_client()
    tokens = [add_participant(api, api_token, event_id, name, attendance)
              for name, attendance in (("Anna", "remote"), ("Boris", "remote"),
                                       ("Ivan", "in_person"))]
    for token in (*tokens, tokens[0]):  # Anna twice: one attendee
        assert api.get(f"/join/{ready[0]}?t={token}").status_code == 302
    page = client.get(f"/console?event={event_id}&day=2030-01-01").get_data(as_text=True)
    assert figure(page, "opened") == "2"  # remote attendees only, each once
    assert "Hosts this day needs: 3 of 2" in page
