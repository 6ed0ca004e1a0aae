"""The single publishing point: ``session.updated`` goes out after a commit, never before.

(``session.deleted`` {"session_id", "event_id"} likewise, when a session leaves the programme.)
``after_flush`` notes the changed Session and VideoRoom rows, ``before_commit`` turns them into
payloads (while the ORM may still be used); ``after_commit`` emits them to the event's Socket.IO
room (from a request or a Socket.IO event: once it is done, see :func:`publish`);
``after_rollback`` drops them. No handler or service emits by itself, so REST, Socket.IO, CLI,
webhooks and background jobs all publish the same way.

Order: every payload carries the session's ``version`` (:mod:`eventhub.versioning` bumps it in
the writing transaction, and ``before_commit`` reads the row again after that bump, so a payload
shows the state of its version). A request's payloads wait for its response while its jobs
publish at once, so a process may hold an older payload after sending a newer one: each app's
:class:`VersionGate` drops it. Other processes' payloads arrive through Redis, where the web
process's client manager (:mod:`eventhub.live.fanout`) applies a gate of its own; pages keep
the highest version they have seen, whatever the path."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import selectinload

from .extensions import db, socketio
from .models import ApiToken, Event, Participant, Session, VideoRoom
from .serializers import session_update_payload

log = logging.getLogger(__name__)

NAMESPACE = "/live"
PENDING = "eventhub.published"
SESSION_ATTRS = ("status", "mode", "starts_at", "ends_at", "sequence", "delay_minutes", "room_id")
ROOM_ATTRS = ("state", "provider")

UPDATED, DELETED = "session.updated", "session.deleted"
LISTENERS = "eventhub.publish_listeners"
GATE = "eventhub.publish_gate"
REVOKED = "eventhub.credentials_revoked"  # in session.info: a credential stopped working
REVOCATION_LISTENERS = "eventhub.revocation_listeners"
DEFERRED = "eventhub_publish_deferred"  # on flask.g: the request's payloads, sent at teardown
FLUSHED = "eventhub_publish_flushed"  # on flask.g: teardown ran; publish at once from now on
Listener = Callable[[dict[str, Any]], None]


def add_listener(app: Any, listener: Listener) -> None:
    """Call ``listener(payload)`` after each publish in this app (in-process observers: the
    live namespace's join notices). Kept per app, so a test's old apps don't hear new ones."""
    app.extensions.setdefault(LISTENERS, []).append(listener)


class VersionGate:
    """The highest version of each session sent so far; older payloads are not sent again.

    ``session.deleted`` closes the gate for its session. Hold :attr:`lock` from :meth:`admit`
    to the send, so two threads can't pass the gate in one order and send in the other.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.sent: dict[int, float] = {}

    def admit(self, name: str, payload: dict[str, Any]) -> bool:
        """Whether to send ``payload``; records it when so (call with :attr:`lock` held)."""
        session_id = payload.get("session_id")
        if not isinstance(session_id, int):
            return True
        if name == DELETED:
            self.sent[session_id] = float("inf")
            return True
        version = payload.get("version")
        if name != UPDATED or not isinstance(version, int):
            return True
        if version <= self.sent.get(session_id, -1):
            log.debug("not sending session %s version %s after a newer one", session_id, version)
            return False
        self.sent[session_id] = version
        return True


def add_revocation_listener(app: Any, listener: Callable[[], None]) -> None:
    """Call ``listener()`` after each commit that made a credential stop working: a
    participant's link rotated or the participant deleted, an API token revoked, an event
    unpublished (its anonymous viewers lose it). The live namespace then drops such sockets."""
    app.extensions.setdefault(REVOCATION_LISTENERS, []).append(listener)


def _revokes(session: Any) -> bool:
    """True if this flush ends some credential (see :func:`add_revocation_listener`)."""
    for obj in session.deleted:
        if isinstance(obj, Participant | ApiToken | Event):
            return True
    for obj in session.dirty:
        if isinstance(obj, Participant) and _changed(obj, ("token_digest", "event_id")):
            return True
        if isinstance(obj, ApiToken) and _changed(obj, ("revoked_at",)):
            return True
        if isinstance(obj, Event) and _changed(obj, ("published",)) and not obj.published:
            return True
    return False


def event_room(event_id: int) -> str:
    """The Socket.IO room of everyone subscribed to an event."""
    return f"event:{event_id}"


def _changed(obj: Any, attrs: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attrs)


def _after_flush(session: Any, _context: Any) -> None:
    if _revokes(session):
        session.info[REVOKED] = True
    touched: dict[int, Session] = {}
    for obj in list(session.new) + list(session.dirty):
        if isinstance(obj, Session) and (obj in session.new or _changed(obj, SESSION_ATTRS)):
            touched[obj.id] = obj
        elif isinstance(obj, VideoRoom) and (obj in session.new or _changed(obj, ROOM_ATTRS)):
            if obj.session is not None:
                touched[obj.session.id] = obj.session
    gone = {obj.id: obj.event_id for obj in session.deleted if isinstance(obj, Session)}
    if touched or gone:
        pending = session.info.setdefault(PENDING, {})
        for session_id, event_session in touched.items():
            pending[session_id] = event_session
        for session_id, event_id in gone.items():
            pending[session_id] = (DELETED, {"session_id": session_id, "event_id": event_id})


def _after_commit(session: Any) -> None:
    if session.info.pop(REVOKED, False) and has_app_context():
        # At once, not after the response: the listener only wakes the live task (no ORM here).
        for listener in current_app.extensions.get(REVOCATION_LISTENERS, []):
            try:
                listener()
            except Exception:
                log.exception("revocation listener failed")
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    for name, payload in pending.values():
        publish(payload, name)


def _before_commit(session: Any) -> None:
    """Turn the touched sessions into payloads now, with their final committed values."""
    session.flush()
    pending = session.info.get(PENDING)
    if pending:
        ids = [session_id for session_id, obj in pending.items() if isinstance(obj, Session)]
        # Read the rows again: the version bump locked them, so what they hold now (this
        # transaction's writes and every earlier commit) is the state of the new version.
        fresh = {obj.id: obj for obj in session.scalars(
            select(Session).where(Session.id.in_(ids))
            .options(selectinload(Session.video_room))
            .execution_options(populate_existing=True))} if ids else {}
        for session_id in ids:
            obj = fresh.get(session_id)
            if obj is None:  # gone in this transaction: its session.deleted is noted
                pending.pop(session_id, None)
            else:
                pending[session_id] = (UPDATED, session_update_payload(obj))


def _after_rollback(session: Any) -> None:
    session.info.pop(PENDING, None)
    session.info.pop(REVOKED, None)


def publish(payload: dict[str, Any], name: str = "session.updated") -> None:
    """Emit ``name`` (``session.updated``) after the commit; from a request, once it is done.

    Under gevent, a broadcast wakes one writer per client, and the request, if it then waited
    on the database (psycopg yields; so does returning the connection to the pool), would resume
    only after every client was written to: the moderator's switch would take as long as the
    fan-out (~100 ms at 1,000 clients). So a request's payloads go out after its response
    (gevent) or in its teardown, after its last query (threading, tests); Socket.IO events
    publish in their teardown; jobs, CLI commands and scripts at once.
    """
    if has_request_context() and not g.get(FLUSHED):
        g.setdefault(DEFERRED, []).append((name, payload))
        return
    _emit(name, payload, _listeners(), _gate())


def _listeners() -> list[Listener]:
    return list(current_app.extensions.get(LISTENERS, [])) if has_app_context() else []


def _gate() -> VersionGate:
    """This app's gate (a fresh one outside an app: nothing to compare with)."""
    if not has_app_context():
        return VersionGate()
    return current_app.extensions[GATE]


def _after_request(response: Any) -> Any:
    """Under gevent: hand the request's payloads to the response, sent once it is out."""
    if getattr(socketio, "async_mode", None) != "gevent":
        return response
    payloads = g.pop(DEFERRED, None)
    if payloads:
        listeners, gate = _listeners(), _gate()
        response.call_on_close(lambda: [_emit(n, p, listeners, gate) for n, p in payloads])
    return response


def _flush_request(_error: BaseException | None = None) -> None:
    """Send what is left of the request's publications (runs even when the request failed)."""
    payloads = g.pop(DEFERRED, [])
    g.setdefault(FLUSHED, True)
    listeners, gate = _listeners(), _gate()
    for name, payload in payloads:
        _emit(name, payload, listeners, gate)


def _emit(name: str, payload: dict[str, Any], listeners: list[Listener],
          gate: VersionGate) -> None:
    """Emit to the event's room (through Redis with ``REDIS_URL``: every server process) and
    tell this process's listeners of updates; a payload older than one sent is dropped."""
    with gate.lock:
        if not gate.admit(name, payload):
            return
        socketio.emit(name, payload, to=event_room(payload["event_id"]), namespace=NAMESPACE)
    if name != UPDATED:
        return
    for listener in listeners:
        try:
            listener(payload)
        except Exception:
            log.exception("session.updated listener failed")


def init_app(app: Any) -> None:
    """Hook the SQLAlchemy session (once per process; every app shares the scoped session)
    and flush each request's publications in its teardown."""
    app.extensions[GATE] = VersionGate()
    app.after_request(_after_request)
    app.teardown_request(_flush_request)
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_flush", _after_flush)
        event.listen(db.session, "before_commit", _before_commit)
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_rollback", _after_rollback)
