"""API tokens for accounts whose passwords are exactly what was set."""

from __future__ import annotations

import pytest


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
