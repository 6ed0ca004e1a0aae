"""Teams: client-credentials token, createOrGet by externalId, organizer host rights."""

from __future__ import annotations

import pytest
from provider_support import HOST, PARTICIPANT, room_request

from integrations.base import ProviderRejected
from integrations.sandbox import teams as sim
from integrations.teams import TeamsProvider


def test_create_or_get_is_idempotent_on_external_id(sandbox, make_provider):
    first = make_provider("teams").create_room(room_request())
    second = make_provider("teams").create_room(room_request())
    assert first == second
    creates = [r for r in sandbox.received("teams") if r.path.endswith("/createOrGet")]
    assert [c.json()["externalId"] for c in creates] == [room_request().key] * 2
    assert creates[0].path == f"/graph/v1.0/users/{sim.USER_ID}/onlineMeetings/createOrGet"
    assert sandbox.created("teams") == 1


def test_times_sent_in_utc(sandbox, make_provider):
    make_provider("teams").create_room(room_request())
    body = [r for r in sandbox.received("teams") if r.path.endswith("/createOrGet")][0].json()
    assert body["startDateTime"].endswith("Z")
    assert body["subject"] == room_request().title


def test_token_request_is_client_credentials(sandbox, make_provider):
    make_provider("teams").create_room(room_request())
    token = sandbox.received("teams")[0]
    assert token.path == f"/login/{sim.TENANT_ID}/oauth2/v2.0/token"
    assert b"grant_type=client_credentials" in token.body
    assert b"scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in token.body


def test_token_renewed_on_401(sandbox, make_provider):
    provider = make_provider("teams")
    room = provider.create_room(room_request())
    sandbox.simulators["teams"].expire_tokens()
    provider.update_room(room, room_request(title="Moved"))
    assert sandbox.rooms("teams")[room.external_id].data["subject"] == "Moved"
    assert sum(r.path.endswith("/token") for r in sandbox.received("teams")) == 2


def test_bad_secret_rejected_with_aad_message(make_provider):
    provider = make_provider("teams", MSGRAPH_CLIENT_SECRET="wrong-graph-secret")
    with pytest.raises(ProviderRejected) as info:
        provider.create_room(room_request())
    assert info.value.status == 401
    assert "AADSTS7000215" in str(info.value)
    assert "wrong-graph-secret" not in str(info.value)


def test_join_and_host_url_are_join_web_url(make_provider):
    provider = make_provider("teams")
    room = provider.create_room(room_request())
    assert provider.join_url(room, PARTICIPANT) == room.data["joinWebUrl"]
    assert provider.host_url(room, HOST) == room.data["joinWebUrl"]
    assert provider.host_rights_by_url() is False


def test_default_token_url_names_tenant():
    assert "<tenant>" in TeamsProvider.base_urls["MSGRAPH_TOKEN_URL"]
