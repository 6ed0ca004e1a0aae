"""What a provider tells EventHub about a meeting (webhooks): the session's status follows.

A provider's webhook (Zoom's ``meeting.started`` / ``meeting.ended``) is a fact about the
meeting, not a request by a person, so it moves the status only along the legal transitions
of DESIGN.md's status machine and ignores everything else: webhooks are retried and may come
late, twice, or out of order, and a moderator's own decision (a cancellation, an end) wins.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Session, VideoRoom, WebhookDelivery, utcnow

log = logging.getLogger(__name__)

KEEP_DELIVERIES = timedelta(days=3)  # Zoom retries a failed delivery for up to 72 hours

#: Provider-neutral meeting events -> the status they lead to, and the statuses they leave.
#: ``started`` never leaves ``paused``: a moderator's pause wins over the meeting running on.
EVENTS: dict[str, tuple[str, frozenset[str]]] = {
    "started": ("live", frozenset({"scheduled", "delayed"})),
    "ended": ("ended", frozenset({"live", "paused"})),
}


def find_room(provider: str, external_id: str) -> VideoRoom | None:
    """The ready video room a provider knows by ``external_id``, if any."""
    return db.session.scalar(
        select(VideoRoom).where(VideoRoom.provider == provider,
                                VideoRoom.external_id == str(external_id),
                                VideoRoom.state == "ready")
    )


def _seen(provider: str, delivery: str) -> bool:
    """Note the delivery in the open transaction; True if it was applied before."""
    found = db.session.scalar(select(WebhookDelivery.id).where(
        WebhookDelivery.provider == provider, WebhookDelivery.digest == delivery))
    if found is not None:
        return True
    db.session.add(WebhookDelivery(provider=provider, digest=delivery))
    # Deliveries older than any retry or replay window are forgotten as new ones come.
    db.session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.received_at < utcnow() - KEEP_DELIVERIES))
    return False


def apply_provider_event(provider: str, external_id: str, event_name: str,
                         delivery: str | None = None) -> Session | None:
    """Move the session of a provider's meeting to ``live`` (``started``) or ``ended``.

    Returns the session when its status changed, None when the event was ignored (unknown
    meeting, unknown event, a delivery seen before, or a status the event does not lead
    from: idempotent). ``delivery`` identifies the delivery (the digest of its signed body):
    it is remembered (with the change it made, in one transaction). Commits;
    ``session.updated`` is published after the commit by :mod:`eventhub.publish`.
    """
    rule = EVENTS.get(event_name)
    room = find_room(provider, external_id) if rule else None
    if rule is None or room is None:
        log.info("%s event %s for meeting %s ignored: no such event or room",
                 provider, event_name, external_id)
        return None
    event_session = room.session
    if delivery is not None and _seen(provider, delivery):
        db.session.rollback()
        log.info("%s event %s for session %s ignored: delivery applied before", provider,
                 event_name, event_session.id)
        return None
    status, sources = rule
    if event_session.status not in sources:
        log.info("%s event %s ignored for session %s (status %s)", provider, event_name,
                 event_session.id, event_session.status)
        db.session.commit()  # the delivery is remembered: a replay later is ignored too
        return None
    event_session.status = status
    event_session.delay_minutes = 0
    event_session.updated_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # the same delivery, applied by a parallel request just now
        db.session.rollback()
        return None
    log.info("session %s is %s (from %s)", event_session.id, status, provider)
    return event_session
