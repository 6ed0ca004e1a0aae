"""Join-window notices: ``join.open`` ``{"session_id", "event_id", "join_url"}`` to a
participant's own connection when a session of their agenda (all sessions when the agenda is
empty) becomes joinable: its room is ready and its join window is open or it is live
(:func:`joining.why_closed` decides, as it does for the join link itself).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db, socketio
from ..models import AgendaItem, Participant, Session, utcnow
from ..models.sessions import FINISHED, VIDEO_MODES
from ..publish import NAMESPACE
from ..services import joining

if TYPE_CHECKING:
    from .scanner import Connection


def joinable(event_session: Session, now: datetime) -> bool:
    """A participant's join link leads into the room now."""
    return joining.why_closed(event_session, now) is None


def join_path(session_id: int, token: str) -> str:
    """The participant's own EventHub join link (never the provider's URL)."""
    return f"/join/{session_id}?t={quote(token, safe='')}"


def joinable_ids(event_id: int, now: datetime) -> list[int]:
    """The ids of the event's sessions whose join links are open now."""
    sessions = db.session.scalars(
        select(Session).where(Session.event_id == event_id,
                              Session.mode.in_(VIDEO_MODES),
                              Session.status.not_in(FINISHED))
        .options(selectinload(Session.video_room), selectinload(Session.event)))
    return [s.id for s in sessions if joinable(s, now)]


def announce(targets: list[tuple[str, Connection]]) -> None:
    """Send ``join.open`` to each participant connection ``(sid, connection)`` for the sessions
    that became joinable since it last knew."""
    if not targets:
        return
    now = utcnow()
    wanted = {c.event_id for _, c in targets}
    open_by_event = {e: set(joinable_ids(e, now)) for e in wanted}
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
