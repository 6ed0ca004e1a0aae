"""Socket.IO fan-out through Redis that never delivers an older session state after a newer one.

With ``REDIS_URL`` every web process receives every process's ``session.updated`` on one Redis
channel (``<EVENTHUB_REDIS_PREFIX>:socketio``, so two installations on one Redis server never
hear each other). Messages from different processes may arrive out of order (a request's held
``pending`` after a job's ``ready``); this client manager delivers a session's payload to its
local clients only when its ``version`` is higher than the last one it delivered.

Redis gone and back: what other processes published meanwhile never reached this one (Redis
channels keep nothing), so once the listener is subscribed again it sends its own clients
every session of their events as the database has it now, through the same gate. It tries
again every :data:`RETRY_MAX` seconds at most (the library waits up to 60 s).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import socketio
from flask import Flask

from ..publish import NAMESPACE, VersionGate, event_room

log = logging.getLogger(__name__)

#: The listener's longest wait between attempts to reach Redis again, in seconds.
RETRY_MAX = 2.0

Snapshot = Callable[[list[int]], list[dict[str, Any]]]


class OrderedRedisManager(socketio.RedisManager):
    """Flask-SocketIO's Redis manager with a :class:`~eventhub.publish.VersionGate`, which
    catches its clients up after Redis was unreachable (``snapshot``: event ids -> the
    ``session.updated`` payloads of their sessions, read afresh)."""

    def __init__(self, *args: Any, snapshot: Snapshot | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.gate = VersionGate()
        self.snapshot = snapshot

    def _redis_listen_with_retries(self) -> Iterator[Any]:
        """The library's listener loop, with a short retry and a catch-up after an outage."""
        retry_sleep, lost = 0.25, False
        while True:
            try:
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                if lost:
                    self._catch_up()
                    lost = False
                retry_sleep = 0.25
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001 - any failure of Redis: try again
                self._get_logger().error(
                    f"Cannot receive from redis... retrying in {retry_sleep} secs",
                    extra={"redis_exception": str(exc)})
                lost = True
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, RETRY_MAX)

    def _catch_up(self) -> None:
        """Send this process's subscribers their events' sessions as they are now."""
        rooms = {room: int(room.split(":", 1)[1])
                 for room in self.rooms.get(NAMESPACE, {}) if str(room).startswith("event:")}
        if self.snapshot is None or not rooms:
            return
        try:
            payloads = self.snapshot(sorted(set(rooms.values())))
        except Exception:  # noqa: BLE001 - the database may be gone too: the next update tells
            log.warning("live catch-up after a Redis outage failed", exc_info=True)
            return
        for payload in payloads:
            self._handle_emit({
                "method": "emit", "event": "session.updated", "data": [payload],
                "binary": False, "namespace": NAMESPACE,
                "room": event_room(payload["event_id"]), "skip_sid": None, "callback": None,
                "host_id": self.host_id})
        log.info("live catch-up after a Redis outage: %d sessions of %d events",
                 len(payloads), len(set(rooms.values())))

    def _handle_emit(self, message: dict[str, Any]) -> Any:
        """Deliver an emit (this process's or another's) to local clients, unless outdated."""
        data = message.get("data")
        if message.get("namespace") != NAMESPACE or message.get("binary") \
                or not isinstance(data, list) or len(data) != 1 or not isinstance(data[0], dict):
            return super()._handle_emit(message)
        with self.gate.lock:
            if not self.gate.admit(str(message.get("event")), data[0]):
                return None
            return super()._handle_emit(message)


def channel(prefix: str) -> str:
    """The Socket.IO Redis channel of an installation."""
    return f"{prefix}:socketio"


def snapshot(app: Flask) -> Snapshot:
    """The catch-up's reader: every session of the events, as committed, in ``app``."""

    def read(event_ids: list[int]) -> list[dict[str, Any]]:
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        from ..extensions import db
        from ..models import Session
        from ..serializers import session_update_payload

        with app.app_context():
            try:
                sessions = db.session.scalars(
                    select(Session).where(Session.event_id.in_(event_ids))
                    .options(selectinload(Session.video_room)).order_by(Session.id))
                return [session_update_payload(s) for s in sessions]
            finally:
                db.session.remove()

    return read
