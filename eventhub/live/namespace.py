"""Socket.IO namespace ``/live``: subscribe to an event, receive ``session.updated``, and let
moderators switch sessions and drive their status with acknowledgements.

Every handler resolves the connection's actor afresh and calls the same services as REST; the
services authorize. Errors come back in the ack as DESIGN.md's ``{"error": {...}}``.

Besides the broadcasts of :mod:`.publish`, the per-process :mod:`.scanner` (started with the
first connection) sends ``join.open`` (:mod:`.joins`) and ``presence`` (:mod:`.presence`) to
single connections.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, Namespace, join_room
from sqlalchemy.orm import selectinload

from ..errors import BadRequest, DomainError, Unauthorized
from ..extensions import db
from ..models import Participant, Session, User, utcnow
from ..publish import event_room
from ..serializers import session_to_dict, session_update_payload
from ..services import access, switching
from ..services import events as event_service
from ..services import sessions as session_service
from ..validation import validate
from . import joins
from .scanner import Connection, Scanner
from .schemas import LiveStatus, LiveSubscribe, LiveSwitch

log = logging.getLogger(__name__)


class LiveNamespace(Namespace):
    """The ``/live`` namespace: its handlers, over the connections its scanner watches."""

    def __init__(self, namespace: str, app: Flask):
        super().__init__(namespace)
        self.app = app
        self.scanner = Scanner(app)
        # The handlers and the scanner share this process's connection records.
        self.connections = self.scanner.connections
        self.lock = self.scanner.lock
        self.presence = self.scanner.presence

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
        return access.session_principal()

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
            found = access.session_principal()
        if found is not None:
            conn.kind = "user" if isinstance(found, User) else "participant"
            conn.ident = found.id
            conn.token = None if token is None else str(token)
            conn.digest = None if token is None else access.digest(str(token))
            if isinstance(found, Participant):
                conn.digest = found.token_digest
                # Links open already are in the subscribe ack; join.open is for later ones.
                conn.event_id = found.event_id
                conn.told = set(joins.joinable_ids(found.event_id, utcnow()))
        with self.lock:
            self.connections[request.sid] = conn
        self.scanner.start()

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
                payload["join_open"] = joins.joinable(event_session, now)
                if payload["join_open"]:
                    payload["join_url"] = joins.join_path(event_session.id, actor.token)
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


