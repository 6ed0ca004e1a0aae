"""Zoom: token caching and renewal, UTC start times, webhook signatures, idempotent create."""

from __future__ import annotations

import hashlib
import hmac
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from provider_support import HOST, PARTICIPANT, SLOW, room_request, visit

from integrations.base import ProviderRejected, ProviderUnavailable
from integrations.sandbox import zoom as sim
from integrations.zoom import url_validation_response, verify_webhook, zoom_time


def zoom_sim(sandbox) -> sim.ZoomSimulator:
    """The sandbox's Zoom simulator."""
    return sandbox.simulators["zoom"]


def test_token_is_cached(sandbox, make_provider):
    provider = make_provider("zoom")
    room = provider.create_room(room_request("a"))
    provider.create_room(room_request("b"))
    provider.host_url(room, HOST)
    assert zoom_sim(sandbox).tokens_issued == 1
    token_call = sandbox.received("zoom")[0]
    assert token_call.path == "/zoom/oauth/token"
    assert token_call.query == {"grant_type": "account_credentials", "account_id": sim.ACCOUNT_ID}
    assert token_call.headers["Authorization"].startswith("Basic ")


def test_token_renewed_once_on_401(sandbox, make_provider):
    provider = make_provider("zoom")
    room = provider.create_room(room_request())
    zoom_sim(sandbox).expire_tokens()
    assert visit(provider.host_url(room, HOST))["role"] == "host"
    assert zoom_sim(sandbox).tokens_issued == 2
    paths = [r.path for r in sandbox.received("zoom") if not r.path.startswith("/zoom/s/")]
    assert paths[-3:] == [f"/zoom/v2/meetings/{room.external_id}", "/zoom/oauth/token",
                          f"/zoom/v2/meetings/{room.external_id}"]


def test_concurrent_creates_share_one_token(sandbox, make_provider):
    provider = make_provider("zoom")
    with ThreadPoolExecutor(max_workers=12) as pool:
        rooms = list(pool.map(provider.create_room, [room_request(f"s-{i}") for i in range(12)]))
    assert len({room.external_id for room in rooms}) == 12
    assert zoom_sim(sandbox).tokens_issued == 1
    assert sandbox.created("zoom") == 12


def test_token_renewed_when_expired_by_clock(sandbox, make_provider):
    now = [1_800_000_000.0]
    provider = make_provider("zoom", clock=lambda: now[0])
    provider.create_room(room_request("a"))
    now[0] += 3600
    provider.create_room(room_request("b"))
    assert zoom_sim(sandbox).tokens_issued == 2


def test_bad_client_secret_rejected_without_leaking_it(make_provider):
    provider = make_provider("zoom", ZOOM_CLIENT_SECRET="wrong-client-secret")
    with pytest.raises(ProviderRejected) as info:
        provider.create_room(room_request())
    assert info.value.status == 400
    assert "Invalid client_id or client_secret" in str(info.value)
    assert "wrong-client-secret" not in str(info.value)


def test_start_time_sent_as_utc_with_z(sandbox, make_provider):
    moscow = datetime(2021, 6, 28, 10, 0, tzinfo=ZoneInfo("Europe/Moscow"))
    req = room_request(starts_at=moscow, ends_at=moscow.replace(hour=11, minute=30))
    room = make_provider("zoom").create_room(req)
    create = next(r for r in sandbox.received("zoom") if r.method == "POST"
                  and r.path.endswith("/meetings"))
    body = create.json()
    assert body["start_time"] == "2021-06-28T07:00:00Z"
    assert body["timezone"] == "Europe/Moscow"
    assert body["duration"] == 90
    assert body["type"] == 2
    stored = sandbox.rooms("zoom")[room.external_id].data
    assert stored["start_time"] == "2021-06-28T07:00:00Z"  # not read as Moscow local time


def test_zoom_time_converts_to_utc():
    assert zoom_time(datetime(2021, 6, 28, 23, 30, tzinfo=UTC)) == "2021-06-28T23:30:00Z"


def test_join_url_public_start_url_host_only(make_provider):
    provider = make_provider("zoom")
    room = provider.create_room(room_request())
    assert "start_url" not in room.data
    assert "zak=" in room.host_data["start_url"]
    assert "zak=" not in provider.join_url(room, PARTICIPANT)
    fresh = provider.host_url(room, HOST)
    assert fresh != room.host_data["start_url"]  # fetched anew: start URLs expire


def test_create_finds_meeting_after_lost_response(sandbox, make_provider):
    provider = make_provider("zoom")
    provider.create_room(room_request("warm-up"))  # token fetched
    sandbox.faults.latency("zoom", SLOW, method="POST", path="/meetings")
    with pytest.raises(ProviderUnavailable):
        provider.create_room(room_request())
    # the meeting was created although the answer never arrived
    sandbox.faults.clear()
    room = provider.create_room(room_request())
    again = provider.create_room(room_request())
    assert room.external_id == again.external_id
    assert sandbox.created("zoom") == 2  # warm-up + one for the key


def test_create_looks_through_every_page(sandbox, make_provider, monkeypatch):
    monkeypatch.setattr("integrations.zoom.PAGE_SIZE", 2)
    provider = make_provider("zoom")
    keys = [f"s-{i}" for i in range(5)]
    rooms = [provider.create_room(room_request(key)) for key in keys]
    assert provider.create_room(room_request(keys[-1])).external_id == rooms[-1].external_id
    assert sandbox.created("zoom") == 5
    lists = [r for r in sandbox.received("zoom") if r.method == "GET" and "users" in r.path]
    assert any("next_page_token" in r.query for r in lists)


def test_update_patches_meeting(sandbox, make_provider):
    provider = make_provider("zoom")
    room = provider.create_room(room_request())
    provider.update_room(room, room_request(title="Moved"))
    patch = [r for r in sandbox.received("zoom") if r.method == "PATCH"][0]
    assert patch.json()["topic"] == "Moved"
    assert sandbox.rooms("zoom")[room.external_id].data["topic"] == "Moved"


def test_delete_of_gone_meeting_is_success(sandbox, make_provider):
    provider = make_provider("zoom")
    room = provider.create_room(room_request())
    provider.delete_room(room)
    provider.delete_room(room)
    statuses = [r.method for r in sandbox.received("zoom")]
    assert statuses.count("DELETE") == 2


def test_rate_limit_retry_after(sandbox, make_provider):
    provider = make_provider("zoom")
    room = provider.create_room(room_request())
    sandbox.faults.status("zoom", 429, retry_after=7, method="PATCH")
    with pytest.raises(ProviderUnavailable) as info:
        provider.update_room(room, room_request())
    assert info.value.retry_after == 7
    assert info.value.status == 429


def test_room_status_started(make_provider):
    provider = make_provider("zoom")
    room = provider.create_room(room_request())
    assert provider.room_status(room).running is False
    visit(provider.host_url(room, HOST))
    assert provider.room_status(room).running is True
    provider.delete_room(room)
    assert provider.room_status(room).running is False


SECRET = sim.WEBHOOK_SECRET
BODY = b'{"event":"meeting.started","payload":{"object":{"id":"85746065"}}}'
NOW = 1_800_000_000


def sign(body: bytes, timestamp: str, secret: str = SECRET) -> str:
    """Zoom's x-zm-signature for ``body``."""
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    return f"v0={digest}"


def test_webhook_signature_accepted():
    assert verify_webhook(SECRET, BODY, str(NOW), sign(BODY, str(NOW)), NOW + 299)


@pytest.mark.parametrize(
    ("body", "timestamp", "signature", "now"),
    [
        (BODY + b" ", str(NOW), sign(BODY, str(NOW)), NOW),  # body changed
        (BODY, str(NOW), sign(BODY, str(NOW), "other-secret"), NOW),  # wrong secret
        (BODY, str(NOW), sign(BODY, str(NOW))[3:], NOW),  # no v0= prefix
        (BODY, str(NOW), "", NOW),  # no signature
        (BODY, str(NOW), sign(BODY, str(NOW)), NOW + 301),  # stale
        (BODY, str(NOW), sign(BODY, str(NOW)), NOW - 301),  # from the future
        (BODY, "yesterday", sign(BODY, "yesterday"), NOW),  # not Unix seconds
    ],
    ids=["body", "secret", "prefix", "missing", "stale", "future", "timestamp"],
)
def test_webhook_signature_rejected(body, timestamp, signature, now):
    assert not verify_webhook(SECRET, body, timestamp, signature, now)


def test_url_validation_response():
    answer = url_validation_response(SECRET, "qgg8vlvZRS6UYooatFL8Aw")
    expected = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert answer == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_meetings_go_to_the_requested_host_with_their_settings(sandbox, make_provider):
    """``RoomRequest.host`` picks the Zoom user; moderators and interpreters go in settings."""
    from integrations.base import Interpreter
    from integrations.sandbox.zoom import HOST_USERS

    provider = make_provider("zoom")
    req = room_request(host=HOST_USERS[2], alternative_hosts=("a@example.org", "b@example.org"),
                       interpreters=(Interpreter("i@example.org", ("ru", "de")),))
    room = provider.create_room(req)
    meeting = sandbox.rooms("zoom")[room.external_id]
    assert meeting.data["host_id"] == HOST_USERS[2]
    assert room.host_data["host_user"] == HOST_USERS[2]
    assert meeting.data["settings"] == {
        "alternative_hosts": "a@example.org;b@example.org",
        "language_interpretation": {"enable": True, "interpreters": [
            {"email": "i@example.org", "languages": "RU,DE"}]},
    }
    assert provider.create_room(req).external_id == room.external_id  # idempotent on that host


def test_a_new_host_means_a_new_meeting_and_the_old_one_deleted(sandbox, make_provider):
    """Zoom cannot change a meeting's host: update_room schedules anew and deletes the old."""
    from integrations.sandbox.zoom import HOST_USERS

    provider = make_provider("zoom")
    room = provider.create_room(room_request(host=HOST_USERS[0]))
    moved = provider.update_room(room, room_request(host=HOST_USERS[1], title="Moved"))
    assert moved.external_id != room.external_id
    assert list(sandbox.rooms("zoom")) == [moved.external_id]
    assert sandbox.rooms("zoom")[moved.external_id].data["host_id"] == HOST_USERS[1]
    assert sandbox.rooms("zoom")[moved.external_id].data["topic"] == "Moved"


def test_the_simulator_refuses_a_second_meeting_of_one_host_at_once(sandbox, make_provider):
    """As Zoom does: one user hosts one meeting at a time, another user's starts fine."""
    from integrations.sandbox.zoom import HOST_USERS

    provider = make_provider("zoom")
    one = provider.create_room(room_request("k-1", host=HOST_USERS[0]))
    two = provider.create_room(room_request("k-2", host=HOST_USERS[0]))
    three = provider.create_room(room_request("k-3", host=HOST_USERS[1]))
    assert visit(provider.host_url(one, HOST))["status"] == 200
    assert visit(provider.host_url(two, HOST))["status"] == 409
    assert visit(provider.host_url(three, HOST))["status"] == 200


def test_the_simulator_enforces_the_daily_limit_per_host(sandbox, make_provider):
    """Zoom's 100 meeting creates or updates per user a day: the 101st is a 429."""
    from integrations.base import ProviderUnavailable
    from integrations.sandbox.zoom import DAILY_LIMIT, HOST_USERS

    provider = make_provider("zoom")
    room = provider.create_room(room_request(host=HOST_USERS[3]))
    for _ in range(DAILY_LIMIT - 1):
        provider.update_room(room, room_request(host=HOST_USERS[3]))
    with pytest.raises(ProviderUnavailable):
        provider.update_room(room, room_request(host=HOST_USERS[3]))
    assert provider.create_room(room_request("other", host=HOST_USERS[4])).external_id


def test_the_pool_is_zoom_host_users_or_the_one_user(make_provider):
    assert make_provider("zoom", ZOOM_HOST_USERS="").host_pool() == ("me",)
    assert make_provider("zoom", ZOOM_HOST_USERS=" a@x.org, b@x.org ,").host_pool() == (
        "a@x.org", "b@x.org")
