"""Helpers for the back-office handler tests: accounts, signing in, CSRF tokens, field errors.

The app context is pushed per call, never for the whole test: Flask reuses a pushed app context
for the client's requests, and Flask-WTF would then keep one CSRF token in ``g`` across them.
"""

from __future__ import annotations

import html as html_lib
import re

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
    email = email or f"{role}-{id(client)}@example.org"
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
