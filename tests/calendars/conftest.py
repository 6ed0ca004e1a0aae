"""Fixtures for the calendars tests: feed dataclasses as services/feeds.py builds them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ical_support import BASE, DOMAIN, STAMP, TOKEN, utc

from calendars.build import session_uid
from calendars.model import FeedCalendar, FeedLink, FeedSession


@pytest.fixture
def make_session() -> Callable[..., FeedSession]:
    """Return a factory of public FeedSessions (page link, no join link); kwargs override."""

    def make(session_id: int = 1, **overrides: object) -> FeedSession:
        """Return session ``session_id`` with defaults overridden by ``overrides``."""
        values: dict[str, object] = {
            "id": session_id,
            "uid": session_uid(session_id, DOMAIN),
            "title": f"Session {session_id}",
            "description": "Plenary discussion.",
            "starts_at": utc(2021, 6, 28, 7, 0),
            "ends_at": utc(2021, 6, 28, 8, 30),
            "sequence": 0,
            "status": "scheduled",
            "mode": "in_person",
            "location": "Hall A",
            "track": "Economy",
            "last_modified": utc(2021, 6, 1, 12, 0),
            "page": FeedLink(f"{BASE}/sessions/{session_id}", "Session page"),
        }
        values.update(overrides)
        return FeedSession(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def personal(make_session: Callable[..., FeedSession]) -> Callable[..., FeedSession]:
    """Return a factory of personal FeedSessions: as public ones, plus the join link."""

    def make(session_id: int = 1, **overrides: object) -> FeedSession:
        """Return session ``session_id`` carrying its participant's join link."""
        overrides.setdefault("join", FeedLink(f"{BASE}/join/{session_id}?t={TOKEN}", "Join online"))
        return make_session(session_id, **overrides)

    return make


@pytest.fixture
def make_calendar() -> Callable[..., FeedCalendar]:
    """Return a factory of FeedCalendars in Europe/Moscow with a fixed DTSTAMP."""

    def make(*sessions: FeedSession, **overrides: object) -> FeedCalendar:
        """Return a feed of ``sessions`` with defaults overridden by ``overrides``."""
        values: dict[str, object] = {
            "name": "XVI Conference of Russian and German Partner Cities",
            "timezone": "Europe/Moscow",
            "sessions": tuple(sessions),
            "url": f"{BASE}/events/partner-cities-2021",
            "generated_at": STAMP,
            "organizer_email": "eventhub@eventhub.example",
            "organizer_name": "EventHub",
        }
        values.update(overrides)
        return FeedCalendar(**values)  # type: ignore[arg-type]

    return make
