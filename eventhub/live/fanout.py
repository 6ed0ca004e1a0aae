"""Socket.IO fan-out through Redis that never delivers an older session state after a newer one.

With ``REDIS_URL`` every web process receives every process's ``session.updated`` on one Redis
channel (``<EVENTHUB_REDIS_PREFIX>:socketio``, so two installations on one Redis server never
hear each other). Messages from different processes may arrive out of order (a request's held
``pending`` after a job's ``ready``); this client manager delivers a session's payload to its
local clients only when its ``version`` is higher than the last one it delivered.
"""

from __future__ import annotations

from typing import Any

import socketio

from ..publish import NAMESPACE, VersionGate


class OrderedRedisManager(socketio.RedisManager):
    """Flask-SocketIO's Redis manager with a :class:`~eventhub.publish.VersionGate`."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.gate = VersionGate()

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
