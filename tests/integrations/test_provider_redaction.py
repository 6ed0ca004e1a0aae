"""No secret, token, Authorization header or signed query string in messages or logs."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from provider_support import HOST, PARTICIPANT, room_request

from integrations.base import ProviderError
from integrations.http import REDACTED, redact
from integrations.registry import PROVIDERS


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("Authorization: Bearer abc.def.ghi", "abc.def.ghi"),
        ("authorization=Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("sent bearer eyJhbGciOi.x.y to zoom", "eyJhbGciOi.x.y"),
        ("GET https://bbb.example.org/api/join?fullName=A&checksum=9f86d0 failed", "9f86d0"),
        ("see https://meet.example.org/room?jwt=eyJ0eXAi.payload.sig#frag", "eyJ0eXAi"),
        ('{"access_token": "tok-123456", "expires_in": 3599}', "tok-123456"),
        ("client_secret=s3cr3t-value&grant_type=client_credentials", "s3cr3t-value"),
        ("moderatorPW=mod-pass-1 attendeePW=att-pass-2", "mod-pass-1"),
    ],
)
def test_redact_patterns(text, hidden):
    assert hidden not in redact(text)
    assert REDACTED in redact(text)


def test_redact_known_secret_values_anywhere():
    assert redact("key k3y-value-9 leaked", ["k3y-value-9"]) == f"key {REDACTED} leaked"


def test_redact_ignores_trivially_short_values():
    assert redact("a b c", ["a"]) == "a b c"


#: Query parameters of join and host URLs that carry credentials.
SECRET_PARAMS = {"t", "jwt", "zak", "checksum", "password", "roomKey", "pwd", "x"}


def collect_secrets(sandbox, urls: list[str]) -> set[str]:
    """Every secret value the run has seen: config secrets, issued tokens, signatures."""
    env = sandbox.env()
    found = {value for name, value in env.items()
             if any(part in name for part in ("SECRET", "API_KEY"))}
    for name in ("zoom", "teams"):
        found |= sandbox.simulators[name].tokens
    for request in sandbox.received("bigbluebutton"):
        for field in ("checksum", "moderatorPW", "attendeePW"):
            if field in request.query:
                found.add(request.query[field])
    for url in urls:
        for name, values in parse_qs(urlsplit(url).query).items():
            if name in SECRET_PARAMS:
                found.update(values)
    return found


def test_no_secret_in_logs_or_errors(sandbox, make_provider, caplog):
    caplog.set_level(logging.DEBUG)
    urls: list[str] = []
    messages: list[str] = []
    for name in PROVIDERS:
        provider = make_provider(name)
        room = provider.create_room(room_request())
        urls += [provider.join_url(room, PARTICIPANT), provider.host_url(room, HOST)]
        provider.update_room(room, room_request(title="Moved"))
        provider.room_status(room)
        provider.delete_room(room)
    sandbox.simulators["zoom"].expire_tokens()
    make_provider("zoom").create_room(room_request("after-expiry"))
    for name, bad in [("bigbluebutton", {"BBB_SECRET": "wrong-bbb-secret-1"}),
                      ("zoom", {"ZOOM_CLIENT_SECRET": "wrong-zoom-secret-1"}),
                      ("daily", {"DAILY_API_KEY": "wrong-daily-key-1"}),
                      ("whereby", {"WHEREBY_API_KEY": "wrong-whereby-key-1"}),
                      ("teams", {"MSGRAPH_CLIENT_SECRET": "wrong-graph-secret-1"})]:
        with pytest.raises(ProviderError) as info:
            make_provider(name, **bad).create_room(room_request())
        messages.append(str(info.value))
        urls.append(f"?x={next(iter(bad.values()))}")  # the wrong values are secrets too
    for name in ("bigbluebutton", "zoom", "daily"):
        sandbox.faults.reset(name)
        with pytest.raises(ProviderError) as info:
            make_provider(name).create_room(room_request("faulty"))
        messages.append(str(info.value))

    secrets = collect_secrets(sandbox, urls)
    assert len(secrets) > 15
    logged = caplog.text
    assert "bigbluebutton GET /bbb/bigbluebutton/api/create -> 200" in logged
    for secret in secrets:
        assert secret not in logged
        for message in messages:
            assert secret not in message
    assert "checksum=" not in logged
    assert "Authorization" not in logged
