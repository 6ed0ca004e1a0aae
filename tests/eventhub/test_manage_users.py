"""Accounts: organizers add organizer and moderator accounts, reset a password, deactivate.
A deactivated account cannot sign in, its API tokens and its browser session stop working."""

from __future__ import annotations

import pytest

from eventhub.extensions import db
from eventhub.models import ApiToken, User
from eventhub.services import access
from tests.eventhub.manage_support import PASSWORD, add_user, csrf, field_errors, post, sign_in


def accounts(app) -> list[tuple]:
    with app.app_context():
        return sorted((u.email, u.role, u.active, u.password_hash)
                      for u in db.session.query(User))


def api_token(app, user_id: int) -> str:
    with app.app_context():
        token = access.new_token()
        db.session.add(ApiToken(user_id=user_id, digest=access.digest(token)))
        db.session.commit()
        return token


def signs_in(app, email: str, password: str = PASSWORD) -> bool:
    client = app.test_client()
    token = csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token}).status_code == 302


def test_add_a_moderator_who_can_then_sign_in(app):
    organizer = sign_in(app)
    response = post(organizer, "/manage/users", {"email": "Mod@Example.org", "name": "Max",
                                                 "role": "moderator",
                                                 "password": "a long password"})
    assert response.status_code == 303
    assert "mod@example.org" in organizer.get("/manage/users").get_data(as_text=True)
    assert signs_in(app, "mod@example.org", "a long password")


@pytest.mark.parametrize(("data", "field", "message", "status"), [
    ({"email": "nobody"}, "f-email", "Enter a valid e-mail address.", 422),
    ({"password": "short"}, "f-password", "At least 8 characters.", 422),
    ({"role": "admin"}, "f-role", "Choose one of the listed values.", 422),
    ({"email": "taken@example.org"}, "f-email", "This is already taken.", 409),
])
def test_a_rejected_account_form_says_why_and_changes_nothing(app, data, field, message,
                                                             status):
    add_user(app, "moderator", "taken@example.org")
    organizer = sign_in(app)
    before = accounts(app)
    response = post(organizer, "/manage/users", {"email": "new@example.org", "name": "",
                                                 "role": "moderator",
                                                 "password": "long enough", **data})
    assert response.status_code == status
    assert field_errors(response.get_data(as_text=True)) == {field: message}
    assert accounts(app) == before


def test_reset_a_password_and_revoke_the_accounts_tokens(app):
    user_id = add_user(app, "moderator", "mod@example.org")
    token = api_token(app, user_id)
    client = app.test_client()
    assert client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 200
    organizer = sign_in(app)
    response = post(organizer, f"/manage/users/{user_id}/password", {"password": "short"})
    assert response.status_code == 422
    assert field_errors(response.get_data(as_text=True)) == {
        f"pw-{user_id}": "At least 8 characters."}
    assert signs_in(app, "mod@example.org")
    response = post(organizer, f"/manage/users/{user_id}/password",
                    {"password": "new secret password"})
    assert response.status_code == 303
    assert not signs_in(app, "mod@example.org")
    assert signs_in(app, "mod@example.org", "new secret password")
    assert client.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"}
                      ).status_code == 401


def test_a_deactivated_account_is_locked_out_everywhere(app):
    user_id = add_user(app, "moderator", "mod@example.org")
    token = api_token(app, user_id)
    browser = app.test_client()
    login = csrf(browser.get("/login").get_data(as_text=True))
    browser.post("/login", data={"email": "mod@example.org", "password": PASSWORD,
                                 "csrf_token": login})
    assert browser.get("/console").status_code == 200
    organizer = sign_in(app)
    assert post(organizer, f"/manage/users/{user_id}/active", {"active": "0"}).status_code == 303
    assert accounts(app)[0][:3] == ("mod@example.org", "moderator", False)
    assert "deactivated" in organizer.get("/manage/users").get_data(as_text=True)
    assert not signs_in(app, "mod@example.org")
    assert browser.get("/console").status_code == 302  # the open browser session ends
    api = app.test_client()
    assert api.get("/api/v1/events", headers={"Authorization": f"Bearer {token}"}
                   ).status_code == 401
    assert api.post("/api/v1/tokens", json={"email": "mod@example.org",
                                            "password": PASSWORD}).status_code == 401
    assert post(organizer, f"/manage/users/{user_id}/active", {"active": "1"}).status_code == 303
    assert signs_in(app, "mod@example.org")


def test_an_organizer_cannot_deactivate_themselves(app):
    organizer = sign_in(app, email="me@example.org")
    with app.app_context():
        me = db.session.query(User).filter_by(email="me@example.org").one().id
    before = accounts(app)
    response = post(organizer, f"/manage/users/{me}/active", {"active": "0"},
                    follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert accounts(app) == before
    assert organizer.get("/manage").status_code == 200
