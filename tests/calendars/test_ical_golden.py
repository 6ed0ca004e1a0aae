"""The public feed byte for byte against tests/calendars/golden/public.ics.

Nothing is normalised: any change in output (property order, folding, escaping, VTIMEZONE) shows
up here and must be reviewed. After an intended change, regenerate the file with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/calendars/test_ical_golden.py`` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ical_support import BASE, DOMAIN, utc

from calendars.build import build_calendar, session_uid
from calendars.model import FeedCalendar, FeedLink, FeedSession

GOLDEN = Path(__file__).parent / "golden" / "public.ics"


def _session(session_id: int, **values: object) -> FeedSession:
    """Return a public session with its UID and page link derived from its id."""
    return FeedSession(
        id=session_id,
        uid=session_uid(session_id, DOMAIN),
        page=FeedLink(f"{BASE}/sessions/{session_id}", "Session page"),
        **values,  # type: ignore[arg-type]
    )


def public_feed() -> FeedCalendar:
    """The founding conference's public programme, as services/feeds.py would pass it."""
    return FeedCalendar(
        name="XVI Конференция российских и германских городов-партнёров",
        timezone="Europe/Moscow",
        description="Калуга, 28–30 июня 2021; Kaluga, 28.–30. Juni 2021",
        url=f"{BASE}/events/partner-cities-2021",
        refresh_minutes=60,
        language="ru",
        generated_at=utc(2021, 6, 27, 18, 0),
        online_label="Онлайн",
        organizer_email="eventhub@eventhub.example",
        organizer_name="EventHub",
        sessions=(
            _session(
                1,
                title="Открытие конференции: приветствия глав городов-побратимов, "
                "министров и делегаций",
                description="Пленарное заседание.\nСинхронный перевод: ru, de.",
                starts_at=utc(2021, 6, 28, 7, 0),
                ends_at=utc(2021, 6, 28, 8, 30),
                sequence=0,
                status="scheduled",
                mode="hybrid",
                location="Большой зал",
                track="Пленарные заседания",
                last_modified=utc(2021, 6, 20, 9, 0),
                created=utc(2021, 5, 1, 9, 0),
            ),
            _session(
                2,
                title="Städtepartnerschaften: Kommunale Wirtschaft; Erfahrungen \\ Perspektiven",
                description="Podiumsdiskussion mit Oberbürgermeisterinnen und Bürgermeistern.",
                starts_at=utc(2021, 6, 28, 10, 0),
                ends_at=utc(2021, 6, 28, 11, 30),
                sequence=2,
                status="delayed",
                mode="online",
                location="Зал 2",
                track="Wirtschaft",
                last_modified=utc(2021, 6, 25, 14, 5),
            ),
            _session(
                3,
                title="Молодёжные обмены",
                description="",
                starts_at=utc(2021, 6, 29, 9, 0),
                ends_at=utc(2021, 6, 29, 10, 0),
                sequence=4,
                status="cancelled",
                mode="hybrid",  # cancelled: no "/ Онлайн", TRANSPARENT
                location="Зал 3",
                track="",
                last_modified=utc(2021, 6, 26, 8, 0),
            ),
            _session(
                4,
                title="Closing session",
                description="Resolution of the conference.",
                starts_at=utc(2021, 6, 30, 12, 0),
                ends_at=utc(2021, 6, 30, 13, 0),
                sequence=1,
                status="scheduled",
                mode="in_person",
                location="Большой зал",
                track="Пленарные заседания",
                last_modified=utc(2021, 6, 21, 10, 0),
            ),
        ),
    )


def test_public_feed_matches_golden_file():
    data = build_calendar(public_feed())
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_bytes(data)
        pytest.skip("golden file rewritten; review the diff")
    assert data == GOLDEN.read_bytes()


def test_golden_file_has_no_personal_links():
    golden = GOLDEN.read_bytes()
    assert b"/join/" not in golden and b"t=" not in golden and b"CONFERENCE" not in golden
