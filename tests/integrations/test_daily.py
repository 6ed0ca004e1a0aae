"""Daily: 200 on create, existing names fetched, meeting tokens for names and owners."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from provider_support import HOST, PARTICIPANT, room_request, visit

from integrations.base import ProviderRejected


def token_claims(url: str) -> dict:
    """The meeting token of ``url`` (``?t=``), read without checking Daily's signature."""
    token = parse_qs(urlsplit(url).query)["t"][0]
    return jwt.decode(token, options={"verify_signature": False})


def test_create_answers_200_and_names_room_after_key(sandbox, make_provider):
    room = make_provider("daily").create_room(room_request())
    [create] = sandbox.received("daily")
    body = create.json()
    assert body["name"] == room.external_id
    assert body["privacy"] == "private"
    assert body["properties"]["exp"] > room_request().ends_at.timestamp()
    assert room.data["url"].endswith(f"/daily/room/{room.external_id}")


def test_existing_name_is_fetched(sandbox, make_provider):
    provider = make_provider("daily")
    first = provider.create_room(room_request())
    second = provider.create_room(room_request())
    assert first == second
    calls = [(r.method, r.path) for r in sandbox.received("daily")]
    assert calls[1:] == [("POST", "/daily/v1/rooms"),
                         ("GET", f"/daily/v1/rooms/{first.external_id}")]


def test_other_400_is_rejected(sandbox, make_provider):
    sandbox.faults.status("daily", 400, method="POST")
    with pytest.raises(ProviderRejected) as info:
        make_provider("daily").create_room(room_request())
    assert info.value.status == 400


def test_participant_token_names_user_and_is_not_owner(make_provider):
    provider = make_provider("daily")
    room = provider.create_room(room_request())
    claims = token_claims(provider.join_url(room, PARTICIPANT))
    assert claims["user_name"] == "Anna Müller"
    assert claims["is_owner"] is False
    assert claims["room_name"] == room.external_id


def test_host_token_is_owner(make_provider):
    provider = make_provider("daily")
    room = provider.create_room(room_request())
    assert token_claims(provider.host_url(room, HOST))["is_owner"] is True


def test_private_room_refuses_url_without_token(make_provider):
    provider = make_provider("daily")
    room = provider.create_room(room_request())
    assert visit(room.data["url"])["status"] == 403


def test_update_posts_new_expiry(sandbox, make_provider):
    provider = make_provider("daily")
    room = provider.create_room(room_request())
    later = room_request(ends_at=room_request().ends_at.replace(year=2040))
    provider.update_room(room, later)
    update = sandbox.received("daily")[-1]
    assert (update.method, update.path) == ("POST", f"/daily/v1/rooms/{room.external_id}")
    assert sandbox.rooms("daily")[room.external_id].data["config"]["exp"] == int(
        (later.ends_at.timestamp()) + 6 * 3600)


def test_room_status_from_presence(make_provider):
    provider = make_provider("daily")
    room = provider.create_room(room_request())
    assert provider.room_status(room).participant_count == 0
    visit(provider.join_url(room, PARTICIPANT))
    status = provider.room_status(room)
    assert status.running is True
    assert status.participant_count == 1
