"""The outbox: every mail EventHub sends, written in the transaction of the change behind it.

A row is written by the same commit as the change that causes it (an invitation, a session
moved online), so a mail exists exactly when its cause does. The background job runner sends
it later (:mod:`eventhub.services.mail`). Its ``message_id`` is fixed when the row is made, so a
retry or a second worker sends the same message, and a worker takes a row with a conditional
UPDATE (a lease) before it talks to the mail server.

States: ``collecting`` (a change notice still gathering the changes of one burst), ``pending``
(composed, waiting to be sent or retried), ``sent``, ``failed`` (refused for good by the mail
server, with ``last_error``), ``skipped`` (nothing left to say: e.g. the participant unsubscribed
before the burst closed).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

MAIL_STATES = ("collecting", "pending", "sent", "failed", "skipped")
#: Kinds of mail. A change notice is ``change``; a join link when the window opens is ``join``.
MAIL_KINDS = ("invitation", "reminder", "confirmation", "change", "join")


class OutboxMail(db.Model):
    """One mail to one participant: what to send, and where sending it stands."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Fixed at creation: the same Message-ID on every attempt (RFC 5322 §3.6.4).
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                                 index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="pending")
    # A mail sent at most once for its cause (``join:<session>:<participant>``); else NULL.
    dedupe_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(500), default="")
    # What the mail is about: for a change notice, {"changes": {session_id: [what, ...]}}.
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # The whole RFC 5322 message (ASCII: headers RFC 2047-encoded, bodies base64/QP), composed
    # once, so every attempt sends the same bytes. NULL while the row is ``collecting``.
    message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    # Not before this instant: the end of a change notice's burst, or a retry's backoff.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The worker sending the row holds it until then (see services.mail._claim).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(32))  # the worker's claim token
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMail {self.id} {self.kind} {self.state}>"
