"""Sign-in is throttled per client and locked out per account, and the lock-out ends by itself.

Behind a reverse proxy the client is the X-Forwarded-For address, but only with the configured
number of trusted proxies (``EVENTHUB_TRUSTED_PROXIES``): otherwise the header is the client's
own word and is ignored.
"""

from __future__ import annotations

import re
import time

import pytest

from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import User
from tests.conftest import password_hash

RIGHT = "secret-pw-1"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "SIGN_IN_LIMIT": "1000 per minute",
            "SIGN_IN_ACCOUNT_LIMIT": "5 per 10 minutes"}


@pytest.fixture
def account(create_user):
    return create_user("moderator", email="mod@example.org").email


def _csrf(client) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                     client.get("/login").get_data(as_text=True)).group(1)


def sign_in(client, email: str, password: str, address: str = "192.0.2.1",
            forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": _csrf(client)},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_wrong_passwords_lock_the_account_out_even_for_the_right_one(client, account):
    for i in range(5):  # from five different addresses: the account is what is guessed
        assert sign_in(client, account, "guess", address=f"192.0.2.{i + 10}").status_code == 401
    locked = sign_in(client, account, RIGHT)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1
    assert "user_id" not in (client.get_cookie("session").value if client.get_cookie(
        "session") else "")
    api = client.post("/api/v1/tokens", json={"email": account, "password": RIGHT})
    assert api.status_code == 429  # the API's door is the same account's


def test_the_lock_out_ends_by_itself(app, client, account):
    app.config["SIGN_IN_ACCOUNT_LIMIT"] = "3 per 2 seconds"  # a moving window
    deadline = time.monotonic() + 20
    while sign_in(client, account, "guess").status_code != 429:  # until locked out
        assert time.monotonic() < deadline, "never locked out"
    deadline = time.monotonic() + 20
    while (response := sign_in(client, account, RIGHT)).status_code == 429:
        assert time.monotonic() < deadline, "still locked out"
        time.sleep(0.1)
    assert response.status_code == 302


def test_other_accounts_are_not_locked_out(client, account, create_user):
    other = create_user("moderator", email="other@example.org").email
    for _ in range(5):
        sign_in(client, account, "guess")
    assert sign_in(client, other, RIGHT).status_code == 302


def test_one_client_is_limited_across_accounts(app, client, account):
    app.config["SIGN_IN_LIMIT"] = "3 per minute"
    codes = [sign_in(client, f"nobody{i}@example.org", "guess").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]
    assert sign_in(client, account, RIGHT, address="192.0.2.99").status_code == 302


def test_without_trusted_proxies_x_forwarded_for_is_ignored(app, client, account):
    app.config["SIGN_IN_LIMIT"] = "3 per minute"
    codes = [sign_in(client, f"nobody{i}@example.org", "guess",
                     forwarded=f"198.51.100.{i}").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]  # a made-up header does not make a new client


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(app_config):
    app = create_app({**app_config, "TRUSTED_PROXIES": 1, "SIGN_IN_LIMIT": "3 per minute"})
    with app.app_context():
        db.create_all()
        db.session.add(User(email="mod@example.org", role="moderator",
                            password_hash=password_hash(RIGHT)))
        db.session.commit()
    client = app.test_client()
    proxy = "10.0.0.1"  # nginx: every request comes from it
    codes = [sign_in(client, f"nobody{i}@example.org", "guess", address=proxy,
                     forwarded="198.51.100.7").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]  # that client is limited ...
    other = sign_in(client, "mod@example.org", RIGHT, address=proxy, forwarded="198.51.100.8")
    assert other.status_code == 302  # ... and not every user behind the proxy
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
