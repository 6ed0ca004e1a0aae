"""Every route, page, feed and Socket.IO event for every kind of caller, complete by
construction: a rule of ``app.url_map`` or a handler of the ``/live`` namespace without a row
here fails ``test_every_route_and_live_event_has_a_row``, so a route added later cannot be
missed.

Each row says, per caller, the status (or the ack's error code) DESIGN.md's access rules give.
Each caller starts from the same world (the SQLite file is restored between them); a refused
request changes nothing in the database; no answer carries the moderator's host link (the
Whereby simulator's ``hostRoomUrl``) except the two places meant for the session's moderators
and organizers, nor another participant's token except to organizers.

Callers sign in the way they would: participants with their personal link (pages) or token
(API, sockets), users with the sign-in form (pages) or an API token (API, sockets). A route with
``<token>`` in its path gets the caller's own token, or for callers without one a token that
does not exist. tests/eventhub/test_access_matrix.py has the API's finer cases (unpublished
events, the order of checks).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import live_support
import pytest
from flask import Flask
from lifecycle_support import sandbox_settings
from sqlalchemy import func, select

from eventhub import create_app
from eventhub.extensions import db
from eventhub.live.namespace import LiveNamespace
from eventhub.models import (
    AgendaItem,
    ApiToken,
    Event,
    OutboxMail,
    Participant,
    Room,
    Session,
    User,
    VideoRoom,
)
from eventhub.services import access, invitations, provisioning
from integrations.base import RoomRequest
from integrations.whereby import WherebyProvider
from tests.conftest import START, at, bearer, close_app, password_hash
from tests.eventhub.manage_support import PASSWORD, csrf

live_server = live_support.live_server

#: The callers, in the order of every row's statuses.
ACTORS = ("anonymous", "other_participant", "other_moderator", "participant", "official",
          "moderator", "organizer")
EVERYONE = (200,) * 7
ORGANIZERS_API = (401, 403, 403, 403, 403, 403, 200)
#: A back-office page: sign in first (302), moderators may not (403).
MANAGE = (302, 302, 403, 302, 302, 403, 200)
MANAGE_POST = (302, 302, 403, 302, 302, 403, 303)
SIGNED_IN = (302, 302, 200, 302, 302, 200, 200)
INCOMPLETE = (302, 302, 403, 302, 302, 403, 422)
#: Those who work on an unpublished event see it; to everyone else it does not exist.
STAFF = (404, 404, 404, 404, 404, 200, 200)

SESSION = {"title": {"en": "New"}, "starts_at": at(15).isoformat(),
           "ends_at": at(16).isoformat()}
EVENT = {"slug": "new-event", "title": {"en": "New"}, "timezone": "Europe/Berlin",
         "start_date": "2030-01-01", "end_date": "2030-01-02"}
PERSON = {"name": "New Person", "email": "new@example.org"}
INVITE = {"invitees": [{"name": "Ivan", "email": "ivan@example.org"}]}
SESSION_FORM = {"title.en": "New", "starts_at": "2030-06-28T15:00", "ends_at": "2030-06-28T16:00",
                "mode": "in_person"}
PERSON_FORM = {"name": "New Person", "email": "new@example.org", "role": "guest",
               "attendance": "in_person", "language": "en"}

#: (method, rule): (body, statuses per ACTORS). API bodies are JSON; page bodies are forms
#: (sent with the CSRF token of the caller's own session, so that only the guard can refuse).
ROUTES: dict[tuple[str, str], tuple[dict | None, tuple[int, ...]]] = {
    # -- REST API --------------------------------------------------------------------------
    ("GET", "/api/v1/openapi.json"): (None, EVERYONE),
    ("POST", "/api/v1/tokens"): ({"email": "moderator@example.org", "password": PASSWORD},
                                 (201,) * 7),
    ("DELETE", "/api/v1/tokens/current"): (None, (401, 401, 204, 401, 401, 204, 204)),
    ("GET", "/api/v1/events"): (None, EVERYONE),
    ("POST", "/api/v1/events"): (EVENT, (401, 403, 403, 403, 403, 403, 201)),
    ("GET", "/api/v1/events/<int:event_id>"): (None, EVERYONE),
    ("PATCH", "/api/v1/events/<int:event_id>"): ({"venue": "Tula"}, ORGANIZERS_API),
    ("GET", "/api/v1/events/<int:event_id>/rooms"): (None, EVERYONE),
    ("POST", "/api/v1/events/<int:event_id>/rooms"): ({"name": "Hall Z"},
                                                      (401, 403, 403, 403, 403, 403, 201)),
    ("PATCH", "/api/v1/rooms/<int:room_id>"): ({"name": "Hall Y"}, ORGANIZERS_API),
    ("DELETE", "/api/v1/rooms/<int:room_id>"): (None, (401, 403, 403, 403, 403, 403, 409)),
    ("GET", "/api/v1/events/<int:event_id>/sessions"): (None, EVERYONE),
    ("POST", "/api/v1/events/<int:event_id>/sessions"): (SESSION,
                                                         (401, 403, 403, 403, 403, 403, 201)),
    ("POST", "/api/v1/events/<int:event_id>/switch"): ({"mode": "online"}, ORGANIZERS_API),
    # No file: the guard let the organizer through to a 400.
    ("POST", "/api/v1/events/<int:event_id>/import"): (None, (401, 403, 403, 403, 403, 403, 400)),
    ("GET", "/api/v1/sessions/<int:session_id>"): (None, EVERYONE),
    ("PATCH", "/api/v1/sessions/<int:session_id>"): ({"track": "x"}, ORGANIZERS_API),
    ("DELETE", "/api/v1/sessions/<int:session_id>"): (None, (401, 403, 403, 403, 403, 403, 204)),
    ("POST", "/api/v1/sessions/<int:session_id>/switch"): (
        {"mode": "in_person"}, (401, 403, 403, 403, 403, 200, 200)),
    ("POST", "/api/v1/sessions/<int:session_id>/status"): (
        {"status": "live"}, (401, 403, 403, 403, 403, 200, 200)),
    ("GET", "/api/v1/sessions/<int:session_id>/room"): (None, EVERYONE),
    ("GET", "/api/v1/events/<int:event_id>/participants"): (None, ORGANIZERS_API),
    ("POST", "/api/v1/events/<int:event_id>/participants"): (
        PERSON, (401, 403, 403, 403, 403, 403, 201)),
    ("GET", "/api/v1/participants/<int:participant_id>"): (
        None, (401, 404, 404, 200, 404, 404, 200)),
    ("PATCH", "/api/v1/participants/<int:participant_id>"): (
        {"language": "de"}, (401, 404, 404, 200, 404, 404, 200)),
    ("DELETE", "/api/v1/participants/<int:participant_id>"): (
        None, (401, 404, 404, 403, 404, 404, 204)),
    ("POST", "/api/v1/participants/<int:participant_id>/token"): (
        None, (401, 404, 404, 403, 404, 404, 200)),
    ("POST", "/api/v1/participants/<int:participant_id>/invitation"): (
        {"status": "accepted"}, (401, 404, 404, 200, 404, 404, 200)),
    ("GET", "/api/v1/participants/<int:participant_id>/agenda"): (
        None, (401, 404, 404, 200, 404, 404, 200)),
    ("GET", "/api/v1/participants/<int:participant_id>/agenda/<int:session_id>"): (
        None, (401, 404, 404, 200, 404, 404, 200)),
    ("PUT", "/api/v1/participants/<int:participant_id>/agenda/<int:session_id>"): (
        None, (401, 404, 404, 200, 404, 404, 200)),
    ("DELETE", "/api/v1/participants/<int:participant_id>/agenda/<int:session_id>"): (
        None, (401, 404, 404, 204, 404, 404, 204)),
    ("POST", "/api/v1/events/<int:event_id>/invitations"): (
        INVITE, (401, 403, 403, 403, 200, 403, 200)),
    ("GET", "/api/v1/events/<int:event_id>/delegations"): (None, ORGANIZERS_API),
    ("POST", "/api/v1/events/<int:event_id>/delegations/invitations"): (
        {"organization": "Kaluga"}, ORGANIZERS_API),
    ("POST", "/api/v1/events/<int:event_id>/reminders"): (None, ORGANIZERS_API),
    # -- public pages and feeds ----------------------------------------------------------
    ("GET", "/healthz"): (None, EVERYONE),
    ("GET", "/static/<path:filename>"): (None, EVERYONE),
    ("GET", "/"): (None, EVERYONE),
    ("GET", "/events/<slug>"): (None, EVERYONE),
    ("GET", "/sessions/<int:session_id>"): (None, EVERYONE),
    ("GET", "/calendars/events/<int:event_id>.ics"): (None, EVERYONE),
    ("GET", "/calendars/sessions/<int:session_id>.ics"): (None, EVERYONE),
    ("GET", "/calendars/p/<token>.ics"): (None, (404, 200, 404, 200, 200, 404, 404)),
    # Joining: only the event's participants, with their own token (Bob's is another
    # event's); the window has not opened, so the page says when it will.
    ("GET", "/join/<int:session_id>"): (None, (404, 404, 404, 200, 200, 404, 404)),
    ("POST", "/integrations/<provider>/webhook"): ({}, (401,) * 7),  # unsigned
    ("GET", "/login"): (None, EVERYONE),
    ("POST", "/login"): ({"email": "nobody@example.org", "password": "wrong-password"},
                         (401,) * 7),
    ("POST", "/logout"): ({}, (302,) * 7),
    # -- a participant's own pages: the personal link is the credential ------------------
    ("GET", "/p/<token>"): (None, (404, 200, 404, 200, 200, 404, 404)),
    ("POST", "/p/<token>/agenda"): ({"session_id": "{session_id}", "action": "add"},
                                    (404, 303, 404, 303, 303, 404, 404)),
    ("POST", "/p/<token>/invitation"): ({"status": "accepted", "attendance": "remote"},
                                        (404, 303, 404, 303, 303, 404, 404)),
    ("POST", "/p/<token>/invitations"): ({"name": "Ivan", "email": "ivan@example.org",
                                         "organization": "Kaluga"},
                                        (404, 403, 404, 403, 303, 404, 404)),
    ("GET", "/p/<token>/unsubscribe"): (None, (404, 200, 404, 200, 200, 404, 404)),
    ("POST", "/p/<token>/unsubscribe"): ({}, (404, 200, 404, 200, 200, 404, 404)),
    # -- the operations board ----------------------------------------------------------
    ("GET", "/console"): (None, SIGNED_IN),
    ("POST", "/console/sessions/<int:session_id>/switch"): (
        {"mode": "in_person"}, (302, 302, 303, 302, 302, 303, 303)),
    ("POST", "/console/sessions/<int:session_id>/status"): (
        {"status": "live"}, (302, 302, 303, 302, 302, 303, 303)),
    ("GET", "/console/sessions/<int:session_id>/room"): (
        None, (401, 401, 403, 401, 401, 200, 200)),
    ("GET", "/console/sessions/<int:session_id>/host"): (
        None, (401, 401, 403, 401, 401, 302, 302)),
    ("GET", "/console/events/<int:event_id>/switch"): (None, (302, 302, 403, 302, 302, 403, 200)),
    ("POST", "/console/events/<int:event_id>/switch"): (
        {"mode": "online"}, (302, 302, 403, 302, 302, 403, 303)),
    ("GET", "/console/events/<int:event_id>/preview"): (
        None, (401, 401, 403, 401, 401, 403, 200)),
    # -- the back office -----------------------------------------------------------------
    ("GET", "/manage"): (None, MANAGE),
    ("GET", "/manage/events/new"): (None, MANAGE),
    ("POST", "/manage/events/new"): ({"slug": "new-event", "title.en": "New",
                                      "timezone": "Europe/Berlin", "start_date": "2030-01-01",
                                      "end_date": "2030-01-02"}, MANAGE_POST),
    ("GET", "/manage/events/<int:event_id>"): (None, MANAGE),
    # An incomplete form: past the guard, the organizer's is refused field by field (422).
    ("POST", "/manage/events/<int:event_id>"): ({"venue": "Tula"}, INCOMPLETE),
    ("POST", "/manage/events/<int:event_id>/publish"): ({"published": "0"}, MANAGE_POST),
    ("GET", "/manage/events/<int:event_id>/rooms"): (None, MANAGE),
    ("POST", "/manage/events/<int:event_id>/rooms"): ({"name": "Hall Z", "capacity": "10"},
                                                      MANAGE_POST),
    ("POST", "/manage/rooms/<int:room_id>"): ({"name": "Hall Y", "capacity": "10"}, MANAGE_POST),
    ("GET", "/manage/rooms/<int:room_id>/delete"): (None, MANAGE),
    ("POST", "/manage/rooms/<int:room_id>/delete"): ({}, (302, 302, 403, 302, 302, 403, 409)),
    ("GET", "/manage/events/<int:event_id>/programme"): (None, MANAGE),
    ("GET", "/manage/events/<int:event_id>/sessions/new"): (None, MANAGE),
    ("POST", "/manage/events/<int:event_id>/sessions/new"): (SESSION_FORM, MANAGE_POST),
    ("GET", "/manage/sessions/<int:session_id>"): (None, MANAGE),
    ("POST", "/manage/sessions/<int:session_id>"): (SESSION_FORM, MANAGE_POST),
    ("GET", "/manage/sessions/<int:session_id>/cancel"): (None, MANAGE),
    ("POST", "/manage/sessions/<int:session_id>/status"): ({"status": "cancelled"}, MANAGE_POST),
    ("GET", "/manage/sessions/<int:session_id>/delete"): (None, MANAGE),
    ("POST", "/manage/sessions/<int:session_id>/delete"): ({}, MANAGE_POST),
    ("GET", "/manage/events/<int:event_id>/participants"): (None, MANAGE),
    ("GET", "/manage/events/<int:event_id>/participants/new"): (None, MANAGE),
    ("POST", "/manage/events/<int:event_id>/participants/new"): (PERSON_FORM, INCOMPLETE),
    ("GET", "/manage/events/<int:event_id>/participants/import"): (None, MANAGE),
    ("POST", "/manage/events/<int:event_id>/participants/import"): ({}, INCOMPLETE),
    ("GET", "/manage/participants/<int:participant_id>"): (None, MANAGE),
    ("POST", "/manage/participants/<int:participant_id>"): (PERSON_FORM, INCOMPLETE),
    ("GET", "/manage/participants/<int:participant_id>/rotate"): (None, MANAGE),
    ("POST", "/manage/participants/<int:participant_id>/rotate"): ({}, MANAGE_POST),
    ("GET", "/manage/participants/<int:participant_id>/delete"): (None, MANAGE),
    ("POST", "/manage/participants/<int:participant_id>/delete"): ({}, MANAGE_POST),
    ("GET", "/manage/events/<int:event_id>/attendance"): (None, MANAGE),
    ("GET", "/manage/events/<int:event_id>/invitations"): (None, MANAGE),
    ("POST", "/manage/events/<int:event_id>/invitations/one"): (
        {"name": "Ivan", "email": "ivan@example.org"}, MANAGE_POST),
    ("POST", "/manage/events/<int:event_id>/invitations/list"): (
        {"emails": "ivan@example.org"}, INCOMPLETE),
    ("POST", "/manage/events/<int:event_id>/invitations/delegation"): (
        {"organization": "Kaluga"}, MANAGE_POST),
    ("GET", "/manage/events/<int:event_id>/invitations/reminders"): (None, MANAGE),
    ("POST", "/manage/events/<int:event_id>/invitations/reminders"): ({}, MANAGE_POST),
    ("GET", "/manage/outbox"): (None, MANAGE),
    ("GET", "/manage/outbox/<int:mail_id>"): (None, MANAGE),
    ("GET", "/manage/outbox/<int:mail_id>.eml"): (None, MANAGE),
    ("GET", "/manage/users"): (None, MANAGE),
    ("POST", "/manage/users"): ({"email": "new-user@example.org", "role": "moderator",
                                 "password": "long-password-1"}, MANAGE_POST),
    ("POST", "/manage/users/<int:user_id>/active"): ({"active": "0"}, MANAGE_POST),
    ("POST", "/manage/users/<int:user_id>/password"): ({"password": "long-password-2"},
                                                       MANAGE_POST),
}

#: An unpublished event ("draft", its session moderated by the moderator; none of the
#: participants is of it): invisible to all but those who work on it.
UNPUBLISHED: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/events/<slug>"): STAFF,
    ("GET", "/sessions/<int:session_id>"): STAFF,
    ("GET", "/calendars/events/<int:event_id>.ics"): STAFF,
    ("GET", "/calendars/sessions/<int:session_id>.ics"): STAFF,
    ("GET", "/api/v1/events/<int:event_id>"): STAFF,
    ("GET", "/api/v1/events/<int:event_id>/sessions"): STAFF,
    ("GET", "/api/v1/sessions/<int:session_id>"): STAFF,
    ("GET", "/api/v1/sessions/<int:session_id>/room"): (404,) * 7,  # and it has no room
    ("POST", "/api/v1/sessions/<int:session_id>/status"): (401, 404, 404, 404, 404, 200, 200),
    ("GET", "/console/sessions/<int:session_id>/room"): STAFF,
    # Visibility before permission, as everywhere: an event one may not see is not there.
    ("GET", "/console/events/<int:event_id>/switch"): (302, 302, 404, 302, 302, 403, 200),
    ("POST", "/console/events/<int:event_id>/switch"): (302, 302, 404, 302, 302, 403, 303),
    ("GET", "/console/events/<int:event_id>/preview"): (401, 401, 404, 401, 401, 403, 200),
}

#: Forms of the board and the agenda page answer a refusal with a redirect back and a
#: "Not done" notice: for these callers nothing may change and the notice must show.
NOT_DONE = {
    ("POST", "/console/sessions/<int:session_id>/switch", "other_moderator"),
    ("POST", "/console/sessions/<int:session_id>/status", "other_moderator"),
    ("POST", "/p/<token>/agenda", "other_participant"),
}
#: Rows whose callers sign out (or fail to sign in): they get browsers of their own.
SIGNS_OUT = {("POST", "/logout"), ("POST", "/login")}

#: Socket.IO handler: (payload, ack per ACTORS: "ok" or the error code). ``connect`` and
#: ``disconnect`` take no payload: anyone may connect (read-only when anonymous).
LIVE: dict[str, tuple[dict | None, tuple[str, ...]]] = {
    "connect": (None, ("ok",) * 7),
    "disconnect": (None, ("ok",) * 7),
    "subscribe": ({"event_id": "{event_id}"}, ("ok",) * 7),
    "session_switch": ({"session_id": "{session_id}", "mode": "in_person"},
                       ("unauthorized", "forbidden", "forbidden", "forbidden", "forbidden",
                        "ok", "ok")),
    "session_status": ({"session_id": "{session_id}", "status": "live"},
                       ("unauthorized", "forbidden", "forbidden", "forbidden", "forbidden",
                        "ok", "ok")),
}


#: The same on the unpublished event: only those who work on it may follow it.
LIVE_UNPUBLISHED: dict[str, tuple[str, ...]] = {
    "subscribe": ("not_found",) * 5 + ("ok", "ok"),
    "session_status": ("unauthorized",) + ("not_found",) * 4 + ("ok", "ok"),
}


def methods(rule) -> set[str]:
    return set(rule.methods) - {"HEAD", "OPTIONS"}


def test_every_route_and_live_event_has_a_row(app):
    routes = {(method, rule.rule) for rule in app.url_map.iter_rules()
              for method in methods(rule)}
    assert sorted(routes - set(ROUTES)) == [], "routes without a row in ROUTES"
    assert sorted(set(ROUTES) - routes) == [], "rows for routes that no longer exist"
    handlers = {name[3:] for name in dir(LiveNamespace) if name.startswith("on_")}
    assert handlers == set(LIVE)


# -- the world every caller starts from ------------------------------------------------------


@dataclass
class World:
    """Ids, credentials and what must not leak."""

    ids: dict[str, Any]
    tokens: dict[str, str | None]  # the credential each caller sends (API token or own link)
    links: dict[str, str]  # participant name -> personal token
    host: list[str]  # strings that only a host link contains
    own: dict[str, str | None] = field(default_factory=dict)  # caller -> their own link
    unpublished: dict[str, Any] = field(default_factory=dict)  # the draft event's ids


@pytest.fixture
def app_config(app_config, sandbox):
    return {**app_config, **sandbox_settings(sandbox)}


@dataclass
class Shared:
    """One app and world for every route of this module; the world is put back per caller."""

    app: Flask
    world: World
    browsers: dict[str, Any]
    snapshot: Snapshot


@pytest.fixture(scope="module")
def shared(sandbox_server, tmp_path_factory) -> Iterator[Shared]:
    tmp = tmp_path_factory.mktemp("access")
    sandbox_server.reset()
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'eventhub.db'}",
        "WTF_CSRF_ENABLED": True, "EVENTHUB_BASE_URL": "http://eventhub.test",
        "MAIL_OUTBOX_DIR": str(tmp / "outbox"),
        "SIGN_IN_LIMIT": "1000 per minute",  # the module signs in and asks for tokens often
        **sandbox_settings(sandbox_server)})
    with app.app_context():
        db.create_all()
    world = build(app)
    browsers = signed_in_clients(app, world)
    yield Shared(app, world, browsers, Snapshot(app, tmp))
    close_app(app)
    sandbox_server.reset()


def build(app) -> World:
    """Two published events; a hall; the moderator's session (online, its Whereby room
    ready) and another moderator's; Anna (on its agenda), Olga (the Kaluga official), Carl
    (invited: an outbox mail with his link) and Bob of the other event; three accounts."""
    with app.app_context():
        event = Event(slug="conf", published=True, title={"en": "Conference"},
                      timezone="Europe/Moscow", start_date=START,
                      end_date=START + timedelta(days=2), venue="Kaluga")
        other_event = Event(slug="other", published=True, title={"en": "Other"},
                            timezone="Europe/Moscow", start_date=START,
                            end_date=START + timedelta(days=2))
        users = {role: User(email=f"{role}@example.org", role=role.split("_")[-1],
                            password_hash=password_hash(PASSWORD))
                 for role in ("moderator", "other_moderator", "organizer")}
        hall = Room(event=event, name="Hall A", capacity=100)
        mine = Session(event=event, room=hall, title={"en": "Talk"}, starts_at=at(10),
                       ends_at=at(11), moderators=[users["moderator"]], mode="online",
                       planned_mode="online")
        theirs = Session(event=event, room=hall, title={"en": "Other talk"}, starts_at=at(12),
                         ends_at=at(13), moderators=[users["other_moderator"]])
        people = {
            "participant": Participant(event=event, name="Anna", email="anna@example.org",
                                       organization="Kaluga", partner_organization="Suhl"),
            "official": Participant(event=event, name="Olga", email="olga@example.org",
                                    role="official", organization="Kaluga",
                                    partner_organization="Suhl"),
            "other_participant": Participant(event=other_event, name="Bob",
                                             email="bob@example.org"),
        }
        draft = Event(slug="draft", published=False, title={"en": "Draft"},
                      timezone="Europe/Moscow", start_date=START,
                      end_date=START + timedelta(days=2))
        drafted = Session(event=draft, title={"en": "Draft talk"}, starts_at=at(10),
                          ends_at=at(11), moderators=[users["moderator"]])
        db.session.add_all([event, other_event, hall, mine, theirs, *users.values(),
                            *people.values(), draft, drafted])
        for person in people.values():
            access.issue_participant_token(person)
        db.session.add(AgendaItem(participant=people["participant"], session=mine))
        db.session.flush()
        created = WherebyProvider(app.config["PROVIDERS"]).create_room(
            RoomRequest(f"eventhub-s{mine.id}-g1", "Talk", mine.starts_at, mine.ends_at))
        db.session.add(VideoRoom(session=mine, provider="whereby", state="ready",
                                 external_id=created.external_id, data=created.data,
                                 host_data=created.host_data))
        db.session.commit()
        invitations.invite(users["organizer"], event,
                           [{"name": "Carl", "email": "carl@example.org"}])
        carl = db.session.scalars(select(Participant).filter_by(email="carl@example.org")).one()
        mail = db.session.scalars(select(OutboxMail).filter_by(participant_id=carl.id)).first()
        assert mail is not None
        tokens: dict[str, str | None] = {"anonymous": None}
        for role, user in users.items():
            token = access.new_token()
            db.session.add(ApiToken(user=user, digest=access.digest(token)))
            tokens[role] = token
        db.session.commit()
        own = {role: person.token for role, person in people.items()}
        tokens.update(own)
        links = {person.name: person.token for person in [*people.values(), carl]}
        host_url = created.host_data["hostRoomUrl"]
        host = [host_url, *(value for values in parse_qs(urlsplit(host_url).query).values()
                            for value in values)]
        ids = {"event_id": event.id, "session_id": mine.id, "participant_id":
               people["participant"].id, "room_id": hall.id,
               "user_id": users["other_moderator"].id, "mail_id": mail.id, "slug": "conf",
               "provider": "zoom", "filename": "style.css"}
        unpublished = {"event_id": draft.id, "session_id": drafted.id, "slug": "draft"}
    return World(ids=ids, tokens=tokens, links=links, host=host, own=own,
                 unpublished=unpublished)


def state(app) -> tuple:
    """What a refused request must leave as it was."""
    with app.app_context():
        def rows(statement) -> list:
            return sorted(tuple(row) for row in db.session.execute(statement))

        return (
            rows(select(Event.id, Event.published, Event.venue, Event.programme_version)),
            rows(select(Session.id, Session.sequence, Session.status, Session.mode,
                        Session.version, Session.track)),
            rows(select(Room.id, Room.name, Room.capacity)),
            rows(select(Participant.id, Participant.token_digest, Participant.language,
                        Participant.invitation_status, Participant.role)),
            rows(select(User.id, User.active, User.password_hash)),
            rows(select(VideoRoom.id, VideoRoom.state, VideoRoom.generation)),
            rows(select(AgendaItem.participant_id, AgendaItem.session_id)),
            db.session.scalar(select(func.count()).select_from(OutboxMail)),
            db.session.scalar(select(func.count()).select_from(ApiToken)),
        )


class Snapshot:
    """The SQLite file as the world left it, put back before each caller."""

    def __init__(self, app, folder):
        self.app = app
        self.live = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
        self.copy = str(folder / "world.db")
        self._quiet()
        with sqlite3.connect(self.live) as source, sqlite3.connect(self.copy) as target:
            source.backup(target)

    def _quiet(self) -> None:
        with self.app.app_context():
            assert provisioning.dispatcher().wait(30), "background jobs still running"
            db.session.remove()
            db.engine.dispose()

    def restore(self) -> None:
        self._quiet()
        with sqlite3.connect(self.copy) as source, sqlite3.connect(self.live) as target:
            source.backup(target)


def fill(rule: str, world: World, who: str) -> str:
    """The rule's path for this caller."""
    def value(match: re.Match) -> str:
        name = match.group(1).split(":")[-1]
        if name == "token":
            return world.own.get(who) or "no-such-participant-token-0000000000000"
        return str(world.ids[name])

    path = re.sub(r"<([^>]+)>", value, rule)
    if rule == "/join/<int:session_id>":
        path += "?t=" + (world.own.get(who) or "no-such-participant-token-0000000000000")
    return path


def signed_in_clients(app, world: World) -> dict[str, Any]:
    """A browser for each caller, signed in the way that caller would be."""
    clients = {}
    for who in ACTORS:
        client = app.test_client()
        if who in world.own:
            assert client.get(f"/p/{world.own[who]}").status_code == 200
        elif who != "anonymous":
            token = csrf(client.get("/login").get_data(as_text=True))
            response = client.post("/login", data={"email": f"{who}@example.org",
                                                   "password": PASSWORD, "csrf_token": token})
            assert response.status_code == 302, who
        clients[who] = client
    return clients


def leaks(world: World, who: str, text: str, may_see_host: bool) -> list[str]:
    """What this caller's answer should not have carried."""
    found = []
    if not may_see_host:
        found += [f"host link {marker[:24]}..." for marker in world.host if marker in text]
    if who != "organizer":
        found += [f"{name}'s token" for name, token in world.links.items()
                  if token in text and token != world.own.get(who)]
    return found


#: Where the session's host link is meant to appear: for its moderators and organizers.
HOST_PLACES = {("GET", "/api/v1/sessions/<int:session_id>/room"),
               ("GET", "/console/sessions/<int:session_id>/host")}


def refused(response) -> bool:
    return response.status_code >= 400 or (
        response.status_code in (302, 303) and response.location.startswith("/login"))


@pytest.mark.parametrize("route", sorted(ROUTES), ids=lambda route: " ".join(route))
def test_route_for_every_caller(shared, route):
    body, statuses = ROUTES[route]
    check(shared, route, body, statuses, shared.world)


@pytest.mark.parametrize("route", sorted(UNPUBLISHED), ids=lambda route: " ".join(route))
def test_route_of_an_unpublished_event_for_every_caller(shared, route):
    body, _ = ROUTES[route]
    world = replace(shared.world, ids={**shared.world.ids, **shared.world.unpublished})
    check(shared, route, body, UNPUBLISHED[route], world)


def check(shared: Shared, route: tuple[str, str], body: dict | None,
          statuses: tuple[int, ...], world: World) -> None:
    """Each caller in turn, from the same world: status, leaks, nothing changed if refused."""
    method, rule = route
    app, snapshot = shared.app, shared.snapshot
    browsers = shared.browsers
    if route in SIGNS_OUT:  # these browsers sign out: the other rows keep theirs
        snapshot.restore()
        browsers = signed_in_clients(app, world)
    wrong = []
    for who, expected in zip(ACTORS, statuses, strict=True):
        snapshot.restore()
        before = state(app)
        path = fill(rule, world, who)
        if rule.startswith("/api/"):
            response = app.test_client().open(path, method=method, json=body,
                                              headers=bearer(world.tokens[who]))
        else:
            client = browsers[who]
            data = None
            if method == "POST":
                token = csrf(client.get("/login").get_data(as_text=True))
                data = {key: value.format(**world.ids) for key, value in (body or {}).items()}
                data["csrf_token"] = token
            response = client.open(path, method=method, data=data)
        if response.status_code != expected:
            wrong.append(f"{who}: {response.status_code} (expected {expected}) "
                         f"{response.get_data(as_text=True)[:200]!r}")
        if rule.startswith("/api/") and response.status_code >= 400 and \
                set(response.get_json()["error"]) != {"code", "message", "fields"}:
            wrong.append(f"{who}: not DESIGN's error shape")
        text = response.get_data(as_text=True) + " " + (response.location or "")
        may_see_host = route in HOST_PLACES and who in ("moderator", "organizer")
        wrong += [f"{who}: {leak}" for leak in leaks(world, who, text, may_see_host)]
        response.close()
        if (method, rule, who) in NOT_DONE:
            notice = browsers[who].get(response.location).get_data(as_text=True)
            if "Not done" not in notice:
                wrong.append(f"{who}: redirected without a refusal notice")
        if (refused(response) or (method, rule, who) in NOT_DONE) and state(app) != before:
            wrong.append(f"{who}: refused ({response.status_code}) but changed the database")
    snapshot.restore()
    assert not wrong, "\n".join(wrong)


# -- Socket.IO -----------------------------------------------------------------------------


@pytest.fixture
def live_world(app, sandbox, live_server, tmp_path) -> Iterator[tuple[World, Snapshot]]:
    world = build(app)
    yield world, Snapshot(app, tmp_path)


@pytest.mark.parametrize("handler,published", [(name, True) for name in sorted(LIVE)]
                         + [(name, False) for name in sorted(LIVE_UNPUBLISHED)])
def test_live_event_for_every_caller(app, live_server, live_world, monkeypatch, handler,
                                     published):
    world, snapshot = live_world
    live_support.websocket_close(monkeypatch)
    payload, expected_acks = LIVE[handler]
    if not published:
        expected_acks = LIVE_UNPUBLISHED[handler]
        world = replace(world, ids={**world.ids, **world.unpublished})
    wrong = []
    for who, expected in zip(ACTORS, expected_acks, strict=True):
        snapshot.restore()
        client = live_support.LiveClient(live_server.url, world.tokens[who]).connect()
        try:
            before = state(app)
            got = "ok"
            if payload is not None:
                data = {key: int(value.format(**world.ids)) if value.startswith("{") else value
                        for key, value in payload.items()}
                ack = client.call(handler.replace("_", "."), data)
                got = ack["error"]["code"] if "error" in ack else "ok"
                text = repr(ack)
            else:
                text = ""
            if handler == "disconnect":
                client.close()
                got = "ok" if not client.sio.connected else "still connected"
            if got != expected:
                wrong.append(f"{who}: {got} (expected {expected}) {text[:200]}")
            if got != "ok" and state(app) != before:
                wrong.append(f"{who}: refused ({got}) but changed the database")
            text += repr(client.messages)
            wrong += [f"{who}: {leak}" for leak in leaks(world, who, text, False)]
        finally:
            client.close()
    assert not wrong, "\n".join(wrong)
