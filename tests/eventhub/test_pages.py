"""The web pages with the Flask test client: every page in every language, and who sees what."""

from __future__ import annotations

import re

import pytest
from pages_support import (
    LANGS,
    csrf,
    local_day,
    login,
    open_page,
    pages,
    session_ids,
)

from eventhub.extensions import db
from eventhub.models import Participant, Session
from eventhub.services import access
from tests.browser.world import PASSWORD


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_renders_in_each_language(app, world, lang):
    for name, (who, path) in pages(world).items():
        response = open_page(app, world, who, path, lang)
        expected = 404 if name == "not-found" else (302 if name == "index" else 200)
        assert response.status_code == expected, name
        if expected != 302:
            html = response.get_data(as_text=True)
            assert f'<html lang="{lang}">' in html, name
            assert 'name="viewport"' in html


def test_programme_groups_by_day_and_hall_with_badges_and_links(client, world):
    html = client.get(f"/events/{world.slug}?lang=en").get_data(as_text=True)
    assert html.count('<section class="day"') == 2  # today and tomorrow
    for hall in ("A-101", "B-202", "C-303"):
        assert f"<h3>{hall}</h3>" in html
    assert "Now and next" in html
    assert ">delayed" not in html and ">live</span>" in html and ">cancelled</span>" in html
    assert "webcal://eventhub.test/calendars/events/" in html
    assert "calendar.google.com" in html and "outlook.live.com" in html
    assert f"/calendars/sessions/{world.now_id}.ics" in html
    for sid in (world.now_id, world.ready_id, world.tomorrow_id):
        assert re.search(rf'data-session-id="{sid}" data-status="\w+" data-mode="\w+"', html)


def test_track_filter_is_a_plain_link(client, world):
    html = client.get(f"/events/{world.slug}?track=Kultur").get_data(as_text=True)
    programme = html.split('<section class="day"', 1)[1]  # "now and next" covers every hall
    assert session_ids(programme) == {world.ready_id, world.failed_id}
    assert 'aria-current="page">Kultur</a>' in html


def test_session_page_times_in_event_zone_and_locale(client, world, app):
    with app.app_context():
        event_session = db.session.get(Session, world.now_id)
        starts = event_session.starts_at
    from zoneinfo import ZoneInfo

    local = starts.astimezone(ZoneInfo("Europe/Moscow")).strftime("%H:%M")
    html = client.get(f"/sessions/{world.now_id}?lang=ru").get_data(as_text=True)
    assert f">{local}</time>" in html and "(Москва)" in html and "(Europe/Moscow)" not in html
    assert "data-viewer-time" in html and "Докладчики" in html and "Boris Becker" in html


def test_participant_join_button_and_opens_at(app, world):
    client = app.test_client()
    client.get(f"/p/{world.anna_token}?lang=en")
    ready = client.get(f"/sessions/{world.ready_id}").get_data(as_text=True)
    link = f'href="/join/{world.ready_id}?t={world.anna_token}"'
    assert link in ready and f"{link} hidden" not in ready
    soon = client.get(f"/sessions/{world.soon_id}").get_data(as_text=True)
    assert f'href="/join/{world.soon_id}?t={world.anna_token}" hidden' in soon
    assert "The join link opens on" in soon and "data-join-opens-at=" in soon
    anonymous = app.test_client().get(f"/sessions/{world.ready_id}").get_data(as_text=True)
    assert "/join/" not in anonymous


def test_participant_pages_never_show_another_token(app, world):
    client = app.test_client()
    client.get(f"/p/{world.anna_token}")
    for path in (f"/p/{world.anna_token}", f"/events/{world.slug}", f"/sessions/{world.ready_id}",
                 f"/sessions/{world.tomorrow_id}", f"/join/{world.soon_id}?t={world.anna_token}"):
        html = client.get(path).get_data(as_text=True)
        assert world.boris_token not in html, path
    agenda = client.get(f"/p/{world.anna_token}").get_data(as_text=True)
    assert f"webcal://eventhub.test/calendars/p/{world.anna_token}.ics" in agenda
    assert f"http://eventhub.test/calendars/p/{world.anna_token}.ics" in agenda


def test_agenda_add_remove_and_invitation(app, world):
    client = app.test_client()
    html = client.get(f"/p/{world.anna_token}?lang=en").get_data(as_text=True)
    assert {world.now_id, world.ready_id} <= session_ids(html.split('id="more"')[0])
    url = f"/p/{world.anna_token}/agenda"
    assert client.post(url, data={"session_id": world.tomorrow_id, "action": "add"}
                       ).status_code == 400  # no CSRF token
    token = csrf(html)
    response = client.post(url, data={"session_id": world.tomorrow_id, "action": "add",
                                      "csrf_token": token})
    assert response.status_code == 303
    client.post(url, data={"session_id": world.now_id, "action": "remove", "csrf_token": token})
    html = client.get(f"/p/{world.anna_token}").get_data(as_text=True)
    chosen = session_ids(html.split('id="more"')[0])
    assert world.tomorrow_id in chosen and world.now_id not in chosen
    assert "Added to your agenda." in html and "Removed from your agenda." in html
    client.post(f"/p/{world.anna_token}/invitation", data={"status": "declined",
                                                           "csrf_token": token})
    with app.app_context():
        anna = db.session.query(Participant).filter_by(
            token_digest=access.digest(world.anna_token)).one()
        assert anna.invitation_status == "declined"


def test_console_requires_login(client, world):
    response = client.get("/console")
    assert response.status_code == 302 and "/login?next=/console" in response.location
    response = client.post(f"/console/sessions/{world.now_id}/switch", data={"mode": "online"})
    assert response.status_code == 400  # no CSRF token, no session: refused before anything


def test_moderator_sees_and_drives_only_their_sessions(app, world):
    client = app.test_client()
    login(client, world.moderator)
    html = client.get("/console?lang=en").get_data(as_text=True)
    mine = {world.now_id, world.soon_id, world.ready_id, world.failed_id}
    assert session_ids(html) == mine
    assert "data-event-switch" not in html  # the whole-event switch is for organizers
    token = csrf(html)
    response = client.post(f"/console/sessions/{world.tomorrow_id}/switch",
                           data={"mode": "online", "csrf_token": token})
    assert response.status_code == 303
    assert "Not done: You may not do this." in client.get("/console?lang=en").get_data(
        as_text=True)
    response = client.get(f"/console/events/{world.event_id}/switch?mode=online")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Session, world.tomorrow_id).mode == "in_person"

    response = client.post(f"/console/sessions/{world.now_id}/switch",
                           data={"mode": "online", "csrf_token": token})
    assert response.status_code == 303
    client.post(f"/console/sessions/{world.now_id}/status",
                data={"status": "delayed", "delay_minutes": "10", "csrf_token": token})
    with app.app_context():
        event_session = db.session.get(Session, world.now_id)
        assert event_session.mode == "online" and event_session.video_room is not None
        assert (event_session.status, event_session.delay_minutes) == ("delayed", 10)
    # An illegal transition is refused with a message, and changes nothing.
    client.post(f"/console/sessions/{world.now_id}/status",
                data={"status": "paused", "csrf_token": token})
    html = client.get("/console?lang=en").get_data(as_text=True)
    assert "Not done: This change is not possible in the current state." in html
    with app.app_context():
        assert db.session.get(Session, world.now_id).status == "delayed"


def test_organizer_sees_all_and_switches_whole_event_after_confirmation(app, world):
    client = app.test_client()
    login(client, world.organizer)
    html = client.get("/console?lang=en").get_data(as_text=True)
    assert world.tomorrow_id in session_ids(html)
    confirm = client.get(f"/console/events/{world.event_id}/switch?mode=online&lang=en")
    page = confirm.get_data(as_text=True)
    assert "3 sessions move online." in page  # running, soon, tomorrow
    assert "1 session is over and stays as it is." in page  # the cancelled one
    assert "1 failed video room is tried again." in page
    client.post(f"/console/events/{world.event_id}/switch",
                data={"mode": "online", "csrf_token": csrf(page)})
    with app.app_context():
        modes = {s.id: s.mode for s in db.session.query(Session)}
    assert modes[world.now_id] == modes[world.tomorrow_id] == "online"
    assert modes[world.cancelled_id] == "in_person"
    assert "3 sessions moved: online." in client.get("/console").get_data(as_text=True)


def test_failed_room_shows_error_and_retry(app, world):
    client = app.test_client()
    login(client, world.moderator)
    html = client.get(f"/console?lang=en&day={local_day(app, world.failed_id)}").get_data(
        as_text=True)
    item = html.split(f'id="s{world.failed_id}"')[1].split("</article>")[0]
    assert "room failed" in item and "provider refused the room" in item
    assert re.search(r"data-retry>", item)  # the retry form is shown (not hidden)
    room = client.get(f"/console/sessions/{world.failed_id}/room").get_json()
    assert room["state"] == "failed" and "refused" in room["error"]


def test_host_link_only_for_the_sessions_moderators(app, world):
    path = f"/console/sessions/{world.ready_id}/host"
    assert app.test_client().get(path).status_code == 401
    participant = app.test_client()
    participant.get(f"/p/{world.anna_token}")
    assert participant.get(path).status_code == 401
    other = app.test_client()
    login(other, world.other_moderator)
    assert other.get(path).status_code == 403
    assert other.get(f"/console/sessions/{world.ready_id}/room").status_code == 403
    moderator = app.test_client()
    login(moderator, world.moderator)
    response = moderator.get(path)
    assert response.status_code == 302 and response.location.startswith("https://meet.jit.si/")
    console = moderator.get("/console").get_data(as_text=True)
    assert "meet.jit.si" not in console  # host URLs never sit in a page
    assert moderator.get(f"/console/sessions/{world.soon_id}/host").status_code == 409


def test_login_rejects_open_redirects(client, world):
    token = csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/x", data={
        "email": world.moderator, "password": PASSWORD, "csrf_token": token})
    assert response.location == "/console"


def test_retry_provisions_a_failed_room_again(app, world):
    from eventhub.services import provisioning

    client = app.test_client()
    login(client, world.moderator)
    token = csrf(client.get("/console").get_data(as_text=True))
    client.post(f"/console/sessions/{world.failed_id}/switch",
                data={"mode": "online", "csrf_token": token})
    with app.app_context():
        provisioning.dispatcher().wait(10)
        room = db.session.get(Session, world.failed_id).video_room
        assert (room.state, room.last_error) == ("ready", None)


def test_session_principal_reads_the_browser_session(app, world):
    from flask import session

    from eventhub.models import User
    from eventhub.services import access
    from eventhub.services.access import session_principal

    with app.test_request_context():
        assert session_principal() is None
        anna = db.session.query(Participant).filter_by(
            token_digest=access.digest(world.anna_token)).one()
        session.update(participant_id=anna.id, ptd=access.digest(anna.token))
        assert session_principal() is anna
        session["ptd"] = access.digest("a rotated token")
        assert session_principal() is None
        moderator = db.session.query(User).filter_by(email=world.moderator).one()
        session["user_id"] = moderator.id
        assert session_principal() is moderator


def test_bad_form_numbers_are_refused(app, world):
    client = app.test_client()
    token = csrf(client.get(f"/p/{world.anna_token}").get_data(as_text=True))
    for raw in (str(2**64), "²", "٣"):
        response = client.post(f"/p/{world.anna_token}/agenda",
                               data={"session_id": raw, "action": "add", "csrf_token": token})
        assert response.status_code == 400
    login(client, world.moderator)
    token = csrf(client.get("/console").get_data(as_text=True))
    client.post(f"/console/sessions/{world.soon_id}/status",
                data={"status": "delayed", "delay_minutes": "٣", "csrf_token": token})
    with app.app_context():
        assert db.session.get(Session, world.soon_id).status == "scheduled"
