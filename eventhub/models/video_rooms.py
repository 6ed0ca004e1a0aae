"""The video-meeting room of a session, as the provider created it."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .sessions import Session

ROOM_STATES = ("pending", "ready", "failed", "deleted")


class VideoRoom(db.Model):
    """At most one per session (unique ``session_id``): the room, wherever provisioning stands.

    ``data`` is what participants' join links are built from; ``host_data`` (start URLs,
    moderator passwords) is for the session's moderators and organizers only.
    """

    __tablename__ = "video_rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), unique=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    # A new generation (and so a new provider key, services.provisioning.room_key) each time
    # the room is made anew after a deletion: a late delete of the old room can't hit the new.
    generation: Mapped[int] = mapped_column(default=1)
    attempts: Mapped[int] = mapped_column(default=0)
    # The worker provisioning the room holds it until `lease_until`: two workers never call the
    # provider for the same room at once, and a crashed worker's room is taken up after expiry.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    host_data: Mapped[dict] = mapped_column(JSON, default=dict)
    # The account of the provider's host pool that owns the meeting (services.hosts), and when
    # it was given: one host runs one meeting at a time, and makes so many meetings a day.
    host: Mapped[str | None] = mapped_column(String(254), index=True)
    host_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many were in the meeting when the provider was last asked (services.attendance).
    participant_count: Mapped[int | None] = mapped_column()
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[Session] = relationship(back_populates="video_room")

    def __repr__(self) -> str:
        return f"<VideoRoom {self.id} {self.provider} {self.state}>"
