"""Presence: moderators and organizers see how many clients each event has."""

from __future__ import annotations

import os
import time
import uuid

import db_support
import live_support
import pytest

from eventhub.live.presence import Presence

app_config, live_server, sio = live_support.app_config, live_support.live_server, live_support.sio


@pytest.fixture
def world(create_user, create_event, create_session, create_participant, api_token):
    organizer, moderator, stranger = (create_user(r) for r in ("organizer", "moderator",
                                                                "moderator"))
    event, other = create_event(), create_event(slug="other")
    create_session(event, moderators=[moderator])
    create_session(other, moderators=[stranger])
    participant = create_participant(event)
    return {"event": event.id, "other": other.id, "organizer": api_token(organizer),
            "moderator": api_token(moderator), "stranger": api_token(stranger),
            "participant": participant.token}


def test_moderators_see_the_count_change_as_clients_come_and_go(sio, world):
    moderator = sio(world["moderator"])
    ack = moderator.subscribe(world["event"])
    assert ack["presence"] == {"event_id": world["event"], "clients": 1}
    visitors = [sio() for _ in range(3)]
    for visitor in visitors:
        visitor.subscribe(world["event"])
    sio().subscribe(world["other"])  # another event's client does not count here
    moderator.wait_for("presence", lambda p: p["clients"] == 4)
    visitors[0].close()
    moderator.wait_for("presence", lambda p: p["clients"] == 3)
    assert all(p["event_id"] == world["event"] for p in moderator.received("presence"))
    organizer = sio(world["organizer"])
    assert organizer.subscribe(world["event"])["presence"]["clients"] == 4


def test_presence_is_coalesced(sio, world):
    moderator = sio(world["moderator"])
    moderator.subscribe(world["event"])
    started = time.monotonic()
    for _ in range(8):
        sio().subscribe(world["event"])
    moderator.wait_for("presence", lambda p: p["clients"] == 9)
    elapsed = time.monotonic() - started
    # At most one message per period (0.1 s in tests), not one per subscription.
    assert len(moderator.received("presence")) <= elapsed / 0.1 + 2


def test_participants_anonymous_and_other_moderators_get_no_presence(sio, world, app):
    others = [sio(world["participant"]), sio(), sio(world["stranger"])]
    for client in others:
        assert "presence" not in client.subscribe(world["event"])
    moderator = sio(world["moderator"])
    moderator.subscribe(world["event"])
    sio().subscribe(world["event"])
    moderator.wait_for("presence", lambda p: p["clients"] == 5)
    live_support.wait_scans(app)  # presence went out again meanwhile, to the moderator only
    assert all(client.received("presence") == [] for client in others)


def test_resubscribing_counts_once(sio, world):
    moderator = sio(world["moderator"])
    moderator.subscribe(world["event"])
    assert moderator.subscribe(world["event"])["presence"]["clients"] == 1


# -- the counts across server processes (Redis) -------------------------------------------------

REDIS_URL = os.environ.get("EVENTHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture
def redis_url():
    """A reachable Redis, or skip (fail when EVENTHUB_REQUIRE_SERVICES=1)."""
    return db_support.require_redis(REDIS_URL)


def test_counts_add_up_across_servers_and_a_closed_server_drops_out(redis_url):
    prefix = f"eventhub:test-presence:{uuid.uuid4().hex}"
    one, two = Presence(redis_url, prefix=prefix), Presence(redis_url, prefix=prefix)
    try:
        one.add(7, "a")
        one.add(7, "b")
        two.add(7, "c")
        two.add(8, "d")
        one.sync()
        two.sync()
        assert one.counts([7, 8]) == two.counts([7, 8]) == {7: 3, 8: 1}
        two.remove("c")
        two.sync()
        assert one.counts([7]) == {7: 2}
        two.close()
        assert one.counts([7, 8]) == {7: 2, 8: 0}
    finally:
        one.close()


def test_an_expired_server_no_longer_counts(redis_url):
    prefix = f"eventhub:test-presence:{uuid.uuid4().hex}"
    one, crashed = Presence(redis_url, prefix=prefix), Presence(redis_url, prefix=prefix, ttl=1)
    try:
        crashed.add(7, "x")
        crashed.sync()
        one.sync()
        assert one.counts([7]) == {7: 1}
        time.sleep(1.2)  # the crashed process stopped refreshing its hash
        assert one.counts([7]) == {7: 0}
    finally:
        one.close()
        crashed.redis.close()
