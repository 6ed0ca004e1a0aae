"""Accounts: hashed passwords compared exactly as set, browser sign-in with CSRF and only local
redirects after it, participant links."""

from __future__ import annotations

import re

import pytest

from eventhub.extensions import db
from eventhub.models import User
from eventhub.services import participants, users
from eventhub.web import is_local_path


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_passwords_are_stored_as_argon2_hashes(ctx):
    user = users.create_user("Chair@Example.org", "correct horse", "organizer")
    assert user.email == "chair@example.org"
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse" not in user.password_hash
    assert users.check_password("chair@example.org", "correct horse").id == user.id


def add_moderator(app) -> None:
    # Not through the `ctx` fixture: a pushed app context would share `g` between requests.
    with app.app_context():
        users.create_user("mod@example.org", "secret-pw-1", "moderator", "Jörg")


def test_login_requires_the_csrf_token(app, client):
    add_moderator(app)
    response = client.post("/login", data={"email": "mod@example.org", "password": "secret-pw-1"})
    assert response.status_code == 400  # no CSRF token: refused, not signed in
    assert client.get("/console").status_code == 302


def test_login_console_logout(app, client):
    add_moderator(app)
    token = csrf_token(client.get("/login").get_data(as_text=True))
    wrong = client.post("/login", data={"email": "mod@example.org", "password": "nope",
                                        "csrf_token": token})
    assert wrong.status_code == 401
    response = client.post("/login?next=//evil.example/", data={
        "email": "mod@example.org", "password": "secret-pw-1", "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/console"  # never an open redirect
    page = client.get("/console")
    assert page.status_code == 200 and "Jörg" in page.get_data(as_text=True)
    logout_token = csrf_token(page.get_data(as_text=True))
    client.post("/logout", data={"csrf_token": logout_token})
    assert client.get("/console").status_code == 302


def test_participant_link_signs_in_and_rotation_revokes_it(client, create_event,
                                                           create_participant, create_user):
    event = create_event()
    participant = create_participant(event, name="Ирина Смирнова")
    old = participant.token
    page = client.get(f"/p/{old}")
    assert page.status_code == 200 and "Ирина Смирнова" in page.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session.get("participant_id") == participant.id
    organizer = create_user("organizer")
    participants.rotate_token(organizer, participant)
    # The browser session opened with the old link ends with it.
    client.get("/")
    with client.session_transaction() as session:
        assert "participant_id" not in session
    assert client.get(f"/p/{old}").status_code == 404
    assert client.get("/p/" + "x" * 43).status_code == 404
    assert client.get(f"/p/{participant.token}").status_code == 200


def test_participant_tokens_are_unique_and_long(ctx, create_event, create_user):
    event = create_event()
    organizer = create_user("organizer")
    tokens = {participants.create_participant(organizer, event, {
        "name": f"P{i}", "email": f"p{i}@example.org"}).token for i in range(20)}
    assert len(tokens) == 20 and all(len(t) >= 43 for t in tokens)
    assert db.session.query(User).count() == 1


@pytest.mark.parametrize("password", ["  leading spaces", "trailing spaces  ", "\tpass phrase\t"])
def test_a_password_with_surrounding_whitespace_gets_a_token(client, create_user, password):
    """The password is a secret, compared as set: never stripped like a name."""
    create_user("moderator", email="mod@example.org", password=password)
    response = client.post("/api/v1/tokens", json={"email": " mod@example.org ",
                                                   "password": password})
    assert response.status_code == 201, response.get_json()
    stripped = client.post("/api/v1/tokens", json={"email": "mod@example.org",
                                                   "password": password.strip()})
    assert stripped.status_code == 401


@pytest.mark.parametrize("target,local", [
    ("/console", True), ("/sessions/3?lang=ru", True),
    ("//evil.example/", False), ("/\t/evil.example", False), ("/\\evil.example", False),
    ("/\n/evil.example", False), ("https://evil.example/", False), ("", False),
    ("evil.example", False), ("/%09/evil.example", True),  # encoded: stays a local path
])
def test_only_plain_local_paths_are_followed_after_sign_in(target, local):
    assert is_local_path(target) is local
