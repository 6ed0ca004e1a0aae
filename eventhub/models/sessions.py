"""Sessions of the programme, with their moderators and speakers."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .events import Event, Room
    from .participants import Participant
    from .users import User
    from .video_rooms import VideoRoom



class Status(StrEnum):
    """Where a session stands in time (DESIGN.md's status machine)."""

    SCHEDULED = "scheduled"
    LIVE = "live"
    PAUSED = "paused"
    DELAYED = "delayed"
    ENDED = "ended"
    CANCELLED = "cancelled"


class Mode(StrEnum):
    """Where a session (or a whole event) takes place."""

    IN_PERSON = "in_person"
    HYBRID = "hybrid"
    ONLINE = "online"


STATUSES = tuple(Status)
MODES = tuple(Mode)
#: Statuses a session does not leave by the clock: no switch, no "go live", no new room.
FINISHED = frozenset({Status.ENDED, Status.CANCELLED})
#: Modes that need a video room.
VIDEO_MODES = frozenset({Mode.ONLINE, Mode.HYBRID})

session_moderators = Table(
    "session_moderators",
    db.metadata,
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)

session_speakers = Table(
    "session_speakers",
    db.metadata,
    Column("session_id", ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("participant_id", ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
)


class Session(db.Model):
    """One slot of the programme. Call variables ``event_session`` (``session`` is Flask's)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    title: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[dict] = mapped_column(JSON, default=dict)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    track: Mapped[str] = mapped_column(String(100), default="")
    # The track as each language names it ({"ru": ..., "de": ..., "en": ...}, any subset);
    # `track` stays the key that filters use and is shown where no name is given.
    track_names: Mapped[dict] = mapped_column(JSON, default=dict)
    mode: Mapped[str] = mapped_column(String(20), default="in_person")
    # The mode the programme was planned with: whole-event switches change `mode` only, and
    # `as_planned` returns to this (set on create and by an organizer's edit of the mode).
    planned_mode: Mapped[str] = mapped_column(
        String(20), default="in_person", server_default="in_person"
    )
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    delay_minutes: Mapped[int] = mapped_column(default=0)
    # Language interpretation: {"languages": ["ru", "de"], "interpreter_ids": [participant ids]}.
    interpretation: Mapped[dict | None] = mapped_column(JSON)
    sequence: Mapped[int] = mapped_column(default=0)
    # Rises with every change of the session or its video room (eventhub.versioning): the
    # order of what /live publishes, so nobody shows an older state after a newer one.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The UID an imported session came with, so that re-importing updates instead of duplicating.
    external_uid: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(back_populates="sessions")
    room: Mapped[Room | None] = relationship()
    moderators: Mapped[list[User]] = relationship(secondary=session_moderators)
    speakers: Mapped[list[Participant]] = relationship(secondary=session_speakers)
    video_room: Mapped[VideoRoom | None] = relationship(
        back_populates="session", cascade="all, delete-orphan", uselist=False
    )

    @property
    def expected_starts_at(self) -> datetime:
        """When the session is expected to start: as planned, plus any announced delay."""
        return self.starts_at + timedelta(minutes=self.delay_minutes or 0)

    @property
    def expected_ends_at(self) -> datetime:
        """When the session is expected to end: as planned, plus any announced delay."""
        return self.ends_at + timedelta(minutes=self.delay_minutes or 0)

    @property
    def is_finished(self) -> bool:
        """Ended or cancelled."""
        return self.status in FINISHED

    def is_over(self, now: datetime) -> bool:
        """Finished, or its expected end has passed: shown as past, never switched again."""
        return self.is_finished or self.expected_ends_at <= now

    @property
    def has_video(self) -> bool:
        """Online or hybrid: the session needs a video room."""
        return self.mode in VIDEO_MODES

    def __repr__(self) -> str:
        return f"<Session {self.id} {self.status} {self.mode}>"
