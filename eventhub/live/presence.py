"""Presence: how many Socket.IO clients are subscribed to each event, across server processes.

Each process counts its own subscriptions. Without Redis those are the counts. With Redis
(scale-out) each process writes its counts to a hash of its own, ``<prefix>:<server id>``, that
expires unless refreshed, so a crashed process drops out after ``ttl`` seconds; the global count
of an event is the sum over the live servers' hashes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from typing import Any

log = logging.getLogger(__name__)

PREFIX = "eventhub:presence"


class Presence:
    """Subscriptions per event in this process, and the global counts (via Redis when given)."""

    def __init__(self, redis_url: str | None = None, *, ttl: float = 15.0, prefix: str = PREFIX):
        self.local: dict[int, set[str]] = {}
        self.lock = threading.Lock()
        self.ttl = ttl
        self.prefix = prefix
        self.server_id = uuid.uuid4().hex
        self.dirty = True
        self.written_at = 0.0
        self.redis: Any = None
        if redis_url:
            import redis

            self.redis = redis.Redis.from_url(redis_url, socket_timeout=2,
                                              socket_connect_timeout=2)

    @property
    def key(self) -> str:
        """This process's hash of counts."""
        return f"{self.prefix}:{self.server_id}"

    def add(self, event_id: int, sid: str) -> None:
        """A connection subscribed to an event (subscribing twice counts once)."""
        with self.lock:
            sids = self.local.setdefault(event_id, set())
            if sid not in sids:
                sids.add(sid)
                self.dirty = True

    def remove(self, sid: str) -> None:
        """A connection went away: it no longer counts for any event."""
        with self.lock:
            for event_id in [e for e, sids in self.local.items() if sid in sids]:
                self.local[event_id].discard(sid)
                if not self.local[event_id]:
                    del self.local[event_id]
                self.dirty = True

    def local_counts(self) -> dict[int, int]:
        """This process's subscriptions per event."""
        with self.lock:
            return {event_id: len(sids) for event_id, sids in self.local.items()}

    def sync(self) -> None:
        """Write this process's counts to Redis when they changed or before they expire."""
        if self.redis is None:
            return
        now = time.monotonic()
        if not self.dirty and now - self.written_at < self.ttl / 3:
            return
        with self.lock:
            counts = {str(e): len(sids) for e, sids in self.local.items()}
            self.dirty = False
        try:
            pipe = self.redis.pipeline()
            pipe.delete(self.key)
            if counts:
                pipe.hset(self.key, mapping=counts)
                pipe.expire(self.key, max(1, math.ceil(self.ttl)))
            pipe.sadd(f"{self.prefix}:servers", self.server_id)
            pipe.execute()
            self.written_at = now
        except Exception as exc:  # noqa: BLE001 - presence must never take the server down
            self.dirty = True
            log.warning("presence: writing to Redis failed: %s", exc.__class__.__name__)

    def counts(self, event_ids: list[int]) -> dict[int, int]:
        """Clients per event: over every live server with Redis (call :meth:`sync` first)."""
        local = self.local_counts()
        if self.redis is None or not event_ids:
            return {event_id: local.get(event_id, 0) for event_id in event_ids}
        try:
            servers = sorted(s.decode() for s in self.redis.smembers(f"{self.prefix}:servers"))
            pipe = self.redis.pipeline()
            for server in servers:
                pipe.exists(f"{self.prefix}:{server}")
                pipe.hmget(f"{self.prefix}:{server}", [str(e) for e in event_ids])
            replies = pipe.execute()
        except Exception as exc:  # noqa: BLE001
            log.warning("presence: reading Redis failed: %s", exc.__class__.__name__)
            return {event_id: local.get(event_id, 0) for event_id in event_ids}
        totals = dict.fromkeys(event_ids, 0)
        gone = []
        for server, exists, values in zip(servers, replies[::2], replies[1::2], strict=True):
            if not exists:
                if server != self.server_id:
                    gone.append(server)  # expired: its process is gone or has no subscribers
                continue
            for event_id, value in zip(event_ids, values, strict=True):
                totals[event_id] += int(value or 0)
        if gone:
            self.redis.srem(f"{self.prefix}:servers", *gone)
        return totals

    def close(self) -> None:
        """Remove this process's counts (on shutdown)."""
        if self.redis is None:
            return
        try:
            self.redis.delete(self.key)
            self.redis.srem(f"{self.prefix}:servers", self.server_id)
        except Exception:  # noqa: BLE001, S110 - best effort; the key expires anyway
            pass
        self.redis.close()
