"""Socket.IO namespace ``/live``: subscribe to an event, receive ``session.updated``, and let
moderators switch sessions and drive their status with acknowledgements.

Every handler resolves the connection's actor afresh and calls the same services as REST; the
services authorize. Errors come back in the ack as DESIGN.md's ``{"error": {...}}``.

Besides the broadcasts of :mod:`.publish`, one background task per server process (started with
the first connection) sends two kinds of per-connection messages:

- ``join.open`` ``{"session_id", "event_id", "join_url"}`` to a participant's own connection when
  a session of their agenda (all sessions when the agenda is empty) becomes joinable: its room
  is ready and its join window is open or it is live. Changes made in this process are seen at
  once; the opening of a window by time, and changes made by other processes, at the next scan
  (``LIVE_JOIN_SCAN_SECONDS``).
- ``presence`` ``{"event_id", "clients"}`` to the event's moderators and organizers, at most
  every ``LIVE_PRESENCE_SECONDS``, when the number of subscribed clients changed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, Namespace, join_room
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..api import validate
from ..api.schemas import (
    LiveStatus,
    LiveSubscribe,
    LiveSwitch,
    session_to_dict,
    session_update_payload,
)
from ..errors import BadRequest, DomainError, Unauthorized
from ..extensions import db, socketio
from ..models import AgendaItem, ApiToken, Event, Participant, Session, User, utcnow
from ..publish import NAMESPACE, add_listener, add_revocation_listener, event_room
from ..services import access, joining, switching
from ..services import events as event_service
from ..services import sessions as session_service
from .presence import Presence

log = logging.getLogger(__name__)

EXTENSION = "eventhub.live"


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


def joinable(event_session: Session, now: datetime) -> bool:
    """A participant's join link leads into the room now (as :func:`joining.decide` "open")."""
    room = event_session.video_room
    return (event_session.mode != "in_person"
            and event_session.status not in ("ended", "cancelled")
            and room is not None and room.state == "ready"
            and joining.window_open(event_session, now))


def join_path(session_id: int, token: str) -> str:
    """The participant's own EventHub join link (never the provider's URL)."""
    return f"/join/{session_id}?t={quote(token, safe='')}"


class LiveNamespace(Namespace):
    """The ``/live`` namespace and its per-process background task."""

    def __init__(self, namespace: str, app: Flask):
        super().__init__(namespace)
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

    # -- dispatch and identity ----------------------------------------------------------------

    def trigger_event(self, event: str, *args: Any) -> Any:
        # Namespace dispatch maps names to ``on_<name>``; dotted names are not identifiers.
        # Every event carries one JSON object at most: more arguments are a client's error,
        # answered in the ack like any bad message (not a TypeError with a traceback).
        if not isinstance(event, str):
            return BadRequest("the event name must be a string").to_dict()
        if event not in ("connect", "disconnect") and len(args) > 2:
            return BadRequest("send one JSON object with the event").to_dict()
        return super().trigger_event(event.replace(".", "_"), *args)

    def connection(self) -> Connection:
        """This handler's connection record."""
        return self.connections.get(request.sid) or Connection()

    def actor(self) -> User | Participant | None:
        """The connection's user or participant, resolved afresh in this handler's context:
        a token revoked since the connect no longer acts (401)."""
        conn = self.connection()
        if conn.token is not None:
            found = access.authenticate_token(conn.token)
            if found is None:
                raise Unauthorized("the token was revoked; connect again")
            return found
        if conn.kind is None:
            return None
        from ..web.live_auth import session_principal

        return session_principal()

    # -- handlers -----------------------------------------------------------------------------

    def on_connect(self, auth: dict | None = None) -> None:
        """Authenticate with ``auth={"token": ...}``, else by the page's cookie session, else
        connect anonymously (read-only)."""
        token = auth.get("token") if isinstance(auth, dict) else None
        conn = Connection()
        if token is not None:
            found = access.authenticate_token(str(token))
            if found is None:
                raise ConnectionRefusedError({"error": {"code": "unauthorized",
                                                        "message": "unknown or revoked token",
                                                        "fields": {}}})
        else:
            # A browser page: the handshake's cookie session says who it is (same origin only).
            from ..web.live_auth import session_principal

            found = session_principal()
        if found is not None:
            conn.kind = "user" if isinstance(found, User) else "participant"
            conn.ident = found.id
            conn.token = None if token is None else str(token)
            conn.digest = None if token is None else access.digest(str(token))
            if isinstance(found, Participant):
                conn.digest = found.token_digest
                # Links open already are in the subscribe ack; join.open is for later ones.
                conn.event_id = found.event_id
                conn.told = set(self._joinable_ids(found.event_id, utcnow()))
        with self.lock:
            self.connections[request.sid] = conn
        self.start()

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the connection; its events' presence counts drop."""
        with self.lock:
            self.connections.pop(request.sid, None)
        self.presence.remove(request.sid)

    def on_subscribe(self, data: Any = None) -> dict[str, Any]:
        """Join an event's room; the ack carries a snapshot so a reconnecting client is current.

        A participant's ack says per session of their event whether their join link is open
        (and gives that link); a moderator's ack carries the event's presence count.
        """
        body = validate(LiveSubscribe, _object(data))
        actor = self.actor()
        event = event_service.get_event(actor, body.event_id)
        join_room(event_room(event.id))
        sessions = list(db.session.scalars(
            session_service.list_sessions(actor, event).options(
                selectinload(Session.video_room))))
        snapshot = [session_update_payload(s) for s in sessions]
        if isinstance(actor, Participant) and actor.event_id == event.id:
            now = utcnow()
            for payload, event_session in zip(snapshot, sessions, strict=True):
                payload["join_open"] = joinable(event_session, now)
                if payload["join_open"]:
                    payload["join_url"] = join_path(event_session.id, actor.token)
        ack: dict[str, Any] = {"ok": True, "event_id": event.id, "sessions": snapshot}
        moderator = access.is_organizer(actor) or access.moderates_in_event(actor, event)
        with self.lock:
            conn = self.connections.get(request.sid)
            if conn is not None:
                conn.events.add(event.id)
                if moderator:
                    conn.moderated.add(event.id)
        self.presence.add(event.id, request.sid)
        if moderator:
            self.presence.sync()
            clients = self.presence.counts([event.id])[event.id]
            ack["presence"] = {"event_id": event.id, "clients": clients}
        return ack

    def on_session_switch(self, data: Any = None) -> dict[str, Any]:
        """A moderator moves a session online, hybrid or in person."""
        actor = self.actor()
        access.require_authenticated(actor)  # as in REST: 401 before the session is looked up
        body = validate(LiveSwitch, _object(data))
        event_session = session_service.get_session(actor, body.session_id)
        switching.switch_session(event_session, body.mode, body.provider, actor=actor)
        return session_to_dict(event_session)

    def on_session_status(self, data: Any = None) -> dict[str, Any]:
        """A moderator goes live, pauses, ends, delays or cancels a session."""
        actor = self.actor()
        access.require_authenticated(actor)
        body = validate(LiveStatus, _object(data))
        event_session = session_service.get_session(actor, body.session_id)
        session_service.set_session_status(actor, event_session, body.status, body.delay_minutes)
        return session_to_dict(event_session)

    # -- background task: join notices and presence --------------------------------------------

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
            recheck = self.recheck or now >= next_scan
            self.recheck = False
            if now >= next_scan:
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

    def _joinable_ids(self, event_id: int, now: datetime) -> list[int]:
        sessions = db.session.scalars(
            select(Session).where(Session.event_id == event_id,
                                  Session.mode != "in_person",
                                  Session.status.not_in(("ended", "cancelled")))
            .options(selectinload(Session.video_room), selectinload(Session.event)))
        return [s.id for s in sessions if joinable(s, now)]

    def _announce_joins(self, event_ids: set[int]) -> None:
        """Send ``join.open`` for sessions that became joinable since each connection last knew."""
        with self.lock:
            targets = [(sid, c) for sid, c in self.connections.items()
                       if c.kind == "participant" and c.event_id in event_ids]
        if not targets:
            return
        now = utcnow()
        wanted = {c.event_id for _, c in targets}
        open_by_event = {e: set(self._joinable_ids(e, now)) for e in wanted}
        ids = {c.ident for _, c in targets}
        agendas: dict[int, set[int]] = {}
        for participant_id, session_id in db.session.execute(
                select(AgendaItem.participant_id, AgendaItem.session_id)
                .where(AgendaItem.participant_id.in_(ids))):
            agendas.setdefault(participant_id, set()).add(session_id)
        current = {row.id: row for row in db.session.scalars(
            select(Participant).where(Participant.id.in_(ids)))}
        for sid, conn in targets:
            open_ids = open_by_event[conn.event_id]
            scope = agendas.get(conn.ident) or open_ids
            new = (open_ids & scope) - conn.told
            conn.told &= open_ids  # a link that closed is announced again when it reopens
            conn.told |= new
            participant = current.get(conn.ident)
            # Only to the credential that is still valid (a rotation may not be seen yet).
            token = (participant.token if participant is not None
                     and participant.token_digest == conn.digest else None)
            for session_id in sorted(new):
                if token is None:
                    break
                socketio.emit("join.open", {"session_id": session_id, "event_id": conn.event_id,
                                            "join_url": join_path(session_id, token)},
                              to=sid, namespace=NAMESPACE)

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


def _object(data: Any) -> dict:
    if not isinstance(data, dict):
        raise BadRequest("the message must be a JSON object")
    return data


def live_error(error: Exception) -> dict[str, Any]:
    """Handler errors become the ack, in the REST error shape."""
    db.session.rollback()
    if isinstance(error, DomainError):
        return error.to_dict()
    log.exception("live handler failed", exc_info=error)
    return {"error": {"code": "internal", "message": "internal error", "fields": {}}}


class OneLine(logging.Filter):
    """python-engineio logs a frame it cannot decode with a full traceback; a client could
    fill the log with them. Make it one line naming the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage() == "message handler error":
            error = record.exc_info[1]
            record.msg, record.args = "dropped a malformed Socket.IO frame: %s", (
                error.__class__.__name__,)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def namespace(app: Flask) -> LiveNamespace:
    """The app's ``/live`` namespace."""
    return app.extensions[EXTENSION]


def shutdown(app: Flask) -> None:
    """Stop the app's live background task (tests, server shutdown)."""
    live = app.extensions.get(EXTENSION)
    if live is not None:
        live.stop()


def init_app(app: Flask) -> None:
    """Register the namespace, its error handler, and its publish listener."""
    engineio_log = logging.getLogger("engineio.server")
    if not any(isinstance(f, OneLine) for f in engineio_log.filters):
        engineio_log.addFilter(OneLine())
    live = LiveNamespace(NAMESPACE, app)
    app.extensions[EXTENSION] = live
    socketio.on_namespace(live)
    socketio.on_error(NAMESPACE)(live_error)
    add_listener(app, live.wake)
    add_revocation_listener(app, live.revoked)
