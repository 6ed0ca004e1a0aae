"""What each calendar feed last served, so that its Last-Modified never goes backwards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class FeedStamp(db.Model):
    """A feed's last ETag and the Last-Modified it was served with.

    A feed's bytes can change without leaving a newer timestamp behind (a deleted session, an
    agenda entry removed), so its Last-Modified cannot be derived from the data alone; kept in
    memory it went backwards after a restart or on a second process, and a client revalidating
    with If-Modified-Since only then missed the removal. :mod:`eventhub.services.feeds` writes
    a row when a feed's ETag changes, never on a warm request.
    """

    __tablename__ = "feed_stamps"

    key: Mapped[str] = mapped_column(String(120), primary_key=True)  # e.g. "event:12:de"
    etag: Mapped[str] = mapped_column(String(80))
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime)
