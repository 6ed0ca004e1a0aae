"""Socket.IO namespace ``/live``: subscribe to an event, receive ``session.updated``, and let
moderators switch sessions and drive their status with acknowledgements.

Every handler resolves the connection's actor afresh and calls the same services as REST; the
services authorize. Errors come back in the ack as DESIGN.md's ``{"error": {...}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, Namespace, join_room

from .api import validate
from .api.schemas import (
    LiveStatus,
    LiveSubscribe,
    LiveSwitch,
    session_to_dict,
    session_update_payload,
)
from .errors import BadRequest, DomainError
from .extensions import db, socketio
from .models import Participant, User
from .publish import NAMESPACE, event_room
from .services import access, switching
from .services import events as event_service
from .services import sessions as session_service

log = logging.getLogger(__name__)


class LiveNamespace(Namespace):
    """The ``/live`` namespace. Connections remember who they are as (kind, id)."""

    def __init__(self, namespace: str):
        super().__init__(namespace)
        self.principals: dict[str, tuple[str, int] | None] = {}

    def trigger_event(self, event: str, *args: Any) -> Any:
        # Namespace dispatch maps names to ``on_<name>``; dotted names are not identifiers.
        return super().trigger_event(event.replace(".", "_"), *args)

    def actor(self) -> User | Participant | None:
        """The connection's user or participant, loaded in this handler's app context."""
        principal = self.principals.get(request.sid)
        if principal is None:
            return None
        kind, ident = principal
        return db.session.get(User if kind == "user" else Participant, ident)

    def on_connect(self, auth: dict | None = None) -> None:
        """Authenticate with ``auth={"token": ...}``, or connect anonymously (read-only)."""
        token = (auth or {}).get("token") if isinstance(auth, dict) else None
        if token is None:
            self.principals[request.sid] = None
            return
        found = access.authenticate_token(str(token))
        if found is None:
            raise ConnectionRefusedError({"error": {"code": "unauthorized",
                                                    "message": "unknown or revoked token",
                                                    "fields": {}}})
        kind = "user" if isinstance(found, User) else "participant"
        self.principals[request.sid] = (kind, found.id)

    def on_disconnect(self, reason: Any = None) -> None:
        """Forget the connection."""
        self.principals.pop(request.sid, None)

    def on_subscribe(self, data: Any) -> dict[str, Any]:
        """Join an event's room; the ack carries a snapshot so a reconnecting client is current."""
        body = validate(LiveSubscribe, _object(data))
        event = event_service.get_event(self.actor(), body.event_id)
        join_room(event_room(event.id))
        sessions = db.session.scalars(session_service.list_sessions(self.actor(), event))
        return {"ok": True, "event_id": event.id,
                "sessions": [session_update_payload(s) for s in sessions]}

    def on_session_switch(self, data: Any) -> dict[str, Any]:
        """A moderator moves a session online, hybrid or in person."""
        body = validate(LiveSwitch, _object(data))
        actor = self.actor()
        event_session = session_service.get_session(actor, body.session_id)
        switching.switch_session(event_session, body.mode, body.provider, actor=actor)
        return session_to_dict(event_session)

    def on_session_status(self, data: Any) -> dict[str, Any]:
        """A moderator goes live, pauses, ends, delays or cancels a session."""
        body = validate(LiveStatus, _object(data))
        actor = self.actor()
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


def init_app(app: Flask) -> None:
    """Register the namespace and its error handler."""
    socketio.on_namespace(LiveNamespace(NAMESPACE))
    socketio.on_error(NAMESPACE)(live_error)
