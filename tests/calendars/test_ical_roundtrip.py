"""Round trips: every instant, every text and every line survives build -> parse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import recurring_ical_events
from ical_support import BASE, TOKEN, events_by_uid, raw_lines, unescape_text, utc
from icalendar import Calendar

from calendars.build import build_calendar
from calendars.model import FeedLink

# Titles with everything RFC 5545 §3.3.11 escapes (",", ";", "\", newline), long enough to fold,
# and multi-byte UTF-8 (2-byte Cyrillic, German umlauts and ß, a 3-byte dash, a 4-byte emoji).
TITLES = [
    "Пленарное заседание: «Города-побратимы, муниципальное партнёрство; опыт и перспективы» "
    "— часть I\\II\nмодератор: глава администрации городского округа «Город Калуга»",
    "Städtepartnerschaften zwischen Kaluga, Suhl; Gießen und Jena: Erfahrungsaustausch der "
    "Oberbürgermeister\\Bürgermeisterinnen — Grußworte, Fragen & Antworten\n(Übersetzung)",
    "ЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁЁ,;\\\n" * 3,
    "🎉 Empfang — приём 🎉 " * 12,
    "trailing backslash \\",
]


@pytest.fixture
def feed(personal, make_calendar):
    """A personal feed over three days with the awkward titles, in Europe/Moscow."""
    sessions = []
    for i, title in enumerate(TITLES, start=1):
        start = utc(2021, 6, 28, 6) + timedelta(days=i % 3, hours=2 * i, minutes=15 * i)
        sessions.append(
            personal(
                i,
                title=title,
                description=title[::-1],
                location=f"Зал №{i}; Saal, {i}",
                track=f"Track, {i}; ß",
                mode="hybrid",
                starts_at=start,
                ends_at=start + timedelta(minutes=90),
                join=FeedLink(f"{BASE}/join/{i}?t={TOKEN}", "Подключиться, онлайн; «Zoom»"),
            )
        )
    return make_calendar(*sessions, name=TITLES[0], description=TITLES[1])


def test_instants_round_trip(feed):
    events = events_by_uid(build_calendar(feed))
    assert len(events) == len(feed.sessions)
    for session in feed.sessions:
        event = events[session.uid]
        assert event["DTSTART"].dt.tzinfo is not None
        assert event["DTSTART"].dt.astimezone(UTC) == session.starts_at
        assert event["DTEND"].dt.astimezone(UTC) == session.ends_at
        assert event.start == session.starts_at and event.end == session.ends_at


def test_texts_round_trip_exactly(feed):
    data = build_calendar(feed)
    calendar = Calendar.from_ical(data)
    events = events_by_uid(data)
    for session in feed.sessions:
        event = events[session.uid]
        assert str(event["SUMMARY"]) == session.title
        assert str(event["LOCATION"]) == f"{session.location} / Online"
        assert event["CATEGORIES"].cats == [session.track]
        assert str(event["DESCRIPTION"]).startswith(session.description.strip())
        assert event["CONFERENCE"].params["LABEL"] == "Подключиться, онлайн; «Zoom»"
        assert str(event["CONFERENCE"]) == session.join.url
    # icalendar 7.3 parses NAME/X-WR-* as vUnknown (still escaped): unescape as TEXT here.
    for name in ("NAME", "X-WR-CALNAME"):
        assert unescape_text(str(calendar[name])) == feed.name
    for name in ("DESCRIPTION", "X-WR-CALDESC"):
        assert unescape_text(str(calendar[name])) == feed.description


def test_lines_folded_at_75_octets_on_character_boundaries(feed):
    data = build_calendar(feed)
    lines = raw_lines(data)
    assert any(line.startswith(b" ") for line in lines), "expected folded lines"
    for line in lines:
        assert len(line) <= 75, line  # RFC 5545 §3.1
        line.decode("utf-8")  # never split inside a multi-byte sequence
        assert b"\r" not in line and b"\n" not in line
    # a 4-byte emoji is never cut either
    assert "🎉".encode() in data


def test_escaping_is_rfc5545(feed):
    data = build_calendar(feed).decode()
    unfolded = data.replace("\r\n ", "")
    summary = next(line for line in unfolded.split("\r\n") if line.startswith("SUMMARY:Städte"))
    assert "Kaluga\\, Suhl\\; Gießen" in summary
    assert "Oberbürgermeister\\\\Bürgermeisterinnen" in summary
    assert "Grußworte\\, Fragen & Antworten\\n(Übersetzung)" in summary
    calname = next(line for line in unfolded.split("\r\n") if line.startswith("X-WR-CALNAME:"))
    assert "Города-побратимы\\, муниципальное партнёрство\\; опыт" in calname


def test_recurring_ical_events_expands_at_the_right_instants(feed):
    calendar = Calendar.from_ical(build_calendar(feed))
    found = recurring_ical_events.of(calendar).between(utc(2021, 6, 27), utc(2021, 7, 2))
    got = sorted((str(e["UID"]), e.start.astimezone(UTC), e.end.astimezone(UTC)) for e in found)
    want = sorted((s.uid, s.starts_at, s.ends_at) for s in feed.sessions)
    assert got == want


def test_recurring_ical_events_window_is_exact(make_session, make_calendar):
    sessions = [
        make_session(1, starts_at=utc(2021, 6, 28, 7), ends_at=utc(2021, 6, 28, 8)),
        make_session(2, starts_at=utc(2021, 6, 29, 7), ends_at=utc(2021, 6, 29, 8)),
        make_session(
            3, starts_at=utc(2021, 6, 30, 7), ends_at=utc(2021, 6, 30, 8), status="cancelled"
        ),
    ]
    calendar = Calendar.from_ical(build_calendar(make_calendar(*sessions)))
    query = recurring_ical_events.of(calendar)
    # 10:00-11:00 Moscow time on the 29th is 07:00-08:00 UTC
    moscow_day = [str(e["UID"]) for e in query.at((2021, 6, 29))]
    assert moscow_day == [sessions[1].uid]
    assert query.between(utc(2021, 6, 29, 8), utc(2021, 6, 30, 7)) == []
    both = query.between(utc(2021, 6, 29, 7, 59), utc(2021, 6, 30, 7, 1))
    assert sorted(str(e["UID"]) for e in both) == [sessions[1].uid, sessions[2].uid]


def test_recurring_ical_events_across_dst(make_session, make_calendar):
    sessions = [
        make_session(1, starts_at=utc(2026, 3, 28, 9), ends_at=utc(2026, 3, 28, 10)),
        make_session(2, starts_at=utc(2026, 3, 30, 9), ends_at=utc(2026, 3, 30, 10)),
    ]
    calendar = Calendar.from_ical(
        build_calendar(make_calendar(*sessions, timezone="Europe/Berlin"))
    )
    found = recurring_ical_events.of(calendar).between(utc(2026, 3, 27), utc(2026, 4, 1))
    assert sorted(e.start.astimezone(UTC) for e in found) == [s.starts_at for s in sessions]
    assert sorted(e.start.utcoffset() for e in found) == [timedelta(hours=1), timedelta(hours=2)]


def test_now_default_dtstamp_is_utc(make_session, make_calendar):
    calendar = Calendar.from_ical(
        build_calendar(make_calendar(make_session(last_modified=None), generated_at=None))
    )
    stamp = calendar.walk("VEVENT")[0]["DTSTAMP"].dt
    assert stamp.tzinfo is not None and stamp.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)
