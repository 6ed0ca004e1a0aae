"""Whereby: meetings found again by their room-name prefix, host URL host-only."""

from __future__ import annotations

from datetime import timedelta

from provider_support import HOST, PARTICIPANT, room_request, visit

from integrations.whereby import room_prefix


def test_create_sends_end_date_prefix_and_host_field(sandbox, make_provider):
    room = make_provider("whereby").create_room(room_request())
    create = [r for r in sandbox.received("whereby") if r.method == "POST"][0]
    body = create.json()
    assert body["fields"] == ["hostRoomUrl"]
    assert body["roomNamePrefix"] == room_prefix(room_request().key)
    assert body["endDate"].endswith("Z")
    assert create.headers["Authorization"] == "Bearer sandbox-whereby-api-key"
    assert "hostRoomUrl" in room.host_data
    assert "hostRoomUrl" not in room.data


def test_second_create_finds_meeting_by_prefix(sandbox, make_provider):
    first = make_provider("whereby").create_room(room_request())
    second = make_provider("whereby").create_room(room_request())
    assert first == second  # host URL fetched with ?fields=hostRoomUrl
    methods = [r.method for r in sandbox.received("whereby")]
    assert methods == ["GET", "POST", "GET", "GET"]


def test_prefix_is_lowercase_alphanumeric():
    prefix = room_prefix("Event 1 / Session 7")
    assert prefix.isalnum()
    assert prefix == prefix.lower()


def test_host_url_carries_room_key(make_provider):
    provider = make_provider("whereby")
    room = provider.create_room(room_request())
    host = provider.host_url(room, HOST)
    assert "roomKey=" in host
    assert "roomKey=" not in provider.join_url(room, PARTICIPANT)
    assert visit(host)["name"] == "Oleg Ivanov"


def test_update_within_room_lifetime_changes_nothing(sandbox, make_provider):
    provider = make_provider("whereby")
    room = provider.create_room(room_request())
    assert provider.update_room(room, room_request(title="Renamed")) == room
    assert sandbox.created("whereby") == 1


def test_update_past_room_end_replaces_room(sandbox, make_provider):
    provider = make_provider("whereby")
    room = provider.create_room(room_request())
    later = room_request(ends_at=room_request().ends_at + timedelta(days=1))
    new = provider.update_room(room, later)
    assert new.external_id != room.external_id
    assert list(sandbox.rooms("whereby")) == [new.external_id]
