"""Jitsi: room names from keys, the display-name fragment, JWT claims per join."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from provider_support import HOST, PARTICIPANT, room_request

from integrations.jitsi import TOKEN_TTL_SECONDS, JitsiProvider
from integrations.sandbox import jitsi as sim

NOW = 1_800_000_000.0


def claims(url: str) -> dict:
    """Decode and verify the ``?jwt=`` of ``url`` with the sandbox secret."""
    token = parse_qs(urlsplit(url).query)["jwt"][0]
    return jwt.decode(token, sim.APP_SECRET, algorithms=["HS256"], audience="jitsi",
                      options={"verify_exp": False, "verify_nbf": False})


def test_room_url_is_base_url_plus_slug_from_key():
    provider = JitsiProvider({"JITSI_BASE_URL": "https://meet.example.org/"})
    room = provider.create_room(room_request("Event 1 / Session 7"))
    assert room.data["url"] == f"https://meet.example.org/{room.external_id}"
    assert room.external_id.startswith("event-1-session-7-")
    assert provider.create_room(room_request("Event 1 / Session 7")) == room


def test_default_base_url_is_meet_jit_si():
    room = JitsiProvider({}).create_room(room_request())
    assert room.data["url"].startswith("https://meet.jit.si/")


def test_display_name_in_fragment_without_jwt():
    provider = JitsiProvider({})
    room = provider.create_room(room_request())
    url = provider.join_url(room, PARTICIPANT)
    fragment = urlsplit(url).fragment
    name, _, value = fragment.partition("=")
    assert name == "userInfo.displayName"
    assert json.loads(unquote(value)) == "Anna Müller"
    assert "jwt=" not in url
    assert not provider.host_rights_by_url()


def test_jwt_claims_for_participant(make_provider):
    provider = make_provider("jitsi", clock=lambda: NOW)
    room = provider.create_room(room_request())
    found = claims(provider.join_url(room, PARTICIPANT))
    assert found["aud"] == "jitsi"
    assert found["iss"] == sim.APP_ID
    assert found["sub"] == "127.0.0.1"
    assert found["room"] == room.external_id
    assert found["nbf"] <= NOW < found["exp"] == NOW + TOKEN_TTL_SECONDS
    user = found["context"]["user"]
    assert user == {"id": "p-17", "name": "Anna Müller", "email": "anna@example.org",
                    "moderator": False, "affiliation": "member"}


def test_jwt_claims_for_moderator_default_affiliation(make_provider):
    provider = make_provider("jitsi", clock=lambda: NOW)
    room = provider.create_room(room_request())
    user = claims(provider.host_url(room, HOST))["context"]["user"]
    assert user["moderator"] is True
    assert user["affiliation"] == "owner"
    assert provider.host_rights_by_url()


def test_moderator_affiliation_is_configurable(make_provider):
    provider = make_provider("jitsi", JITSI_MODERATOR_AFFILIATION="moderator")
    room = provider.create_room(room_request())
    assert claims(provider.host_url(room, HOST))["context"]["user"]["affiliation"] == "moderator"
    assert claims(provider.join_url(room, HOST))["context"]["user"]["moderator"] is False


def test_no_http_calls(sandbox, make_provider):
    provider = make_provider("jitsi")
    room = provider.create_room(room_request())
    provider.update_room(room, room_request(title="New"))
    provider.delete_room(room)
    assert sandbox.received("jitsi") == []
    assert provider.room_status(room) is None
