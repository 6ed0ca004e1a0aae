"""The single publishing point: ``session.updated`` goes out after a commit, never before.

``after_flush`` turns the changed Session and VideoRoom rows into payloads (while the ORM may
still be used); ``after_commit`` emits them to the event's Socket.IO room; ``after_rollback``
drops them. No handler or service emits by itself, so REST, Socket.IO, CLI, webhooks and
background jobs all publish the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, inspect

from .extensions import db, socketio
from .models import Session, VideoRoom

log = logging.getLogger(__name__)

NAMESPACE = "/live"
PENDING = "eventhub.published"
SESSION_ATTRS = ("status", "mode", "starts_at", "ends_at", "sequence", "delay_minutes", "room_id")
ROOM_ATTRS = ("state", "provider")

# In-process observers of every published payload (used by the live namespace's join notices).
listeners: list[Callable[[dict[str, Any]], None]] = []


def event_room(event_id: int) -> str:
    """The Socket.IO room of everyone subscribed to an event."""
    return f"event:{event_id}"


def _changed(obj: Any, attrs: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attrs)


def _after_flush(session: Any, _context: Any) -> None:
    touched: dict[int, Session] = {}
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Session) and (obj in session.new or _changed(obj, SESSION_ATTRS)):
            touched[obj.id] = obj
        elif isinstance(obj, VideoRoom) and (obj in session.new or _changed(obj, ROOM_ATTRS)):
            if obj.session is not None:
                touched[obj.session.id] = obj.session
    if touched:
        pending = session.info.setdefault(PENDING, {})
        for session_id, event_session in touched.items():
            pending[session_id] = event_session


def _after_commit(session: Any) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    for payload in pending.values():
        publish(payload)


def _before_commit(session: Any) -> None:
    """Turn the touched sessions into payloads now, with their final committed values."""
    from .api.schemas import session_update_payload

    session.flush()
    pending = session.info.get(PENDING)
    if pending:
        for session_id, obj in list(pending.items()):
            if isinstance(obj, Session):
                pending[session_id] = session_update_payload(obj)


def _after_rollback(session: Any) -> None:
    session.info.pop(PENDING, None)


def publish(payload: dict[str, Any]) -> None:
    """Emit ``session.updated`` to the event's subscribers and tell in-process listeners."""
    socketio.emit("session.updated", payload, to=event_room(payload["event_id"]),
                  namespace=NAMESPACE)
    for listener in list(listeners):
        try:
            listener(payload)
        except Exception:
            log.exception("session.updated listener failed")


def init_app(_app: Any) -> None:
    """Hook the SQLAlchemy session (once per process; every app shares the scoped session)."""
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_flush", _after_flush)
        event.listen(db.session, "before_commit", _before_commit)
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)
