"""The provider contract, run against the sandbox for every registered provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from provider_support import HOST, PARTICIPANT, room_request, visit

from integrations.base import Room, RoomStatus, VideoProvider
from integrations.registry import PROVIDERS

pytestmark = pytest.mark.parametrize("name", list(PROVIDERS))


def test_create_room_idempotent_on_key(sandbox, make_provider, name):
    provider = make_provider(name)
    first = provider.create_room(room_request())
    second = make_provider(name).create_room(room_request())
    assert first.external_id == second.external_id
    assert first.provider == name
    visit(provider.join_url(second, PARTICIPANT))  # Jitsi rooms exist once someone arrives
    assert sandbox.created(name) == 1
    assert list(sandbox.rooms(name)) == [first.external_id]


def test_create_room_distinct_keys_distinct_rooms(sandbox, make_provider, name):
    provider = make_provider(name)
    one = provider.create_room(room_request("session-1"))
    two = provider.create_room(room_request("session-2"))
    assert one.external_id != two.external_id


def test_join_url_has_display_name_and_participant_role(sandbox, make_provider, name):
    provider = make_provider(name)
    room = provider.create_room(room_request())
    url = provider.join_url(room, PARTICIPANT)
    page = visit(url)
    assert page["status"] == 200
    assert page["role"] == "participant"
    if name != "teams":  # Teams asks guests for their name itself: no URL parameter
        assert page["name"] == PARTICIPANT.display_name
    if provider.host_rights_by_url():
        assert url != provider.host_url(room, HOST)


def test_host_url_grants_host_rights(sandbox, make_provider, name):
    provider = make_provider(name)
    room = provider.create_room(room_request())
    page = visit(provider.host_url(room, HOST))
    assert page["status"] == 200
    if provider.host_rights_by_url():
        assert page["role"] == "host"
    else:
        assert page["role"] == "participant"


def test_host_url_not_in_participant_data(sandbox, make_provider, name):
    provider = make_provider(name)
    room = provider.create_room(room_request())
    if not provider.host_rights_by_url():
        pytest.skip("host rights come from the organizer's account")
    host = provider.host_url(room, HOST)
    assert host not in repr(room.data)
    assert host not in provider.join_url(room, PARTICIPANT)


def _held(sandbox, name: str, room: Room) -> dict:
    """What the provider now holds of a room: its title and times, where it keeps them."""
    if name in ("jitsi", "bigbluebutton"):  # no schedule at the provider: the stored data
        return {"title": room.data.get("title") or room.data.get("name")}
    data = sandbox.rooms(name)[room.external_id].data
    if name == "zoom":
        start = datetime.strptime(data["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        return {"title": data["topic"], "starts_at": start,
                "ends_at": start + timedelta(minutes=data["duration"])}
    if name == "teams":
        return {"title": data["subject"],
                "starts_at": datetime.fromisoformat(data["startDateTime"].replace("Z", "+00:00")),
                "ends_at": datetime.fromisoformat(data["endDateTime"].replace("Z", "+00:00"))}
    if name == "daily":  # no title; open until a grace period after the end
        return {"open_until": datetime.fromtimestamp(data["config"]["exp"], UTC)}
    if name == "whereby":  # no title; open until its endDate
        return {"open_until": datetime.fromisoformat(data["endDate"])}
    raise AssertionError(f"no reading of {name}'s rooms")


def test_update_room_carries_the_new_title_and_times(sandbox, make_provider, name):
    """After a reschedule the provider holds the new title and times (where it keeps them),
    and the room still lets a participant in."""
    provider = make_provider(name)
    room = provider.create_room(room_request())
    moved = room_request(title="Moved", starts_at=room_request().starts_at + timedelta(hours=2),
                         ends_at=room_request().ends_at + timedelta(hours=2))
    updated = provider.update_room(room, moved)
    assert isinstance(updated, Room)
    assert updated.provider == name
    held = _held(sandbox, name, updated)
    if "title" in held:
        assert held["title"] == "Moved"
    if "starts_at" in held:
        assert (held["starts_at"], held["ends_at"]) == (moved.starts_at, moved.ends_at)
    if "open_until" in held:
        assert held["open_until"] >= moved.ends_at
    assert visit(provider.join_url(updated, PARTICIPANT))["role"] == "participant"


def test_delete_room_twice_is_ok(sandbox, make_provider, name):
    """The room is gone at the provider; deleting again is no error. Jitsi keeps no rooms:
    its delete calls nothing."""
    provider = make_provider(name)
    room = provider.create_room(room_request())
    calls_before = len(sandbox.received(name))
    if name != "jitsi":
        assert room.external_id in sandbox.rooms(name)
    provider.delete_room(room)
    provider.delete_room(room)
    assert room.external_id not in sandbox.rooms(name)
    if name == "jitsi":
        assert len(sandbox.received(name)) == calls_before


def test_room_status_says_running_once_someone_is_in(sandbox, make_provider, name):
    """Providers that can tell say a fresh meeting is not running and a joined one is;
    the others say nothing (None), never a guess."""
    provider = make_provider(name)
    room = provider.create_room(room_request())
    before = provider.room_status(room)
    if type(provider).room_status is VideoProvider.room_status:
        assert before is None
        return
    assert isinstance(before, RoomStatus) and not before.running
    visit(provider.host_url(room, HOST))  # the host starts the meeting
    visit(provider.join_url(room, PARTICIPANT))
    after = provider.room_status(room)
    assert after.running
    if after.participant_count is not None:
        assert after.participant_count >= 1
