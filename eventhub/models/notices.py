"""Change notices: a session on someone's agenda changed, so a mail is owed to them.

A ``before_flush`` hook on ``db.session`` (registered once per process at import of
:mod:`eventhub.models`, like :mod:`.versioning`) looks at the Sessions the flush changes and,
for what a participant must hear about, writes ``collecting`` outbox rows in the same flush:
the notice commits (or rolls back) with the change itself, whichever service made it.

What counts: a new time (``starts_at``/``ends_at``), a delay (``delay_minutes``), a
cancellation and a reinstatement (``status``), a change of mode (moved online, back in the
hall, hybrid/online), and a deletion. Going live, pausing and ending do not: nothing changes for
the calendar. A deleted session leaves no row to read when the burst closes (its agenda items
go with it), so the hook keeps what its cancelling iTIP needs in the notice itself
(``payload["deleted"]``: titles, times, hall, the next SEQUENCE). A session deleted when it is
over (ended, or its end has passed), or deleted with its whole event, is no news; one that was
cancelled already is news only to those whose notice of the cancellation has not gone yet.

Who hears: every participant with the session on their agenda who has not declined the
invitation and has not unsubscribed. The hook only inserts: one row per participant and flush,
holding ``{"changes": {session_id: [what, ...]}}`` (and ``"deleted"``), due when the
participant's burst ends (``MAIL_BURST_SECONDS`` after its first change).
:func:`eventhub.services.mail.scan` merges a participant's rows into one mail, with an iTIP
attachment per session.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import make_msgid
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import func, inspect, select

from ..extensions import db
from .events import Event
from .outbox import OutboxMail
from .participants import AgendaItem, Participant
from .sessions import VIDEO_MODES, Session, Status
from .types import utcnow

CHUNK = 500  # ids per IN (...) list


def _old_new(state: Any, name: str) -> tuple[Any, Any] | None:
    """(old, new) of a column with a net change in this flush, else None."""
    history = state.attrs[name].history
    if not history.added:
        return None
    old = history.deleted[0] if history.deleted else None
    new = history.added[0]
    return None if old == new else (old, new)


def what_changed(event_session: Session) -> list[str]:
    """What a participant must hear about in this flush's changes to ``event_session``."""
    state = inspect(event_session)
    found: list[str] = []
    if _old_new(state, "starts_at") or _old_new(state, "ends_at"):
        found.append("time")
    if _old_new(state, "delay_minutes"):
        found.append("delay")
    status = _old_new(state, "status")
    if status is not None:
        old, new = status
        if new == Status.CANCELLED:
            found.append("cancelled")
        elif old == Status.CANCELLED:
            found.append("reinstated")
    mode = _old_new(state, "mode")
    if mode is not None:
        old, new = mode
        if new in VIDEO_MODES and old not in VIDEO_MODES:
            found.append("online")
        elif new not in VIDEO_MODES:
            found.append("in_person")
        else:
            found.append("mode")
    return found


def _burst() -> timedelta:
    seconds = current_app.config.get("MAIL_BURST_SECONDS", 60) if has_app_context() else 60
    return timedelta(seconds=float(seconds))


def _domain() -> str:
    if not has_app_context():
        return "eventhub"
    base = current_app.config.get("EVENTHUB_BASE_URL", "")
    return base.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "eventhub"


def _deleted_snapshot(event_session: Session) -> dict[str, Any]:
    """What the CANCEL of a deleted session needs once the row is gone (JSON)."""
    return {
        "title": dict(event_session.title or {}),
        "description": dict(event_session.description or {}),
        "starts_at": event_session.expected_starts_at.isoformat(),
        "ends_at": event_session.expected_ends_at.isoformat(),
        "created_at": event_session.created_at.isoformat() if event_session.created_at else None,
        # Higher than anything a feed or a mail carried for it: clients apply the CANCEL.
        "sequence": (event_session.sequence or 0) + 1,
        "mode": event_session.mode,
        "hall": event_session.room.name if event_session.room else "",
        "track": event_session.track or "",
        "timezone": event_session.event.timezone,
    }


def _deletions(session: Any, now: Any) -> tuple[dict[int, dict[str, Any]], set[int]]:
    """The deleted sessions that are news, with their snapshots, and of those the ids already
    cancelled (news only where the cancellation's notice is still collecting)."""
    gone_events = {obj.id for obj in session.deleted if isinstance(obj, Event)}
    deleted: dict[int, dict[str, Any]] = {}
    cancelled: set[int] = set()
    for obj in session.deleted:
        if not isinstance(obj, Session) or obj.id is None or obj.event_id in gone_events:
            continue
        if obj.status == Status.ENDED or obj.expected_ends_at <= now:
            continue
        deleted[obj.id] = _deleted_snapshot(obj)
        if obj.status == Status.CANCELLED:
            cancelled.add(obj.id)
    return deleted, cancelled


def _before_flush(session: Any, _context: Any, _instances: Any) -> None:
    now = utcnow()
    changed: dict[int, list[str]] = {}
    for obj in session.dirty:
        if isinstance(obj, Session) and obj.id is not None and obj not in session.deleted:
            found = what_changed(obj)
            if found:
                changed[obj.id] = found
    deleted, already_cancelled = _deletions(session, now)
    for session_id in deleted:
        changed[session_id] = ["deleted"]
    if not changed:
        return
    gone_people = {obj.id for obj in session.deleted if isinstance(obj, Participant)}
    per_participant: dict[int, dict[str, list[str]]] = {}
    people: dict[int, tuple[int, str]] = {}
    ids = sorted(changed)
    for start in range(0, len(ids), CHUNK):
        rows = session.execute(
            select(AgendaItem.participant_id, AgendaItem.session_id, Participant.event_id,
                   Participant.email)
            .join(Participant, Participant.id == AgendaItem.participant_id)
            .where(AgendaItem.session_id.in_(ids[start:start + CHUNK]),
                   Participant.invitation_status != "declined",
                   Participant.mail_opt_out.is_(False)))
        for participant_id, session_id, event_id, email in rows:
            if participant_id in gone_people:
                continue
            per_participant.setdefault(participant_id, {})[str(session_id)] = \
                changed[session_id]
            people[participant_id] = (event_id, email)
    if not per_participant:
        return
    # A burst already open for a participant keeps its end: later changes join it.
    open_bursts: dict[int, Any] = {}
    collecting: dict[int, set[str]] = {}  # participant -> sessions their open burst names
    pids = sorted(per_participant)
    for start in range(0, len(pids), CHUNK):
        chunk = pids[start:start + CHUNK]
        open_bursts.update(session.execute(
            select(OutboxMail.participant_id, func.min(OutboxMail.next_attempt_at))
            .where(OutboxMail.state == "collecting", OutboxMail.participant_id.in_(chunk))
            .group_by(OutboxMail.participant_id)).all())
        if already_cancelled:  # rare: read the open notices only then
            for participant_id, payload in session.execute(
                    select(OutboxMail.participant_id, OutboxMail.payload).where(
                        OutboxMail.state == "collecting", OutboxMail.participant_id.in_(chunk))):
                collecting.setdefault(participant_id, set()).update(
                    (payload or {}).get("changes", {}))
    due = now + _burst()
    domain = _domain()
    for participant_id, changes in per_participant.items():
        # A cancelled session's CANCEL went out already, unless its notice is still open.
        changes = {key: what for key, what in changes.items()
                   if int(key) not in already_cancelled
                   or key in collecting.get(participant_id, ())}
        if not changes:
            continue
        payload: dict[str, Any] = {"changes": changes}
        gone = {key: deleted[int(key)] for key in changes if int(key) in deleted}
        if gone:
            payload["deleted"] = gone
        event_id, email = people[participant_id]
        session.add(OutboxMail(
            message_id=make_msgid("eventhub", domain=domain), event_id=event_id,
            participant_id=participant_id, kind="change", state="collecting",
            recipient=email, payload=payload,
            next_attempt_at=open_bursts.get(participant_id) or due, created_at=now))


def register() -> None:
    """Hook ``db.session`` (idempotent: once per process, whatever the number of apps)."""
    if not sa_event.contains(db.session, "before_flush", _before_flush):
        sa_event.listen(db.session, "before_flush", _before_flush)
