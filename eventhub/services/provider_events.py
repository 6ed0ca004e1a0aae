"""What a provider tells EventHub about a meeting (webhooks): the session's status follows.

A provider's webhook (Zoom's ``meeting.started`` / ``meeting.ended``) is a fact about the
meeting, not a request by a person, so it moves the status only along the legal transitions
of DESIGN.md's status machine and ignores everything else: webhooks are retried and may come
late, twice, or out of order, and a moderator's own decision (a cancellation, an end) wins.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from ..extensions import db
from ..models import Session, VideoRoom, utcnow

log = logging.getLogger(__name__)

#: Provider-neutral meeting events -> the status they lead to, and the statuses they leave.
EVENTS: dict[str, tuple[str, frozenset[str]]] = {
    "started": ("live", frozenset({"scheduled", "delayed", "paused"})),
    "ended": ("ended", frozenset({"live", "paused"})),
}


def find_room(provider: str, external_id: str) -> VideoRoom | None:
    """The ready video room a provider knows by ``external_id``, if any."""
    return db.session.scalar(
        select(VideoRoom).where(VideoRoom.provider == provider,
                                VideoRoom.external_id == str(external_id),
                                VideoRoom.state == "ready")
    )


def apply_provider_event(provider: str, external_id: str, event_name: str) -> Session | None:
    """Move the session of a provider's meeting to ``live`` (``started``) or ``ended``.

    Returns the session when its status changed, None when the event was ignored (unknown
    meeting, unknown event, or a status the event does not lead from: idempotent). Commits;
    ``session.updated`` is published after the commit by :mod:`eventhub.publish`.
    """
    rule = EVENTS.get(event_name)
    room = find_room(provider, external_id) if rule else None
    if rule is None or room is None:
        log.info("%s event %s for meeting %s ignored: no such event or room",
                 provider, event_name, external_id)
        return None
    event_session = room.session
    status, sources = rule
    if event_session.status not in sources:
        log.info("%s event %s ignored for session %s (status %s)", provider, event_name,
                 event_session.id, event_session.status)
        return None
    event_session.status = status
    event_session.delay_minutes = 0
    event_session.updated_at = utcnow()
    db.session.commit()
    log.info("session %s is %s (from %s)", event_session.id, status, provider)
    return event_session
