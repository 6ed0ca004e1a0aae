"""The per-process background task of ``/live`` (started with the first connection).

At ``LIVE_JOIN_SCAN_SECONDS`` (and at once after a publish or a revocation in this process) it
tells participants' connections which sessions became joinable (:mod:`.joins`) and drops
connections whose credential stopped working; at ``LIVE_PRESENCE_SECONDS`` it sends each event's
moderators its client count (:mod:`.presence`) when that changed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from ..extensions import db, socketio
from ..models import ApiToken, Event, Participant, User
from ..publish import NAMESPACE
from ..services import access
from . import joins
from .presence import Presence

log = logging.getLogger(__name__)


@dataclass
class Connection:
    """What the namespace remembers of one connection."""

    kind: str | None = None  # "user", "participant" or None (anonymous)
    ident: int | None = None
    token: str | None = field(default=None, repr=False)  # checked again on every event
    digest: str | None = field(default=None, repr=False)  # of the credential it connected with
    event_id: int | None = None  # a participant's own event
    events: set[int] = field(default_factory=set)  # subscribed
    moderated: set[int] = field(default_factory=set)  # receives presence for these
    told: set[int] = field(default_factory=set)  # sessions known to be joinable


class Scanner:
    """The connections of this process and the task that watches them."""

    def __init__(self, app: Flask):
        self.app = app
        self.connections: dict[str, Connection] = {}
        self.lock = threading.Lock()
        self.presence = Presence(app.config.get("REDIS_URL"),
                                 prefix=f"{app.config['REDIS_PREFIX']}:presence")
        self.scan_seconds = float(app.config.get("LIVE_JOIN_SCAN_SECONDS", 5.0))
        self.presence_seconds = float(app.config.get("LIVE_PRESENCE_SECONDS", 0.5))
        self.woken: set[int] = set()
        self.sent_presence: dict[int, int] = {}
        self.task: Any = None
        self.server: Any = None
        self.wake_event: Any = None
        self.stopping = False
        self.recheck = False  # a credential stopped working: re-check every connection
        self.scans = 0  # full scans done (tests wait for one to know the scanner has looked)

    def start(self) -> None:
        """Start the background task once, in a process that serves connections."""
        with self.lock:
            if self.task is not None or self.stopping:
                return
            self.server = socketio.server
            self.wake_event = socketio.server.eio.create_event()
            self.task = socketio.start_background_task(self._run)

    def stop(self) -> None:
        """Stop the background task and drop this process's presence counts."""
        self.stopping = True
        if self.wake_event is not None:
            self.wake_event.set()
        task = self.task
        if task is not None and hasattr(task, "join"):
            task.join(5)
        self.presence.close()

    def wake(self, payload: dict[str, Any]) -> None:
        """After a publish in this process: re-check the event's join links at once."""
        with self.lock:
            self.woken.add(payload["event_id"])
        if self.wake_event is not None:
            self.wake_event.set()

    def revoked(self) -> None:
        """After a commit that ended some credential: re-check every connection at once."""
        self.recheck = True
        if self.wake_event is not None:
            self.wake_event.set()

    def _run(self) -> None:
        next_scan = 0.0
        next_presence = 0.0
        tick = min(self.scan_seconds, self.presence_seconds)
        while not self.stopping:
            self.wake_event.wait(timeout=tick)
            self.wake_event.clear()
            if self.stopping or socketio.server is not self.server:
                break  # stopped, or (in tests) a newer app re-initialised the extension
            now = time.monotonic()
            with self.lock:
                events, self.woken = self.woken, set()
            if now >= next_scan:
                events |= {c.event_id for c in list(self.connections.values()) if c.event_id}
            full_scan = now >= next_scan
            recheck = self.recheck or full_scan
            self.recheck = False
            if full_scan:
                next_scan = now + self.scan_seconds
            with self.app.app_context():
                try:
                    if recheck:
                        self._drop_revoked()
                    if events:
                        self._announce_joins(events)
                    if now >= next_presence:
                        next_presence = now + self.presence_seconds
                        self._send_presence()
                except Exception:
                    log.exception("live background task failed; continuing")
                finally:
                    db.session.remove()
                    if full_scan:
                        self.scans += 1

    def _drop_revoked(self) -> None:
        """Disconnect every connection whose credential no longer works, or that is subscribed
        to an event its actor may no longer see (DESIGN.md: nothing is pushed to it again).

        Run after a revocation in this process, and every scan for changes made elsewhere."""
        with self.lock:
            conns = list(self.connections.items())
        if not conns:
            return
        participant_ids = {c.ident for _, c in conns if c.kind == "participant"}
        user_ids = {c.ident for _, c in conns if c.kind == "user"}
        token_digests = {c.digest for _, c in conns if c.kind == "user" and c.digest}
        event_ids = set().union(*(c.events for _, c in conns))
        participants = {pid: digest for pid, digest in db.session.execute(
            select(Participant.id, Participant.token_digest)
            .where(Participant.id.in_(participant_ids)))} if participant_ids else {}
        users = set(db.session.scalars(select(User.id).where(User.id.in_(user_ids)))
                    ) if user_ids else set()
        live_tokens = set(db.session.scalars(
            select(ApiToken.digest).where(ApiToken.digest.in_(token_digests),
                                          ApiToken.revoked_at.is_(None)))
        ) if token_digests else set()
        published = dict(db.session.execute(
            select(Event.id, Event.published).where(Event.id.in_(event_ids))).all()
        ) if event_ids else {}
        dropped = []
        for sid, conn in conns:
            if conn.kind == "participant":
                ok = participants.get(conn.ident) == conn.digest
            elif conn.kind == "user":
                ok = conn.ident in users and (conn.digest is None or conn.digest in live_tokens)
            else:
                ok = True
            hidden = [e for e in conn.events if not published.get(e, True)]
            if ok and hidden:
                actor = (db.session.get(Participant, conn.ident) if conn.kind == "participant"
                         else db.session.get(User, conn.ident) if conn.kind == "user" else None)
                events = db.session.scalars(select(Event).where(Event.id.in_(hidden)))
                ok = all(access.can_view_event(actor, event) for event in events)
            if not ok:
                dropped.append(sid)
        for sid in dropped:
            with self.lock:
                self.connections.pop(sid, None)
            self.presence.remove(sid)
            log.info("live: disconnected %s: its credential stopped working", sid)
            socketio.server.disconnect(sid, namespace=NAMESPACE)

    def _send_presence(self) -> None:
        """Tell the moderators of each event how many clients it has, when that changed."""
        self.presence.sync()
        with self.lock:
            moderators: dict[int, list[str]] = {}
            for sid, conn in self.connections.items():
                for event_id in conn.moderated:
                    moderators.setdefault(event_id, []).append(sid)
        if not moderators:
            return
        counts = self.presence.counts(sorted(moderators))
        for event_id, sids in moderators.items():
            if self.sent_presence.get(event_id) == counts[event_id]:
                continue
            self.sent_presence[event_id] = counts[event_id]
            # One emit per local moderator connection: with several server processes each
            # process tells its own moderators, so nobody hears the same count twice.
            for sid in sids:
                socketio.emit("presence", {"event_id": event_id, "clients": counts[event_id]},
                              to=sid, namespace=NAMESPACE)

    def _announce_joins(self, event_ids: set[int]) -> None:
        """Send ``join.open`` for sessions that became joinable since each connection last knew."""
        with self.lock:
            targets = [(sid, c) for sid, c in self.connections.items()
                       if c.kind == "participant" and c.event_id in event_ids]
        joins.announce(targets)
