"""Change notices: a session on someone's agenda changed, so a mail is owed to them.

A ``before_flush`` hook on ``db.session`` (registered once per process at import of
:mod:`eventhub.models`, like :mod:`.versioning`) looks at the Sessions the flush changes and,
for what a participant must hear about, writes ``collecting`` outbox rows in the same flush:
the notice commits (or rolls back) with the change itself, whichever service made it.

What counts: a new time (``starts_at``/``ends_at``), a delay (``delay_minutes``), a
cancellation and a reinstatement (``status``), and a change of mode (moved online, back in the
hall, hybrid/online). Going live, pausing and ending do not: nothing changes for the calendar.

Who hears: every participant with the session on their agenda who has not declined the
invitation and has not unsubscribed. The hook only inserts: one row per participant and flush,
holding ``{"changes": {session_id: [what, ...]}}``, due when the participant's burst ends
(``MAIL_BURST_SECONDS`` after its first change). :func:`eventhub.services.mail.scan` merges a
participant's rows into one mail, with an iTIP attachment per session.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import make_msgid
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event as sa_event
from sqlalchemy import func, inspect, select

from ..extensions import db
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


def _before_flush(session: Any, _context: Any, _instances: Any) -> None:
    changed: dict[int, list[str]] = {}
    for obj in session.dirty:
        if isinstance(obj, Session) and obj.id is not None and obj not in session.deleted:
            found = what_changed(obj)
            if found:
                changed[obj.id] = found
    if not changed:
        return
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
            per_participant.setdefault(participant_id, {})[str(session_id)] = \
                changed[session_id]
            people[participant_id] = (event_id, email)
    if not per_participant:
        return
    # A burst already open for a participant keeps its end: later changes join it.
    now = utcnow()
    open_bursts: dict[int, Any] = {}
    pids = sorted(per_participant)
    for start in range(0, len(pids), CHUNK):
        open_bursts.update(session.execute(
            select(OutboxMail.participant_id, func.min(OutboxMail.next_attempt_at))
            .where(OutboxMail.state == "collecting",
                   OutboxMail.participant_id.in_(pids[start:start + CHUNK]))
            .group_by(OutboxMail.participant_id)).all())
    due = now + _burst()
    domain = _domain()
    for participant_id, changes in per_participant.items():
        event_id, email = people[participant_id]
        session.add(OutboxMail(
            message_id=make_msgid("eventhub", domain=domain), event_id=event_id,
            participant_id=participant_id, kind="change", state="collecting",
            recipient=email, payload={"changes": changes},
            next_attempt_at=open_bursts.get(participant_id) or due, created_at=now))


def register() -> None:
    """Hook ``db.session`` (idempotent: once per process, whatever the number of apps)."""
    if not sa_event.contains(db.session, "before_flush", _before_flush):
        sa_event.listen(db.session, "before_flush", _before_flush)
