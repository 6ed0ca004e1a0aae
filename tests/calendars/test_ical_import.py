"""parse_programme: .ics in, ImportedSession and Rejected out, CalendarParseError for junk."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from ical_support import utc

from calendars.build import build_calendar
from calendars.importer import (
    CalendarParseError,
    ImportedSession,
    ImportResult,
    Rejected,
    parse_programme,
)


def ics(*events: str, extra: str = "") -> bytes:
    """Wrap VEVENT bodies (one property per line, LF allowed) in a VCALENDAR, with CRLF."""
    body = "".join(f"BEGIN:VEVENT\n{e.strip()}\nEND:VEVENT\n" for e in events)
    text = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n{extra}{body}END:VCALENDAR\n"
    return text.replace("\n", "\r\n").encode()


BERLIN_VTIMEZONE = """BEGIN:VTIMEZONE
TZID:Custom Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
END:DAYLIGHT
END:VTIMEZONE
"""


def only(result: ImportResult) -> ImportedSession:
    """Return the one imported session, asserting nothing was rejected."""
    assert result.rejected == ()
    assert len(result.sessions) == 1
    return result.sessions[0]


def test_tzid_is_resolved_to_utc():
    session = only(
        parse_programme(
            ics(
                "UID:a\nSUMMARY:Opening\nDTSTART;TZID=Europe/Berlin:20260330T100000\n"
                "DTEND;TZID=Europe/Berlin:20260330T113000"
            ),
            "Europe/Moscow",
        )
    )
    assert session.starts_at == utc(2026, 3, 30, 8, 0)  # CEST, +02:00
    assert session.ends_at == utc(2026, 3, 30, 9, 30)
    assert session.starts_at.tzinfo is UTC


def test_tzid_from_the_files_vtimezone():
    session = only(
        parse_programme(
            ics(
                "UID:a\nDTSTART;TZID=Custom Berlin:20260328T100000\n"
                "DTEND;TZID=Custom Berlin:20260328T110000",
                extra=BERLIN_VTIMEZONE,
            ),
            "Europe/Moscow",
        )
    )
    assert session.starts_at == utc(2026, 3, 28, 9, 0)  # CET, +01:00


def test_unknown_tzid_rejected():
    result = parse_programme(
        ics(
            "UID:a\nDTSTART;TZID=Nowhere/Atlantis:20260328T100000\n"
            "DTEND;TZID=Nowhere/Atlantis:20260328T110000"
        ),
        "Europe/Moscow",
    )
    assert result.sessions == ()
    assert result.rejected == (
        Rejected("a", "unknown time zone 'Nowhere/Atlantis' in DTSTART (no VTIMEZONE for it)"),
    )


def test_floating_time_read_in_default_tz():
    session = only(
        parse_programme(
            ics("UID:a\nDTSTART:20210628T100000\nDTEND:20210628T113000"), "Europe/Moscow"
        )
    )
    assert session.starts_at == utc(2021, 6, 28, 7, 0)
    assert session.ends_at == utc(2021, 6, 28, 8, 30)


def test_utc_time():
    session = only(
        parse_programme(
            ics("UID:a\nDTSTART:20210628T100000Z\nDTEND:20210628T113000Z"), "Europe/Moscow"
        )
    )
    assert session.starts_at == utc(2021, 6, 28, 10, 0)


def test_duration_instead_of_dtend():
    session = only(
        parse_programme(
            ics("UID:a\nDTSTART;TZID=Europe/Moscow:20210628T100000\nDURATION:PT1H30M"),
            "Europe/Moscow",
        )
    )
    assert session.ends_at - session.starts_at == timedelta(minutes=90)


def test_duration_days_are_nominal_across_dst():
    # RFC 5545 §3.3.6: P1D from 10:00 on the Saturday is 10:00 on the Sunday (23 hours later).
    session = only(
        parse_programme(
            ics("UID:a\nDTSTART;TZID=Europe/Berlin:20260328T100000\nDURATION:P1DT1H"),
            "Europe/Moscow",
        )
    )
    assert session.starts_at == utc(2026, 3, 28, 9)
    assert session.ends_at == utc(2026, 3, 29, 9)  # 11:00 CEST


def test_fields_are_read():
    session = only(
        parse_programme(
            ics(
                "UID:session-7@example.org\nSUMMARY:Städte\\, Partner\\; Zukunft\n"
                "DESCRIPTION:Line one\\nLine two\nLOCATION:Зал 2\n"
                "CATEGORIES:Economy,Culture\nCATEGORIES:Other\nSTATUS:CONFIRMED\nSEQUENCE:3\n"
                "URL:https://example.org/s/7\n"
                "DTSTART:20210628T100000Z\nDTEND:20210628T110000Z"
            ),
            "Europe/Moscow",
        )
    )
    assert session == ImportedSession(
        uid="session-7@example.org",
        title="Städte, Partner; Zukunft",
        description="Line one\nLine two",
        starts_at=utc(2021, 6, 28, 10),
        ends_at=utc(2021, 6, 28, 11),
        location="Зал 2",
        track="Economy",
        status="scheduled",
        sequence=3,
        url="https://example.org/s/7",
        index=1,
    )


def test_cancelled_status():
    session = only(
        parse_programme(
            ics("UID:a\nSTATUS:CANCELLED\nDTSTART:20210628T100000Z\nDTEND:20210628T110000Z"), "UTC"
        )
    )
    assert session.status == "cancelled"


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            "UID:a\nSUMMARY:Day\nDTSTART;VALUE=DATE:20210628\nDTEND;VALUE=DATE:20210629",
            "all-day event (DTSTART is a DATE): a session needs a start time",
        ),
        ("UID:a\nDTSTART:20210628T110000Z\nDTEND:20210628T100000Z", "ends before it starts"),
        (
            "UID:a\nDTSTART:20210628T110000Z\nDTEND:20210628T110000Z",
            "ends when it starts (no duration)",
        ),
        ("UID:a\nSUMMARY:No start\nDTEND:20210628T100000Z", "no DTSTART"),
        ("UID:a\nDTSTART:20210628T100000Z", "no DTEND or DURATION"),
        (
            "UID:a\nDTSTART:20210628T100000Z\nDTEND:20210628T110000Z\nDURATION:PT1H",
            "both DTEND and DURATION (RFC 5545 §3.6.1 allows one)",
        ),
        (
            "UID:a\nDTSTART:20210628T100000Z\nDTEND;VALUE=DATE:20210629",
            "DTEND is a DATE while DTSTART has a time",
        ),
        ("UID:a\nDTSTART:20210628T100000Z\nDURATION:-PT1H", "ends before it starts"),
        (
            "UID:a\nDTSTART:20210628T100000Z\nRRULE:FREQ=DAILY;COUNT=3\nDTEND:20210628T110000Z",
            "recurring event (RRULE/RDATE) is not supported: import single sessions",
        ),
        (
            "UID:a\nDTSTART:20210628T100000Z\nRECURRENCE-ID:20210628T100000Z\n"
            "DTEND:20210628T110000Z",
            "RECURRENCE-ID override of a recurring event is not supported",
        ),
    ],
)
def test_rejected_events(event, reason):
    result = parse_programme(ics(event), "Europe/Moscow")
    assert result.sessions == ()
    assert result.rejected == (Rejected("a", reason),)


def test_unreadable_dtstart_rejected_not_fatal():
    result = parse_programme(
        ics(
            "UID:bad\nDTSTART:yesterday\nDTEND:20210628T110000Z",
            "UID:good\nDTSTART:20210628T100000Z\nDTEND:20210628T110000Z",
        ),
        "UTC",
    )
    assert [s.uid for s in result.sessions] == ["good"]
    assert [r.uid_or_index for r in result.rejected] == ["bad"]
    assert result.rejected[0].reason.startswith("unreadable DTSTART")


def test_missing_uid_rejected_by_position():
    result = parse_programme(
        ics(
            "UID:a\nDTSTART:20210628T100000Z\nDTEND:20210628T110000Z",
            "DTSTART:20210628T100000Z\nDTEND:20210628T110000Z",
        ),
        "UTC",
    )
    assert result.rejected == (Rejected(2, "no UID"),)


def test_duplicate_uid_rejected():
    event = "UID:a\nDTSTART:20210628T100000Z\nDTEND:20210628T110000Z"
    result = parse_programme(ics(event, event), "UTC")
    assert len(result.sessions) == 1
    assert result.rejected == (Rejected("a", "duplicate UID in this file"),)


def test_rrule_calendar_keeps_single_events():
    # A small calendar with a weekly series, its moved instance and one single session.
    data = ics(
        "UID:series\nSUMMARY:Weekly sync\nDTSTART;TZID=Europe/Berlin:20260302T090000\n"
        "DTEND;TZID=Europe/Berlin:20260302T100000\nRRULE:FREQ=WEEKLY;COUNT=4",
        "UID:series\nRECURRENCE-ID;TZID=Europe/Berlin:20260309T090000\n"
        "DTSTART;TZID=Europe/Berlin:20260309T110000\nDTEND;TZID=Europe/Berlin:20260309T120000",
        "UID:rdates\nDTSTART:20260302T090000Z\nDTEND:20260302T100000Z\nRDATE:20260303T090000Z",
        "UID:single\nSUMMARY:Keynote\nDTSTART;TZID=Europe/Berlin:20260310T090000\n"
        "DTEND;TZID=Europe/Berlin:20260310T100000",
    )
    result = parse_programme(data, "Europe/Berlin")
    assert [s.uid for s in result.sessions] == ["single"]
    assert [r.uid_or_index for r in result.rejected] == ["series", "series", "rdates"]
    assert "recurring" in result.rejected[0].reason
    assert "RECURRENCE-ID" in result.rejected[1].reason


def test_other_components_ignored():
    data = ics(
        "UID:a\nDTSTART:20210628T100000Z\nDTEND:20210628T110000Z",
        extra="BEGIN:VTODO\nUID:todo\nSUMMARY:Not a session\nEND:VTODO\n",
    )
    assert [s.uid for s in parse_programme(data, "UTC").sessions] == ["a"]


def test_empty_calendar_is_empty_result():
    assert parse_programme(ics(), "UTC") == ImportResult()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \r\n",
        b"garbage",
        b"\xff\xfe\x00\x01",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\n",  # unterminated
        b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n",  # not a calendar
        b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        b"<html><body>404</body></html>",
        b'{"sessions": []}',
    ],
)
def test_garbage_raises_calendar_parse_error(data):
    with pytest.raises(CalendarParseError) as excinfo:
        parse_programme(data, "UTC")
    assert str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


def test_str_input_rejected():
    with pytest.raises(CalendarParseError, match="bytes"):
        parse_programme("BEGIN:VCALENDAR", "UTC")  # type: ignore[arg-type]


def test_unknown_default_tz():
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_programme(ics(), "Mars/Olympus_Mons")


def test_reimport_of_built_feed_gives_same_uids_and_instants(make_session, make_calendar):
    sessions = [
        make_session(1, title="Открытие, приветствия; \\ итоги"),
        make_session(2, starts_at=utc(2026, 3, 28, 9), ends_at=utc(2026, 3, 30, 9)),
        make_session(3, status="cancelled", track=""),
    ]
    feed = build_calendar(make_calendar(*sessions, timezone="Europe/Berlin"))
    first = parse_programme(feed, "Europe/Moscow")
    second = parse_programme(feed, "Europe/Moscow")
    assert first == second
    assert first.rejected == ()
    imported_by_uid = {s.uid: s for s in first.sessions}
    assert sorted(imported_by_uid) == sorted(s.uid for s in sessions)
    for session in sessions:
        imported = imported_by_uid[session.uid]
        assert (imported.starts_at, imported.ends_at) == (session.starts_at, session.ends_at)
        assert imported.title == session.title
        assert imported.location == session.location
        assert imported.track == session.track
        assert imported.sequence == session.sequence
        assert imported.status == ("cancelled" if session.id == 3 else "scheduled")


def test_repeated_dtstart_rejected():
    result = parse_programme(
        ics("UID:a\nDTSTART:20210628T100000Z\nDTSTART:20210628T110000Z\nDURATION:PT1H"), "UTC"
    )
    assert result.rejected == (Rejected("a", "DTSTART appears more than once"),)


def test_lf_only_and_folded_input_is_read():
    data = (
        b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\nSUMMARY:Long title that is \n"
        b" folded\nDTSTART:20210628T100000Z\nDTEND:20210628T110000Z\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    assert only(parse_programme(data, "UTC")).title == "Long title that is folded"
