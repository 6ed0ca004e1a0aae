"""A user's API token, once resolved, is kept for a second (eventhub/api/token_cache.py): the
next request reads nothing to know who it is, and what this process changes about the token
or its user applies to its very next request."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from eventhub import create_app
from eventhub.api.token_cache import token_cache
from eventhub.extensions import db
from eventhub.models import User
from eventhub.services import access, users
from tests.conftest import bearer
from tests.eventhub.test_api_queries import statements_of


def token_reads(client, path: str, headers: dict[str, str], status: int = 200) -> int:
    """How many statements a request ran on the tokens table (it must answer ``status``)."""
    def request():
        response = client.get(path, headers=headers)
        assert response.status_code == status, response.data

    return sum("api_tokens" in s for s in statements_of(request))


@pytest.fixture
def organizer(create_event, create_user, api_token):
    """An event, its organizer and their token, and the organizer-only participants list."""
    event = create_event()
    user = create_user("organizer")
    return user, bearer(api_token(user)), f"/api/v1/events/{event.id}/participants"


def test_a_token_used_again_within_the_second_reads_nothing(client, organizer):
    _user, headers, path = organizer
    assert token_reads(client, path, headers) == 1
    assert token_reads(client, path, headers) == 0  # an organizer all the same: 200


def test_the_cache_holds_digests_and_no_password(ctx, client, organizer):
    user, headers, path = organizer
    token_reads(client, path, headers)
    token = headers["Authorization"].removeprefix("Bearer ")
    entries = dict(token_cache().entries)
    assert list(entries) == [access.digest(token)]
    _commits, _expiry, columns = entries[access.digest(token)]
    assert columns["id"] == user.id and "password_hash" not in columns
    assert token not in repr(entries) and user.password_hash not in repr(entries)


def test_revoking_the_token_applies_to_the_next_request(client, organizer):
    _user, headers, path = organizer
    token_reads(client, path, headers)  # kept
    assert client.delete("/api/v1/tokens/current", headers=headers).status_code == 204
    assert token_reads(client, path, headers, status=401) == 1


def test_deactivating_the_user_applies_to_the_next_request(ctx, client, organizer,
                                                          create_user):
    user, headers, path = organizer
    token_reads(client, path, headers)
    users.set_user_active(create_user("organizer"), user, False)
    token_reads(client, path, headers, status=401)


def test_a_role_changed_in_this_process_applies_to_the_next_request(ctx, client, organizer):
    user, headers, path = organizer
    token_reads(client, path, headers)
    user.role = "moderator"
    db.session.commit()
    token_reads(client, path, headers, status=403)  # a moderator may not list participants


def test_another_process_revocation_is_seen_within_the_cache_seconds(ctx, client, organizer):
    """A change this process did not commit (another web process, the CLI) is not seen
    until the entry expires: at most TOKEN_CACHE_SECONDS."""
    _user, headers, path = organizer
    cache = token_cache()
    now = [1000.0]
    cache.clock = lambda: now[0]
    token_reads(client, path, headers)
    with db.engine.begin() as connection:  # not through this process's db.session
        connection.execute(text("UPDATE api_tokens SET revoked_at = CURRENT_TIMESTAMP"))
    assert token_reads(client, path, headers) == 0  # still kept: the documented second
    now[0] += cache.seconds + 0.01
    token_reads(client, path, headers, status=401)


def test_zero_seconds_reads_the_token_every_request(app, client, organizer):
    app.config["TOKEN_CACHE_SECONDS"] = 0  # before the cache is made
    _user, headers, path = organizer
    assert token_reads(client, path, headers) == 1
    assert token_reads(client, path, headers) == 1


def test_a_kept_user_loads_what_was_not_kept_when_read(ctx, client, organizer):
    """The password hash is not kept: a view that reads it gets it from the database."""
    user, headers, path = organizer
    token_reads(client, path, headers)
    db.session.remove()  # the request's session no longer holds the test's object
    with client.application.test_request_context(headers=headers):
        kept = token_cache().user(headers["Authorization"].removeprefix("Bearer "))
        assert isinstance(kept, User) and kept.id == user.id and kept not in db.session.dirty
        assert kept.password_hash == db.session.scalar(
            text("SELECT password_hash FROM users WHERE id = :id"), {"id": user.id})


def test_a_negative_setting_is_refused(app_config):
    app_config["TOKEN_CACHE_SECONDS"] = -1
    with pytest.raises(ValueError, match="EVENTHUB_TOKEN_CACHE_SECONDS"):
        create_app(app_config)
