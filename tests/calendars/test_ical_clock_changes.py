"""Times around clock changes: the repeated autumn hour and the spring gap, in two zones.

A wall-clock time in the repeated hour names two instants; every parser tried reads the first.
Such an instant (and one at the very edge of a change) is written in UTC, so that each instant
reads back as itself and DTEND always follows DTSTART.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ical_support import content_lines, events_by_uid, utc, vtimezone_offset
from icalendar import Calendar

from calendars.build import build_calendar, local_or_utc

# The clock changes of 2027 (the instant, UTC) and which way the clocks go.
CHANGES = [
    ("Europe/Berlin", utc(2027, 3, 28, 1), "spring"),  # 02:00 CET -> 03:00 CEST
    ("Europe/Berlin", utc(2027, 10, 31, 1), "autumn"),  # 03:00 CEST -> 02:00 CET
    ("America/New_York", utc(2027, 3, 14, 7), "spring"),  # 02:00 EST -> 03:00 EDT
    ("America/New_York", utc(2027, 11, 7, 6), "autumn"),  # 02:00 EDT -> 01:00 EST
]
# Sessions as (start, end) in minutes from the change: before, across, at, after it.
AROUND = [(-90, -30), (-75, -45), (-60, 0), (-45, 15), (-30, 30), (0, 60), (15, 45), (60, 120),
          (61, 62)]


def read_instant(prop, vtimezone) -> datetime:
    """The instant a DTSTART/DTEND names, read from the feed's own VTIMEZONE (or UTC)."""
    value = prop.dt
    if "TZID" not in prop.params:
        assert value.utcoffset() == timedelta(0)
        return value.astimezone(UTC)
    local = value.replace(tzinfo=None)
    return (local - vtimezone_offset(vtimezone, local)).replace(tzinfo=UTC)


@pytest.mark.parametrize(("zone", "change", "direction"), CHANGES,
                         ids=[f"{z}-{d}" for z, _, d in CHANGES])
def test_every_instant_around_a_change_reads_back_as_itself(make_session, make_calendar, zone,
                                                            change, direction):
    sessions = [make_session(i, starts_at=change + timedelta(minutes=a),
                             ends_at=change + timedelta(minutes=b))
                for i, (a, b) in enumerate(AROUND, start=1)]
    data = build_calendar(make_calendar(*sessions, timezone=zone))
    calendar = Calendar.from_ical(data)
    vtimezone = calendar.timezones[0]
    events = events_by_uid(data)
    for session in sessions:
        event = events[session.uid]
        start = read_instant(event["DTSTART"], vtimezone)
        end = read_instant(event["DTEND"], vtimezone)
        assert (start, end) == (session.starts_at, session.ends_at), session.id
        assert end > start
        # icalendar's own reading (its zone by TZID) agrees too
        assert event["DTSTART"].dt.astimezone(UTC) == session.starts_at
        assert event["DTEND"].dt.astimezone(UTC) == session.ends_at
    starts = [line for line in content_lines(data) if line.startswith("DTSTART")]
    assert len(set(starts)) == len(starts)  # no two sessions share a written start


def test_the_two_quarter_past_two_of_berlin_are_told_apart(make_session, make_calendar):
    first = make_session(1, starts_at=utc(2027, 10, 31, 0, 15), ends_at=utc(2027, 10, 31, 0, 45))
    second = make_session(2, starts_at=utc(2027, 10, 31, 1, 15), ends_at=utc(2027, 10, 31, 1, 45))
    lines = content_lines(build_calendar(make_calendar(first, second, timezone="Europe/Berlin")))
    assert "DTSTART:20271031T001500Z" in lines
    assert "DTSTART:20271031T011500Z" in lines


def test_a_session_inside_the_repeated_hour_has_dtend_after_dtstart(make_session,
                                                                    make_calendar):
    # 00:30Z-01:30Z is 02:30 CEST-02:30 CET: the same wall-clock time at both ends.
    session = make_session(1, starts_at=utc(2027, 10, 31, 0, 30), ends_at=utc(2027, 10, 31, 1, 30))
    lines = content_lines(build_calendar(make_calendar(session, timezone="Europe/Berlin")))
    assert "DTSTART:20271031T003000Z" in lines and "DTEND:20271031T013000Z" in lines


@pytest.mark.parametrize(("zone", "instant"), [
    ("Europe/Berlin", utc(2027, 7, 1, 8)),
    ("Europe/Berlin", utc(2027, 3, 28, 0, 59)),  # 01:59 CET, before the gap
    ("Europe/Berlin", utc(2027, 3, 28, 1, 1)),  # 03:01 CEST, after it
    ("America/New_York", utc(2027, 11, 7, 7, 1)),  # 02:01 EST, after the repeated hour
])
def test_unambiguous_times_stay_in_the_events_zone(zone, instant):
    assert local_or_utc(instant, ZoneInfo(zone)).tzinfo is not UTC


@pytest.mark.parametrize(("zone", "instant"), [
    ("Europe/Berlin", utc(2027, 10, 31, 0)),  # 02:00 CEST, the first of two
    ("Europe/Berlin", utc(2027, 10, 31, 1)),  # 02:00 CET, the second
    ("Europe/Berlin", utc(2027, 10, 31, 2)),  # 03:00 CET: the edge, read either side
    ("Europe/Berlin", utc(2027, 3, 28, 1)),  # 03:00 CEST: the edge of the gap
    ("America/New_York", utc(2027, 11, 7, 5, 30)),  # 01:30 EDT
    ("America/New_York", utc(2027, 11, 7, 6, 30)),  # 01:30 EST
    ("America/New_York", utc(2027, 11, 7, 7)),  # 02:00 EST: the edge
])
def test_ambiguous_and_edge_times_are_written_in_utc(zone, instant):
    assert local_or_utc(instant, ZoneInfo(zone)) is instant

