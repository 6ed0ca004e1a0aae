"""Reconnection: a client whose socket dies mid-stream reconnects and converges on the server's
state through the subscribe ack (the snapshot) plus the updates that follow it."""

from __future__ import annotations

import socket
import threading
import time

import live_support
import pytest

from eventhub.extensions import db
from eventhub.models import Session, User
from eventhub.services import sessions as session_service

app_config, live_server, sio = live_support.app_config, live_support.live_server, live_support.sio

FIELDS = ("status", "mode", "delay_minutes", "starts_at", "ends_at", "sequence", "room_state")


class Mirror:
    """What a browser keeps: the snapshot from each (re)subscribe, then the updates on top.

    Updates that arrive while a subscribe is in flight are replayed over its snapshot, since
    they may be newer than it (committed after the snapshot was read, sent before the ack).
    """

    def __init__(self, client: live_support.LiveClient, event_id: int):
        self.client, self.event_id = client, event_id
        self.state: dict[int, dict] = {}
        self.lock = threading.Lock()
        self.buffer: list[dict] | None = None
        self.connects = 0
        client.sio.on("connect", self._connected, namespace=live_support.NS)
        client.sio.on("session.updated", self._updated, namespace=live_support.NS)

    def _connected(self) -> None:
        self.connects += 1
        with self.lock:
            self.buffer = []
        # An ack cannot arrive while this handler blocks the client's reader: ask from a task.
        self.client.sio.start_background_task(self._resubscribe)

    def _resubscribe(self) -> None:
        try:
            ack = self.client.sio.call("subscribe", {"event_id": self.event_id},
                                       namespace=live_support.NS, timeout=5)
        except Exception:  # noqa: BLE001 - the socket died again; the next connect retries
            return
        with self.lock:
            self.state = {s["session_id"]: s for s in ack["sessions"]}
            for payload in self.buffer or []:
                self.state[payload["session_id"]] = payload
            self.buffer = None

    def _updated(self, payload: dict) -> None:
        with self.lock:
            if self.buffer is not None:
                self.buffer.append(payload)
            else:
                self.state[payload["session_id"]] = payload

    def view(self) -> dict[int, tuple]:
        with self.lock:
            return {sid: tuple(p[f] for f in FIELDS) for sid, p in self.state.items()}


@pytest.fixture
def world(create_user, create_event, create_session):
    organizer = create_user("organizer")
    event = create_event()
    ids = [create_session(event).id for _ in range(3)]
    return organizer.id, event.id, ids


def server_view(app, event_id: int) -> dict[int, tuple]:
    from eventhub.serializers import session_update_payload

    with app.app_context():
        sessions = db.session.scalars(db.select(Session).where(Session.event_id == event_id))
        payloads = [session_update_payload(s) for s in sessions]
        db.session.remove()
    return {p["session_id"]: tuple(p[f] for f in FIELDS) for p in payloads}


def test_client_killed_mid_stream_reconnects_and_converges(sio, world, app):
    organizer_id, event_id, ids = world
    client = sio(reconnection=True, connect=False)
    mirror = Mirror(client, event_id)
    client.connect()
    deadline = time.monotonic() + 5
    while not mirror.view() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mirror.view() == server_view(app, event_id)

    # A moderator's console drives the sessions through their states meanwhile.
    steps = [(0, "live", None), (1, "delayed", 10), (0, "paused", None), (2, "live", None),
             (1, "delayed", 20), (0, "live", None), (2, "paused", None), (1, "live", None),
             (0, "ended", None), (2, "live", None), (1, "paused", None), (2, "ended", None)]
    done = threading.Event()

    def drive():
        with app.app_context():
            actor = db.session.get(User, organizer_id)
            for index, status, delay in steps:
                event_session = db.session.get(Session, ids[index])
                session_service.set_session_status(actor, event_session, status, delay)
                time.sleep(0.05)
            db.session.remove()
        done.set()

    driver = threading.Thread(target=drive)
    driver.start()
    time.sleep(0.12)
    # Kill the connection under the client, as a dropped network would: no close handshake.
    client.sio.eio.ws.sock.shutdown(socket.SHUT_RDWR)
    driver.join(10)
    assert done.is_set()

    expected = server_view(app, event_id)
    deadline = time.monotonic() + 10
    while mirror.view() != expected and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mirror.connects >= 2, "the client did not reconnect"
    assert mirror.view() == expected
    statuses = {v[0] for v in expected.values()}
    assert statuses == {"ended", "paused"}  # the stream really moved on while it was away
