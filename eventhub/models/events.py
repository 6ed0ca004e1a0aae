"""Events (the conferences) and their physical rooms (halls)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .sessions import MODES, Mode  # noqa: F401 - MODES re-exported
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .participants import Participant
    from .sessions import Session



class Event(db.Model):
    """A conference: its dates in its own IANA time zone, programme, participants."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[dict] = mapped_column(JSON, default=dict)
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    venue: Mapped[str] = mapped_column(String(300), default="")
    mode: Mapped[str] = mapped_column(String(20), default=Mode.IN_PERSON)
    default_provider: Mapped[str] = mapped_column(String(40), default="jitsi")
    fallback_provider: Mapped[str | None] = mapped_column(String(40))
    join_window_minutes: Mapped[int] = mapped_column(default=15)
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Bumped in the same transaction as any change the calendar feeds show (eventhub.versioning):
    # the feeds' change state is this counter, read by primary key.
    programme_version: Mapped[int] = mapped_column(default=0, server_default="0")

    rooms: Mapped[list[Room]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Room.id"
    )
    sessions: Mapped[list[Session]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Session.starts_at"
    )
    participants: Mapped[list[Participant]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.slug}>"


class Room(db.Model):
    """A physical hall of an event."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    capacity: Mapped[int | None] = mapped_column()

    event: Mapped[Event] = relationship(back_populates="rooms")
