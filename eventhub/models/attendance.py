"""Who came: participants who opened their join link, and who the provider saw in the room."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class JoinOpen(db.Model):
    """A participant opened their personal join link of a session (first and last time)."""

    __tablename__ = "join_opens"
    __table_args__ = (UniqueConstraint("session_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            index=True)
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opens: Mapped[int] = mapped_column(default=1)


class MeetingAttendance(db.Model):
    """One stay of a person in a session's meeting, as the provider reported it (webhooks).

    ``participant_id`` is set when the person is matched to a participant of the event (by the
    e-mail, else the display name EventHub sent with their join link). A redelivered webhook
    finds its row by (session, the provider's participant key, join time) and changes nothing.
    """

    __tablename__ = "meeting_attendance"
    __table_args__ = (UniqueConstraint("session_id", "participant_key", "joined_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"),
                                            index=True)
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True)
    provider: Mapped[str] = mapped_column(String(40))
    participant_key: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
