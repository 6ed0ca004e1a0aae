"""BigBlueButton: checksums over the exact query, idempotent create, FAILED answers."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from provider_support import HOST, PARTICIPANT, room_request, visit

from integrations.base import ProviderNotConfigured, ProviderRejected
from integrations.sandbox import bigbluebutton as sim
from integrations.sandbox.bigbluebutton import BigBlueButtonSimulator


@pytest.mark.parametrize(("algorithm", "length"), [("sha1", 40), ("sha256", 64)])
def test_checksum_algorithms(sandbox, make_provider, algorithm, length):
    provider = make_provider("bigbluebutton", BBB_CHECKSUM=algorithm)
    room = provider.create_room(room_request())
    [create] = sandbox.received("bigbluebutton")
    assert create.path.endswith("/api/create")
    assert len(create.query["checksum"]) == length
    query = create.query_string.rsplit("&checksum=", 1)[0]
    expected = hashlib.new(algorithm, f"create{query}{sim.SECRET}".encode()).hexdigest()
    assert create.query["checksum"] == expected
    assert room.external_id in sandbox.rooms("bigbluebutton")


def test_default_checksum_is_sha1(make_provider):
    assert make_provider("bigbluebutton").algorithm == "sha1"


def test_unknown_checksum_algorithm_refused(make_provider):
    with pytest.raises(ProviderNotConfigured) as info:
        make_provider("bigbluebutton", BBB_CHECKSUM="md5")
    assert info.value.missing == ("BBB_CHECKSUM",)


def test_checksum_covers_exact_encoded_query(sandbox, make_provider):
    provider = make_provider("bigbluebutton")
    title = "Bürgermeister & Partner: 50% + 1 = Freundschaft / дружба"
    provider.create_room(room_request(title=title))
    [create] = sandbox.received("bigbluebutton")
    assert BigBlueButtonSimulator.checksum_ok("create", create.query_string)
    assert create.query["name"] == title
    assert "%20" in create.query_string  # spaces sent (and hashed) as %20, never '+'


def test_signed_join_url_checks_out(make_provider):
    provider = make_provider("bigbluebutton")
    room = provider.create_room(room_request())
    url = provider.join_url(room, PARTICIPANT)
    query = urlsplit(url).query
    assert BigBlueButtonSimulator.checksum_ok("join", query)
    params = parse_qs(query)
    assert params["role"] == ["VIEWER"]
    assert params["fullName"] == ["Anna Müller"]
    assert parse_qs(urlsplit(provider.host_url(room, HOST)).query)["role"] == ["MODERATOR"]


def test_wrong_secret_is_rejected_without_leaking_it(make_provider):
    provider = make_provider("bigbluebutton", BBB_SECRET="not-the-sandbox-secret")
    with pytest.raises(ProviderRejected) as info:
        provider.create_room(room_request())
    assert "checksumError" in str(info.value)
    assert "not-the-sandbox-secret" not in str(info.value)


def test_repeated_create_sends_same_passwords(sandbox, make_provider):
    make_provider("bigbluebutton").create_room(room_request())
    make_provider("bigbluebutton").create_room(room_request())
    first, second = sandbox.received("bigbluebutton")
    for field in ("attendeePW", "moderatorPW"):
        assert first.query[field] == second.query[field]
    assert first.query["attendeePW"] != first.query["moderatorPW"]
    assert sandbox.created("bigbluebutton") == 1


def test_id_not_unique_when_passwords_differ(sandbox, make_provider):
    room = make_provider("bigbluebutton").create_room(room_request())
    sandbox.rooms("bigbluebutton")[room.external_id].data["attendeePW"] = "someone-else"
    with pytest.raises(ProviderRejected, match="idNotUnique"):
        make_provider("bigbluebutton").create_room(room_request())


def test_join_recreates_expired_meeting(sandbox, make_provider):
    provider = make_provider("bigbluebutton")
    room = provider.create_room(room_request())
    del sandbox.rooms("bigbluebutton")[room.external_id]  # BBB forgot the empty meeting
    assert visit(provider.join_url(room, PARTICIPANT))["role"] == "participant"
    assert sandbox.created("bigbluebutton") == 2


def test_end_of_unknown_meeting_counts_as_deleted(sandbox, make_provider):
    provider = make_provider("bigbluebutton")
    room = provider.create_room(room_request())
    provider.delete_room(room)
    provider.delete_room(room)
    calls = [r.path.rsplit("/", 1)[1] for r in sandbox.received("bigbluebutton")]
    assert calls == ["create", "end", "end"]


def test_room_status_from_meeting_info(sandbox, make_provider):
    provider = make_provider("bigbluebutton")
    room = provider.create_room(room_request())
    assert provider.room_status(room).running is False
    visit(provider.join_url(room, PARTICIPANT))
    status = provider.room_status(room)
    assert status.running is True
    assert status.participant_count == 1
    provider.delete_room(room)
    assert provider.room_status(room).participant_count == 0
