"""The feed dataclasses that EventHub's feed service builds and the builders consume.

A public feed is built from sessions whose ``link`` is the public session page; a personal feed
from sessions whose ``link`` is the participant's EventHub join link. A host link is never
handed to this package, so no feed can leak one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class FeedLink:
    """A URL with a human label, e.g. the join link or the session page."""

    url: str
    label: str = ""


@dataclass(frozen=True)
class FeedSession:
    """One session as a calendar sees it. Times are timezone-aware UTC."""

    id: int
    uid: str
    title: str
    description: str
    starts_at: datetime  # when it is expected to start (a delay included)
    ends_at: datetime  # when it is expected to end (a delay included)
    sequence: int
    status: str  # EventHub status: scheduled, live, paused, delayed, ended, cancelled
    mode: str  # in_person, hybrid, online
    location: str  # the hall's name ("" when none)
    track: str = ""
    last_modified: datetime | None = None
    page: FeedLink | None = None  # public session page
    join: FeedLink | None = None  # personal EventHub join link (personal feeds only)
    created: datetime | None = None  # CREATED (RFC 5545 §3.8.7.1); omitted when None


@dataclass(frozen=True)
class FeedCalendar:
    """A whole feed: its name, the event's IANA time zone, and its sessions."""

    name: str
    timezone: str
    sessions: tuple[FeedSession, ...] = field(default_factory=tuple)
    description: str = ""
    url: str = ""
    refresh_minutes: int = 60
    language: str = "en"
    generated_at: datetime | None = None  # DTSTAMP; defaults to the newest last_modified
    online_label: str = "Online"  # LOCATION word for online/hybrid, already translated
    # ORGANIZER of every VEVENT (RFC 5546 §3.2.1: METHOD:PUBLISH requires one); without an
    # e-mail the feed has no ORGANIZER and no METHOD.
    organizer_email: str = ""
    organizer_name: str = ""
