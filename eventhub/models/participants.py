"""Participants of an event and their personal agendas."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .events import Event
    from .sessions import Session

PARTICIPANT_ROLES = ("official", "delegate", "speaker", "press", "guest", "interpreter")
ATTENDANCE = ("in_person", "remote")
INVITATION_STATUSES = ("invited", "accepted", "declined")


def derive_token(secret: str, participant_id: int, nonce: str) -> str:
    """The personal token: HMAC-SHA256(SECRET_KEY, id + nonce), 32 bytes, URL-safe."""
    mac = hmac.new(str(secret).encode(), f"participant:{participant_id}:{nonce}".encode(),
                   hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def _placeholder_digest() -> str:
    # Unique until the real digest is set (it needs the id); a lookup never matches it.
    return "-" + secrets.token_hex(31)


class Participant(db.Model):
    """A person attending one event, who reaches EventHub through a personal secret link.

    The token is not stored: it is derived from the row's id and random ``token_nonce`` under
    SECRET_KEY (:func:`derive_token`), so a copy of the database opens no link while an
    organizer can always show the link again. It is looked up by its SHA-256 digest.
    Rotating the link replaces the nonce (``services.access.issue_participant_token``).
    """

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("event_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    organization: Mapped[str] = mapped_column(String(200), default="")
    partner_organization: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    role: Mapped[str] = mapped_column(String(20), default="guest")
    attendance: Mapped[str] = mapped_column(String(20), default="in_person")
    language: Mapped[str] = mapped_column(String(2), default="en")
    invitation_status: Mapped[str] = mapped_column(String(20), default="invited")
    token_nonce: Mapped[str] = mapped_column(String(64), default="")
    token_digest: Mapped[str] = mapped_column(String(64), unique=True,
                                              default=_placeholder_digest)
    # Unsubscribed from reminders, change notices and join-link mails (their page still shows
    # everything); invitations and confirmations still go.
    mail_opt_out: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the invitation mail was queued (None: never invited by mail), and the last reminder.
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    event: Mapped[Event] = relationship(back_populates="participants")
    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="participant", cascade="all, delete-orphan"
    )

    @property
    def token(self) -> str:
        """The personal token (needs the app's SECRET_KEY and a flushed id)."""
        return derive_token(current_app.config["SECRET_KEY"], self.id, self.token_nonce)

    def __repr__(self) -> str:
        return f"<Participant {self.id}>"


class AgendaItem(db.Model):
    """A session a participant chose for their personal agenda."""

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("participant_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    participant: Mapped[Participant] = relationship(back_populates="agenda")
    session: Mapped[Session] = relationship()
