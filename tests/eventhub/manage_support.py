"""Helpers for the back-office handler tests: accounts, signing in, CSRF tokens, field errors.

The app context is pushed per call, never for the whole test: Flask reuses a pushed app context
for the client's requests, and Flask-WTF would then keep one CSRF token in ``g`` across them.
"""

from __future__ import annotations

import html as html_lib
import re
import uuid

from eventhub.extensions import db
from eventhub.models import User
from tests.conftest import password_hash

PASSWORD = "secret-pw-1"


def add_user(app, role: str = "organizer", email: str | None = None, active: bool = True) -> int:
    """A new account; its id."""
    with app.app_context():
        count = db.session.query(User).count()
        user = User(email=email or f"{role}{count}@example.org", role=role, active=active,
                    password_hash=password_hash(PASSWORD))
        db.session.add(user)
        db.session.commit()
        return user.id


def csrf(html: str) -> str:
    """The CSRF token on a page."""
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def sign_in(app, role: str = "organizer", email: str | None = None):
    """A test client signed in with a new account of ``role``."""
    client = app.test_client()
    email = email or f"{role}-{uuid.uuid4().hex[:12]}@example.org"
    add_user(app, role, email)
    token = csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302
    return client


def post(client, path: str, data: dict | None = None, **kwargs):
    """POST a form with the CSRF token of the page at ``path`` (GET first)."""
    token = csrf(client.get(path.split("#")[0]).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def field_errors(html: str) -> dict[str, str]:
    """The messages shown beside fields: {field id: message}."""
    return {name: html_lib.unescape(text.strip()) for name, text in re.findall(
        r'<p class="field-error" id="([\w-]+)-error">([^<]*)</p>', html)}


def world_ids(app):
    """:func:`tests.browser.world.build_world`'s conference, and a hall and participant id."""
    from eventhub.models import Participant, Room
    from tests.browser.world import build_world

    with app.app_context():
        world = build_world(password_hash(PASSWORD))
        room_id = db.session.query(Room).filter_by(event_id=world.event_id).first().id
        participant_id = db.session.query(Participant).filter_by(
            event_id=world.event_id).first().id
        user_id = db.session.query(User).filter_by(email=world.moderator).one().id
    return world, room_id, participant_id, user_id


def manage_pages(world, room_id: int, participant_id: int) -> dict[str, str]:
    """Every back-office page of this branch (GET): name -> path."""
    event = world.event_id
    return {
        "events": "/manage",
        "event-new": "/manage/events/new",
        "event-settings": f"/manage/events/{event}",
        "rooms": f"/manage/events/{event}/rooms",
        "room-delete": f"/manage/rooms/{room_id}/delete",
        "programme": f"/manage/events/{event}/programme",
        "session-new": f"/manage/events/{event}/sessions/new",
        "session-edit": f"/manage/sessions/{world.now_id}",
        "session-cancel": f"/manage/sessions/{world.now_id}/cancel",
        "session-delete": f"/manage/sessions/{world.now_id}/delete",
        "participants": f"/manage/events/{event}/participants",
        "participant-new": f"/manage/events/{event}/participants/new",
        "participant-edit": f"/manage/participants/{participant_id}",
        "participant-rotate": f"/manage/participants/{participant_id}/rotate",
        "participant-delete": f"/manage/participants/{participant_id}/delete",
        "participants-import": f"/manage/events/{event}/participants/import",
        "users": "/manage/users",
    }


def manage_posts(world, room_id: int, participant_id: int, user_id: int) -> dict[str, str]:
    """Every back-office form target of this branch (POST): name -> path."""
    event = world.event_id
    return {
        "event-new": "/manage/events/new",
        "event-settings": f"/manage/events/{event}",
        "event-publish": f"/manage/events/{event}/publish",
        "rooms": f"/manage/events/{event}/rooms",
        "room-update": f"/manage/rooms/{room_id}",
        "room-delete": f"/manage/rooms/{room_id}/delete",
        "session-new": f"/manage/events/{event}/sessions/new",
        "session-edit": f"/manage/sessions/{world.now_id}",
        "session-status": f"/manage/sessions/{world.now_id}/status",
        "session-delete": f"/manage/sessions/{world.now_id}/delete",
        "participant-new": f"/manage/events/{event}/participants/new",
        "participant-edit": f"/manage/participants/{participant_id}",
        "participant-rotate": f"/manage/participants/{participant_id}/rotate",
        "participant-delete": f"/manage/participants/{participant_id}/delete",
        "participants-import": f"/manage/events/{event}/participants/import",
        "users": "/manage/users",
        "user-password": f"/manage/users/{user_id}/password",
        "user-active": f"/manage/users/{user_id}/active",
    }
