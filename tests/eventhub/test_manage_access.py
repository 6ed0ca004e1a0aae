"""Who may use the back office: organizers only. Anonymous visitors and participants who
opened their personal link are sent to sign in; moderators get 403; nothing changes."""

from __future__ import annotations

import pytest

from eventhub.extensions import db
from eventhub.models import Event, Participant, Room, Session, User
from tests.eventhub.manage_support import (
    PASSWORD,
    csrf,
    manage_pages,
    manage_posts,
    sign_in,
    world_ids,
)


@pytest.fixture
def setup(app):
    world, room_id, participant_id, user_id = world_ids(app)
    return world, room_id, participant_id, user_id


def counts(app) -> tuple:
    """Everything a back-office form could change, in numbers and versions."""
    with app.app_context():
        return (db.session.query(Event).count(), db.session.query(Room).count(),
                db.session.query(Session).count(), db.session.query(Participant).count(),
                db.session.query(User).count(),
                sorted((s.id, s.sequence, s.status) for s in db.session.query(Session)),
                sorted((p.id, p.token) for p in db.session.query(Participant)),
                sorted((u.id, u.active, u.password_hash) for u in db.session.query(User)),
                sorted((r.id, r.name) for r in db.session.query(Room)),
                sorted((e.id, e.published, e.programme_version) for e in db.session.query(Event)))


def visitors(app, world):
    """(who, client) for each kind of visitor who is not an organizer."""
    anonymous = app.test_client()
    participant = app.test_client()
    assert participant.get(f"/p/{world.anna_token}").status_code == 200
    moderator = app.test_client()
    token = csrf(moderator.get("/login").get_data(as_text=True))
    moderator.post("/login", data={"email": world.moderator, "password": PASSWORD,
                                   "csrf_token": token})
    return {"anonymous": anonymous, "participant": participant, "moderator": moderator}


def test_every_page_is_for_organizers_only(app, setup):
    world, room_id, participant_id, _user_id = setup
    clients = visitors(app, world)
    organizer = sign_in(app)
    for name, path in manage_pages(world, room_id, participant_id).items():
        assert organizer.get(path).status_code == 200, name
        for who in ("anonymous", "participant"):
            response = clients[who].get(path)
            assert response.status_code == 302, (name, who)
            assert response.location.startswith("/login?next=/manage"), (name, who)
        assert clients["moderator"].get(path).status_code == 403, name
        assert clients["moderator"].get(path + "?format=csv").status_code == 403, name


def test_no_form_works_for_anyone_but_an_organizer(app, setup):
    world, room_id, participant_id, user_id = setup
    clients = visitors(app, world)
    before = counts(app)
    posts = manage_posts(world, room_id, participant_id, user_id)
    for who, client in clients.items():
        # A CSRF token of the visitor's own session, so that only the guard can refuse.
        token = csrf(client.get("/login").get_data(as_text=True))
        for name, path in posts.items():
            response = client.post(path, data={"csrf_token": token, "name": "X",
                                               "published": "1", "status": "cancelled",
                                               "active": "0", "password": "long-password"})
            expected = 403 if who == "moderator" else 302
            assert response.status_code == expected, (who, name)
    assert counts(app) == before


def test_a_form_without_its_csrf_token_is_refused(app, setup):
    world, room_id, participant_id, user_id = setup
    organizer = sign_in(app)
    before = counts(app)
    for name, path in manage_posts(world, room_id, participant_id, user_id).items():
        response = organizer.post(path, data={"name": "X", "published": "1",
                                              "status": "cancelled", "active": "0"})
        assert response.status_code == 400, name
    assert counts(app) == before


def test_sign_in_from_the_back_office_returns_there(app, setup):
    world = setup[0]
    client = app.test_client()
    response = client.get(f"/manage/events/{world.event_id}/programme")
    target = response.location
    token = csrf(client.get(target).get_data(as_text=True))
    response = client.post(target, data={"email": world.organizer, "password": PASSWORD,
                                         "csrf_token": token})
    assert response.location == f"/manage/events/{world.event_id}/programme"


def test_unknown_ids_are_404(app, setup):
    organizer = sign_in(app)
    for path in ("/manage/events/999999", "/manage/rooms/999999/delete",
                 "/manage/sessions/999999", "/manage/participants/999999",
                 "/manage/events/999999/participants", "/manage/events/999999/programme",
                 f"/manage/events/{2**63}/rooms"):
        assert organizer.get(path).status_code == 404, path
