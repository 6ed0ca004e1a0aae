"""Who actually came: join links opened, people in the meeting (Zoom webhooks, BBB's count),
and the organizers' figures per session and per delegation."""

from __future__ import annotations

import csv
import io
import re

import pytest
import requests
from lifecycle_support import room_of, sandbox_settings, wait_jobs
from zoom_support import participant_event, post_zoom_event

from eventhub.extensions import db
from eventhub.models import AgendaItem, JoinOpen, MeetingAttendance
from eventhub.services import attendance, switching
from tests.conftest import at


@pytest.fixture
def app_config(app_config, sandbox):
    return {**app_config, **sandbox_settings(sandbox)}


@pytest.fixture
def login_as(create_user):
    """Sign ``user`` in on ``client`` through the sign-in form (create_user's password)."""

    def login(client, user) -> None:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"email": user.email, "password": "secret-pw-1",
                                               "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)

    return login


@pytest.fixture
def world(ctx, create_user, create_event, create_session, create_participant):
    """A live Zoom session with two remote attendees of two delegations on its agenda, and
    one of them from Kaluga, in person."""
    organizer = create_user("organizer", email="org@example.org")
    event = create_event(default_provider="zoom")
    event_session = create_session(event, start=at(9), minutes=600, status="live",
                                   title={"en": "Plenary"})
    anna = create_participant(event, name="Анна Петрова", organization="Kaluga",
                              attendance="remote")
    jonas = create_participant(event, name="Jonas Weber", organization="Suhl",
                               attendance="remote")
    ivan = create_participant(event, name="Иван", organization="Kaluga")
    for person in (anna, jonas, ivan):
        db.session.add(AgendaItem(participant=person, session=event_session))
    db.session.commit()
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    assert room_of(event_session).state == "ready"
    return {"organizer": organizer, "event": event, "session": event_session, "anna": anna,
            "jonas": jonas, "ivan": ivan}


def figures(world):
    result = attendance.report(world["organizer"], world["event"])
    return next(s for s in result.sessions if s.session_id == world["session"].id), result


def test_opening_a_join_link_is_recorded_first_and_last(client, world):
    """Each redirect to the provider counts: first and last time, how often; a link that
    does not redirect (not a participant of the event) records nothing."""
    anna, event_session = world["anna"], world["session"]
    for _ in range(2):
        response = client.get(f"/join/{event_session.id}?t={anna.token}")
        assert response.status_code == 302
    client.get(f"/join/{event_session.id}?t=not-a-token")
    rows = db.session.query(JoinOpen).all()
    assert [(r.participant_id, r.opens) for r in rows] == [(anna.id, 2)]
    assert rows[0].first_at <= rows[0].last_at
    row, _result = figures(world)
    assert (row.expected_remote, row.opened_link, row.present) == (2, 1, 0)


def test_zoom_participant_webhooks_record_who_was_in_the_meeting(client, sandbox, world):
    """participant_joined/left are matched to participants by the name EventHub sent; a
    redelivery adds nothing; a stranger is counted apart."""
    secret = sandbox.env()["ZOOM_WEBHOOK_SECRET"]
    meeting = room_of(world["session"]).external_id
    joined = participant_event("joined", meeting, user_id="16778240", name="Анна Петрова",
                               when="2027-06-28T09:01:02Z")
    for _ in range(2):  # Zoom retries deliveries
        response = post_zoom_event(client, secret, joined)
        assert response.status_code == 200
    assert response.get_json()["status"] == "ignored"
    left = participant_event("left", meeting, user_id="16778240", name="Анна Петрова",
                             when="2027-06-28T10:00:00Z")
    assert post_zoom_event(client, secret, left).get_json()["status"] == "applied"
    stranger = participant_event("joined", meeting, user_id="99", name="Somebody",
                                 when="2027-06-28T09:05:00Z")
    assert post_zoom_event(client, secret, stranger).get_json()["status"] == "applied"
    stays = db.session.query(MeetingAttendance).order_by(MeetingAttendance.id).all()
    assert [(s.participant_id, s.left_at is not None) for s in stays] == [
        (world["anna"].id, True), (None, False)]
    row, result = figures(world)
    assert (row.present, row.unmatched_present) == (1, 1)
    kaluga = next(d for d in result.delegations if d.organization == "Kaluga")
    assert (kaluga.remote, kaluga.present) == (1, 1)


def test_a_presence_event_without_a_time_is_a_400_and_changes_nothing(client, sandbox, world):
    secret = sandbox.env()["ZOOM_WEBHOOK_SECRET"]
    body = participant_event("joined", room_of(world["session"]).external_id, user_id="1",
                             name="X", when="yesterday")
    assert post_zoom_event(client, secret, body).status_code == 400
    assert db.session.query(MeetingAttendance).count() == 0


def test_the_page_shows_the_figures_and_exports_them(client, world, login_as):
    """The organizer sees the session's row; the CSV carries the same figures."""
    client.get(f"/join/{world['session'].id}?t={world['jonas'].token}")
    login_as(client, world["organizer"])
    page = client.get(f"/manage/events/{world['event'].id}/attendance")
    assert page.status_code == 200
    assert f'data-session-id="{world["session"].id}"' in page.text
    export = client.get(f"/manage/events/{world['event'].id}/attendance?format=csv")
    rows = list(csv.DictReader(io.StringIO(export.text)))
    plenary = next(r for r in rows if r["kind"] == "session")
    assert (plenary["expected_remote"], plenary["opened_link"], plenary["present"]) == (
        "2", "1", "0")
    suhl = next(r for r in rows if r["id_or_organization"] == "Suhl")
    assert suhl["opened_link"] == "1"


def test_the_page_is_for_organizers_only(client, world, create_user, login_as):
    url = f"/manage/events/{world['event'].id}/attendance"
    assert client.get(url).status_code == 302  # to the sign-in page
    login_as(client, create_user("moderator"))
    assert client.get(url).status_code == 403


def test_bigbluebutton_counts_the_people_in_a_running_meeting(client, sandbox, ctx,
                                                             create_user, create_event,
                                                             create_session, login_as):
    """Opening the page asks BBB's getMeetingInfo (in the background) for live sessions."""
    organizer = create_user("organizer")
    event = create_event(default_provider="bigbluebutton")
    event_session = create_session(event, status="live")
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    from eventhub.services import provisioning
    from integrations.base import JoinRequest
    from integrations.registry import get_provider

    bbb = get_provider("bigbluebutton", sandbox.env())
    room = provisioning.as_room(room_of(event_session))
    for name in ("A", "B", "C"):
        url = bbb.join_url(room, JoinRequest(display_name=name))
        assert requests.get(url, headers={"Accept": "application/json"}, timeout=5).ok
    login_as(client, organizer)
    client.get(f"/manage/events/{event.id}/attendance")
    wait_jobs()
    assert room_of(event_session).participant_count == 3
    row = next(s for s in attendance.report(organizer, event).sessions)
    assert row.in_meeting_now == 3
