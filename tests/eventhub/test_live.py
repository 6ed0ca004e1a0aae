"""The ``/live`` contract over a real socket: connect, subscribe, session.updated, acks, access."""

from __future__ import annotations

import threading

import live_support
import pytest
import socketio

from eventhub.extensions import db
from eventhub.models import Session, User
from eventhub.services import provisioning, switching
from eventhub.services import sessions as session_service
from tests.conftest import bearer

# The live fixtures (tests/conftest.py may take them over with pytest_plugins).
app_config, live_server, sio = live_support.app_config, live_support.live_server, live_support.sio


@pytest.fixture
def world(create_user, create_event, create_session, create_participant, api_token):
    """A published event with two sessions (the moderator has the first), and everyone's token."""
    organizer = create_user("organizer")
    moderator = create_user("moderator")
    stranger = create_user("moderator")
    event = create_event()
    hidden = create_event(slug="hidden", published=False)
    first = create_session(event, moderators=[moderator])
    second = create_session(event)
    participant = create_participant(event, attendance="remote")
    return {
        "event": event.id, "hidden": hidden.id, "first": first.id, "second": second.id,
        "organizer": api_token(organizer), "moderator": api_token(moderator),
        "stranger": api_token(stranger), "participant": participant.token,
    }  # fmt: skip


def test_connect_with_api_token_participant_token_or_anonymously(sio, world):
    for token in (world["organizer"], world["participant"], None):
        client = sio(token)
        assert client.sio.connected
        ack = client.subscribe(world["event"])
        assert ack["ok"] is True
        assert {s["session_id"] for s in ack["sessions"]} == {world["first"], world["second"]}


def test_connect_with_bad_token_is_refused(sio):
    client = sio("not-a-token", connect=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect()
    assert not client.sio.connected


def test_anonymous_subscribes_only_to_published_events(sio, world):
    anonymous = sio()
    assert anonymous.subscribe(world["hidden"])["error"]["code"] == "not_found"
    assert sio(world["organizer"]).subscribe(world["hidden"])["ok"] is True


@pytest.mark.parametrize("data,code,field", [
    ({"event_id": "x"}, "invalid", "event_id"),
    ({"event_id": 1, "extra": 1}, "invalid", "extra"),
    ("not an object", "bad_request", None),
    ({"event_id": 9999}, "not_found", None),
])
def test_subscribe_errors_come_in_the_rest_shape(sio, world, data, code, field):
    ack = sio().call("subscribe", data)
    assert set(ack) == {"error"} and set(ack["error"]) == {"code", "message", "fields"}
    assert ack["error"]["code"] == code
    if field:
        assert field in ack["error"]["fields"]


def test_subscribe_ack_is_the_snapshot_in_the_broadcast_shape(sio, world, app):
    ack = sio().subscribe(world["event"])
    first = next(s for s in ack["sessions"] if s["session_id"] == world["first"])
    with app.app_context():
        event_session = db.session.get(Session, world["first"])
        assert first == {
            "session_id": event_session.id, "event_id": world["event"], "status": "scheduled",
            "mode": "in_person", "delay_minutes": 0, "room_state": None, "provider": None,
            "starts_at": event_session.starts_at.isoformat(),
            "ends_at": event_session.ends_at.isoformat(), "sequence": 0, "version": 0,
            "expected_starts_at": event_session.starts_at.isoformat(),
            "expected_ends_at": event_session.ends_at.isoformat(),
        }  # fmt: skip


def test_rest_switch_reaches_subscribers_then_the_room_ready_update(sio, world, client, app):
    watcher = sio()
    watcher.subscribe(world["event"])
    response = client.post(f"/api/v1/sessions/{world['first']}/switch", json={"mode": "online"},
                           headers=bearer(world["moderator"]))
    assert response.status_code == 200
    pending = watcher.wait_for("session.updated", lambda p: p["room_state"] == "pending")
    assert pending["session_id"] == world["first"] and pending["mode"] == "online"
    assert pending["provider"] == "jitsi"
    with app.app_context():
        provisioning.dispatcher().wait(10)
    ready = watcher.wait_for("session.updated", lambda p: p["room_state"] == "ready")
    assert ready["session_id"] == world["first"] and ready["sequence"] == pending["sequence"]
    updates = watcher.received("session.updated")
    assert [u["room_state"] for u in updates] == ["pending", "ready"]


def test_updates_reach_only_the_events_subscribers(sio, world, client):
    subscribed, elsewhere = sio(), sio()
    subscribed.subscribe(world["event"])
    elsewhere.subscribe(world["hidden"])  # refused: anonymous; stays unsubscribed
    client.post(f"/api/v1/sessions/{world['second']}/status", json={"status": "live"},
                headers=bearer(world["organizer"]))
    subscribed.wait_for("session.updated", lambda p: p["status"] == "live")
    assert elsewhere.received("session.updated") == []


def _online_and_ready(client, session_id):
    """The update that says the session is online with its room ready. Not the first online
    update: a room made at once publishes a newer version than the switch's, and the gate then
    drops the switch's own when it comes later (a request's updates go out after its response)."""
    return client.wait_for(
        "session.updated", lambda p: p["session_id"] == session_id and p["mode"] == "online"
        and p["room_state"] == "ready")


def test_switch_via_rest_socketio_and_service_publish_the_same_shape(
        sio, world, client, app, create_session):
    with app.app_context():
        event_session = db.session.get(Session, world["first"])
        third = create_session(event_session.event, moderators=list(event_session.moderators))
        third_id = third.id
    with app.app_context():  # the second session is the moderator's too, for the parity
        moderator = db.session.scalar(db.select(User).where(User.role == "moderator"))
        second = db.session.get(Session, world["second"])
        second.moderators.append(moderator)
        db.session.commit()
    watcher = sio()
    watcher.subscribe(world["event"])
    moderator_client = sio(world["moderator"])
    moderator_client.subscribe(world["event"])

    client.post(f"/api/v1/sessions/{world['first']}/switch", json={"mode": "online"},
                headers=bearer(world["moderator"]))
    ack = moderator_client.call("session.switch",
                                {"session_id": world["second"], "mode": "online"})
    assert ack["mode"] == "online" and ack["id"] == world["second"]

    def direct():
        with app.app_context():
            actor = db.session.scalar(db.select(User).where(User.role == "moderator"))
            switching.switch_session(db.session.get(Session, third_id), "online", actor=actor)

    worker = threading.Thread(target=direct)  # as a CLI command or job would: another thread
    worker.start()
    worker.join(10)
    payloads = [_online_and_ready(watcher, sid) for sid in (world["first"], world["second"],
                                                         third_id)]
    shapes = [{k: v for k, v in p.items() if k != "session_id"} for p in payloads]
    assert shapes[0] == shapes[1] == shapes[2]
    assert set(payloads[0]) == {"session_id", "event_id", "status", "mode", "delay_minutes",
                                "room_state", "provider", "starts_at", "ends_at", "sequence",
                                "expected_starts_at", "expected_ends_at", "version"}
    with app.app_context():
        provisioning.dispatcher().wait(10)


def test_status_changes_from_any_path_are_published(sio, world, client, app):
    watcher = sio()
    watcher.subscribe(world["event"])
    client.post(f"/api/v1/sessions/{world['first']}/status", json={"status": "live"},
                headers=bearer(world["organizer"]))
    watcher.wait_for("session.updated", lambda p: p["status"] == "live")
    ack = sio(world["moderator"]).call("session.status",
                                       {"session_id": world["first"], "status": "paused"})
    assert ack["status"] == "paused"
    watcher.wait_for("session.updated", lambda p: p["status"] == "paused")
    with app.app_context():
        organizer = db.session.scalar(db.select(User).where(User.role == "organizer"))
        event_session = db.session.get(Session, world["first"])
        session_service.update_session(organizer, event_session,
                                       {"ends_at": event_session.ends_at.replace(minute=30)})
    moved = watcher.wait_for("session.updated", lambda p: p["ends_at"].endswith(":30:00+00:00"))
    assert moved["sequence"] == 1
    assert [p["status"] for p in watcher.received("session.updated")] == [
        "live", "paused", "paused"]


def test_unchanged_commit_publishes_nothing(sio, world, client):
    watcher = sio()
    watcher.subscribe(world["event"])
    client.post(f"/api/v1/sessions/{world['first']}/switch", json={"mode": "in_person"},
                headers=bearer(world["organizer"]))
    client.post(f"/api/v1/sessions/{world['first']}/status", json={"status": "live"},
                headers=bearer(world["organizer"]))
    watcher.wait_for("session.updated")
    assert len(watcher.received("session.updated")) == 1  # the no-op switch sent nothing


# -- acks, errors and the access matrix ---------------------------------------------------------

@pytest.mark.parametrize("who,session,code", [
    (None, "first", "unauthorized"),
    ("participant", "first", "forbidden"),
    ("stranger", "first", "forbidden"),  # a moderator, but not of this session
    ("moderator", "second", "forbidden"),
    ("moderator", "first", None),
    ("organizer", "second", None),
])
@pytest.mark.parametrize("event,data", [
    ("session.switch", {"mode": "online"}),
    ("session.status", {"status": "live"}),
])
def test_switch_and_status_access(sio, world, app, who, session, code, event, data):
    watcher = sio()
    watcher.subscribe(world["event"])
    actor = sio(world[who] if who else None)
    ack = actor.call(event, {"session_id": world[session], **data})
    if code is None:
        assert ack["id"] == world[session]
        watcher.wait_for("session.updated", lambda p: p["session_id"] == world[session])
    else:
        assert ack["error"]["code"] == code
        assert set(ack["error"]) == {"code", "message", "fields"}
        with app.app_context():
            event_session = db.session.get(Session, world[session])
            assert (event_session.mode, event_session.status) == ("in_person", "scheduled")
        assert watcher.received("session.updated") == []
    with app.app_context():
        provisioning.dispatcher().wait(10)


@pytest.mark.parametrize("event,data,code,field", [
    ("session.status", {"status": "ended"}, "illegal_transition", "status"),
    ("session.status", {"status": "later"}, "invalid", "status"),
    ("session.status", {"status": "delayed"}, "invalid", "delay_minutes"),
    ("session.switch", {"mode": "underwater"}, "invalid", "mode"),
    ("session.switch", {"mode": "online", "provider": "nonesuch"}, None, "provider"),
    ("session.switch", {"mode": "online", "extra": True}, "invalid", "extra"),
])
def test_moderator_errors_in_the_rest_shape(sio, world, event, data, code, field):
    ack = sio(world["moderator"]).call(event, {"session_id": world["first"], **data})
    assert set(ack) == {"error"}
    if code:
        assert ack["error"]["code"] == code
    assert field in ack["error"]["fields"]


def test_illegal_transition_ack_matches_the_rest_409(sio, world, client):
    ack = sio(world["moderator"]).call("session.status",
                                       {"session_id": world["first"], "status": "paused"})
    response = client.post(f"/api/v1/sessions/{world['first']}/status",
                           json={"status": "paused"}, headers=bearer(world["moderator"]))
    assert response.status_code == 409
    assert ack == response.get_json()


def test_unknown_session_is_not_found(sio, world):
    ack = sio(world["organizer"]).call("session.switch", {"session_id": 999, "mode": "online"})
    assert ack["error"]["code"] == "not_found"


def test_a_token_revoked_while_connected_no_longer_acts(sio, world, client, app):
    moderator = sio(world["moderator"])
    response = client.delete("/api/v1/tokens/current", headers=bearer(world["moderator"]))
    assert response.status_code in (200, 204)
    try:  # the socket is being disconnected; until then its events are refused
        ack = moderator.call("session.status", {"session_id": world["first"], "status": "live"},
                             timeout=2)
        assert ack["error"]["code"] == "unauthorized"
    except (socketio.exceptions.SocketIOError, TimeoutError):
        pass
    with app.app_context():
        assert db.session.get(Session, world["first"]).status == "scheduled"


def test_deleting_a_session_tells_subscribers(sio, world, client):
    watcher = sio()
    watcher.subscribe(world["event"])
    response = client.delete(f"/api/v1/sessions/{world['second']}",
                             headers=bearer(world["organizer"]))
    assert response.status_code == 204
    gone = watcher.wait_for("session.deleted")
    assert gone == {"session_id": world["second"], "event_id": world["event"]}
    assert not [p for p in watcher.received("session.updated")
                if p["session_id"] == world["second"]]


@pytest.mark.parametrize("event", ["subscribe", "session.switch", "session.status"])
def test_an_event_without_a_payload_is_a_bad_request(sio, world, event):
    client = sio(world["organizer"])
    ack = client.sio.call(event, namespace="/live", timeout=10)
    assert ack["error"]["code"] == "bad_request"


def test_websockets_are_served_without_compression(live_server):
    """A browser offers permessage-deflate; the server declines it (one compression and one
    zlib state per connection for every update is what a large fan-out cannot afford)."""
    import websocket

    url = live_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    offer = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
    ws = websocket.create_connection(url, origin=live_server.url, header=[offer], timeout=5)
    try:
        assert ws.getstatus() == 101 and ws.recv().startswith("0{")  # engine.io's open packet
        assert "sec-websocket-extensions" not in {k.lower() for k in ws.getheaders()}
    finally:
        ws.close(timeout=0.05)
