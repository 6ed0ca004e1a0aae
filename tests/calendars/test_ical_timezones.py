"""VTIMEZONE: one per TZID used, only the observances the feed's dates need, one onset per RDATE."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from ical_support import content_lines, utc, vtimezone_offset
from icalendar import Calendar, Timezone

from calendars.build import build_calendar, timezone_component, timezone_components


def _timezones(data: bytes) -> dict[str, object]:
    """Return the VTIMEZONEs of a calendar keyed by TZID."""
    return {tz.tz_name: tz for tz in Calendar.from_ical(data).timezones}


def _ical(prop) -> str:
    """Return a property value as written (icalendar's vUTCOffset.to_ical returns str)."""
    value = prop.to_ical()
    return value.decode() if isinstance(value, bytes) else value


def _observances(tz) -> list[tuple[str, str, str, str, str]]:
    """(kind, DTSTART, TZOFFSETFROM, TZOFFSETTO, TZNAME) of each observance, as written."""
    return [
        (
            sub.name,
            _ical(sub["DTSTART"]),
            _ical(sub["TZOFFSETFROM"]),
            _ical(sub["TZOFFSETTO"]),
            str(sub["TZNAME"]),
        )
        for sub in tz.subcomponents
    ]


def test_every_tzid_used_has_a_vtimezone(make_session, make_calendar):
    for zone in ("Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Kolkata"):
        calendar = Calendar.from_ical(build_calendar(make_calendar(make_session(), timezone=zone)))
        assert calendar.get_used_tzids() == {zone}
        assert calendar.get_missing_tzids() == set()
        assert [tz.tz_name for tz in calendar.timezones] == [zone]


def test_utc_feed_needs_no_vtimezone(make_session, make_calendar):
    # RFC 5545 §3.3.5: UTC times carry "Z" and no TZID, so no VTIMEZONE is needed.
    data = build_calendar(make_calendar(make_session(), timezone="UTC"))
    calendar = Calendar.from_ical(data)
    assert calendar.get_used_tzids() == set()
    assert calendar.timezones == []
    assert "DTSTART:20210628T070000Z" in content_lines(data)


def test_moscow_has_a_single_standard_observance(make_session, make_calendar):
    # Europe/Moscow has been UTC+3 without DST since 26 October 2014.
    tz = _timezones(build_calendar(make_calendar(make_session())))["Europe/Moscow"]
    assert _observances(tz) == [("STANDARD", "20141026T020000", "+0400", "+0300", "MSK")]


BERLIN = [
    ("STANDARD", "20191027T030000", "+0200", "+0100", "CET"),
    ("DAYLIGHT", "20190331T020000", "+0100", "+0200", "CEST"),
]


def test_berlin_across_spring_change(make_session, make_calendar):
    before = make_session(1, starts_at=utc(2026, 3, 28, 9), ends_at=utc(2026, 3, 28, 10))
    after = make_session(2, starts_at=utc(2026, 3, 30, 9), ends_at=utc(2026, 3, 30, 10))
    data = build_calendar(make_calendar(before, after, timezone="Europe/Berlin"))
    # RFC 5545 §3.6.5: the onset is local time in the offset before the change: 02:00 CET.
    assert _observances(_timezones(data)["Europe/Berlin"]) == BERLIN
    lines = content_lines(data)
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in lines
    assert "DTSTART;TZID=Europe/Berlin:20260328T100000" in lines  # CET, +01:00
    assert "DTSTART;TZID=Europe/Berlin:20260330T110000" in lines  # CEST, +02:00


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Europe/Moscow",
                                  "Australia/Sydney", "Africa/Casablanca"])
def test_every_feed_gives_a_tzid_the_same_definition(make_session, make_calendar, zone):
    # vobject keeps the first VTIMEZONE of a TZID for its whole process and reads every later
    # feed with it: a summer-only definition would shift a winter feed's times.
    spans = [(utc(2026, 7, 1, 9), utc(2026, 7, 3, 9)),  # summer
             (utc(2026, 1, 10, 9), utc(2026, 1, 10, 10)),  # winter
             (utc(2026, 3, 1, 9), utc(2026, 11, 30, 10)),  # across both changes
             (utc(2031, 5, 1, 9), utc(2031, 5, 1, 10))]  # years on
    definitions = set()
    for first, last in spans:
        cal = make_calendar(make_session(1, starts_at=first, ends_at=first + timedelta(hours=1)),
                            make_session(2, starts_at=last - timedelta(hours=1), ends_at=last),
                            timezone=zone)
        definitions.add(_timezones(build_calendar(cal))[zone].to_ical())
    assert len(definitions) == 1


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York", "Australia/Sydney",
                                  "Africa/Casablanca", "Europe/Moscow", "Asia/Kolkata"])
def test_every_observance_starts_before_the_feeds_first_time(make_session, make_calendar,
                                                             zone):
    # Ruby's icalendar looks up, for each time, the latest onset of every observance before
    # it, and fails when one has none.
    session = make_session(1, starts_at=utc(2026, 6, 28, 7), ends_at=utc(2026, 6, 28, 9))
    data = build_calendar(make_calendar(session, timezone=zone))
    first_local = Calendar.from_ical(data).walk("VEVENT")[0]["DTSTART"].dt.replace(tzinfo=None)
    for observance in _timezones(data)[zone].subcomponents:
        assert observance["DTSTART"].dt < first_local, (zone, observance.name)


def test_rdates_repeat_dtstart_first(make_session, make_calendar):
    # ical.js skips an observance's DTSTART once RDATEs follow, as libical's zone files expect.
    data = build_calendar(make_calendar(make_session(), timezone="Africa/Casablanca"))
    for observance in _timezones(data)["Africa/Casablanca"].subcomponents:
        rdates = observance["RDATE"]
        assert rdates[0].dts[0].dt == observance["DTSTART"].dt
        assert all(len(rdate.dts) == 1 for rdate in rdates)


def test_long_feed_uses_yearly_rrules(make_session, make_calendar):
    sessions = [
        make_session(i, starts_at=start, ends_at=start + timedelta(hours=1))
        for i, start in enumerate([utc(2025, 1, 10, 9), utc(2027, 12, 10, 9)], start=1)
    ]
    data = build_calendar(make_calendar(*sessions, timezone="Europe/Berlin"))
    assert _observances(_timezones(data)["Europe/Berlin"]) == BERLIN
    lines = content_lines(data)
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in lines
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in lines
    assert not [line for line in lines if line.startswith("RDATE")]


def test_a_feed_before_the_span_widens_it(make_session, make_calendar):
    # The US moved DST from the first Sunday in April to the second Sunday in March in 2007:
    # no single yearly rule fits 2005 on, so each onset is its own RDATE, from the onset of
    # 2004 that each observance had before the feed's first time.
    sessions = [
        make_session(i, starts_at=start, ends_at=start + timedelta(hours=1))
        for i, start in enumerate([utc(2005, 1, 10, 15), utc(2008, 12, 10, 15)], start=1)
    ]
    data = build_calendar(make_calendar(*sessions, timezone="America/New_York"))
    tz = _timezones(data)["America/New_York"]
    assert [(kind, start) for kind, start, *_ in _observances(tz)] == [
        ("STANDARD", "20041031T020000"), ("DAYLIGHT", "20040404T020000")]
    rdates = [line for line in content_lines(data) if line.startswith("RDATE")]
    for onset in ["RDATE:20041031T020000", "RDATE:20051030T020000", "RDATE:20061029T020000",
                  "RDATE:20071104T020000", "RDATE:20081102T020000", "RDATE:20040404T020000",
                  "RDATE:20060402T020000", "RDATE:20070311T020000", "RDATE:20370308T020000"]:
        assert onset in rdates
    assert not [line for line in content_lines(data) if line.startswith("RRULE")]


@pytest.mark.parametrize(
    ("zone", "year", "years"),
    [
        ("Europe/Berlin", 2025, 3),
        ("Europe/Moscow", 2025, 1),
        ("Europe/Moscow", 2009, 4),  # DST until March 2011, then +04 all year
        ("Europe/Moscow", 2009, 7),  # ... and +03 from October 2014
        ("America/New_York", 2025, 3),
        ("America/New_York", 2005, 4),  # the 2007 rule change
        ("Australia/Sydney", 2025, 2),
        ("America/Sao_Paulo", 2016, 5),  # DST abolished in 2019
        ("Pacific/Chatham", 2025, 2),
        ("Africa/Casablanca", 2025, 3),  # DST suspended every Ramadan
        ("Europe/Istanbul", 2013, 5),  # an election-delayed change in 2015, +03 from 2016
        ("Asia/Kolkata", 2025, 1),
    ],
)
def test_no_multi_valued_rdate_and_offsets_match_zoneinfo(
    make_session, make_calendar, zone, year, years
):
    # monthly sessions over the years: many onsets for zones with DST
    sessions = []
    for month in range(12 * years):
        start = utc(year + month // 12, month % 12 + 1, 15, 10)
        sessions.append(
            make_session(month + 1, starts_at=start, ends_at=start + timedelta(hours=2))
        )
    data = build_calendar(make_calendar(*sessions, timezone=zone))
    for line in content_lines(data):
        if line.startswith("RDATE"):
            assert "," not in line, line
    vtimezone = _timezones(data)[zone]
    # icalendar's tz built from the VTIMEZONE alone (not from its TZID) ...
    from_vtimezone = vtimezone.to_tz(lookup_tzid=False)
    for session, event in zip(sessions, Calendar.from_ical(data).walk("VEVENT"), strict=True):
        for name, instant in (("DTSTART", session.starts_at), ("DTEND", session.ends_at)):
            local = event[name].dt.replace(tzinfo=None)
            assert local.replace(tzinfo=from_vtimezone).astimezone(UTC) == instant
            # ... and an independent reading of RFC 5545 §3.6.5 (first RDATE value only)
            assert local - vtimezone_offset(vtimezone, local) == instant.replace(tzinfo=None)


def test_zone_unchanged_since_1970_starts_1970(make_session, make_calendar):
    data = build_calendar(make_calendar(make_session(), timezone="Asia/Kolkata"))
    tz = _timezones(data)["Asia/Kolkata"]
    assert _observances(tz) == [("STANDARD", "19700101T000000", "+0530", "+0530", "IST")]


def test_timezone_components_sorted_and_deduplicated():
    first, last = utc(2026, 3, 1), utc(2026, 4, 1)
    names = [
        tz.tz_name
        for tz in timezone_components(
            ["Europe/Moscow", "Europe/Berlin", "Europe/Moscow"], first, last
        )
    ]
    assert names == ["Europe/Berlin", "Europe/Moscow"]


def test_timezone_component_matches_zoneinfo_at_every_hour():
    zone = ZoneInfo("Europe/Berlin")
    first, last = utc(2026, 3, 27), utc(2026, 11, 2)
    from_vtimezone = timezone_component("Europe/Berlin", first, last).to_tz(lookup_tzid=False)
    instant = first
    while instant < last:
        local = instant.astimezone(zone).replace(tzinfo=None, fold=0)
        if (
            instant.astimezone(zone).fold == 0
            and local.replace(tzinfo=zone).astimezone(UTC) == instant
        ):
            assert (
                local.replace(tzinfo=from_vtimezone).utcoffset()
                == instant.astimezone(zone).utcoffset()
            )
        instant += timedelta(hours=1)


def test_timezone_component_rejects_unknown_zone():
    with pytest.raises(ValueError, match="unknown time zone"):
        timezone_component("Nowhere/Atlantis", utc(2026, 1, 1), utc(2026, 1, 2))


def test_timezone_component_rejects_naive_bounds():
    with pytest.raises(ValueError, match="timezone-aware"):
        timezone_component("Europe/Berlin", datetime(2026, 1, 1), utc(2026, 1, 2))  # noqa: DTZ001


def test_nth_weekday_rules():
    # US since 2007: second Sunday in March, first Sunday in November.
    tz = timezone_component("America/New_York", utc(2025, 1, 10), utc(2027, 12, 10))
    rules = sorted(sub["RRULE"].to_ical().decode() for sub in tz.subcomponents)
    assert rules == ["FREQ=YEARLY;BYDAY=1SU;BYMONTH=11", "FREQ=YEARLY;BYDAY=2SU;BYMONTH=3"]


def test_library_from_tzid_is_not_enough():
    # Why the transitions are our own: if icalendar ever fixes these, reconsider.
    vtimezone = Timezone.from_tzid(
        "Africa/Casablanca", first_date=date(2024, 3, 1), last_date=date(2029, 4, 30)
    )
    rdates = [line for line in content_lines(vtimezone.to_ical()) if line.startswith("RDATE")]
    assert any("," in line for line in rdates)  # one multi-valued RDATE
    onsets = {rdate.dts[0].dt.date() for sub in vtimezone.subcomponents
              for rdate in ([sub["RDATE"]] if "RDATE" in sub else [])
              for rdate in rdate.dts}
    onsets |= {sub["DTSTART"].dt.date() for sub in vtimezone.subcomponents}
    # Ramadan 2027 (Feb 7 - Mar 14): +00 for 35 days, which its 64-day stride jumps over.
    assert date(2027, 2, 7) not in onsets and date(2027, 3, 14) not in onsets
    assert ZoneInfo("Africa/Casablanca").utcoffset(datetime(2027, 3, 1)) == timedelta(0)


def test_rule_the_zone_stopped_following_gets_until():
    # Moscow kept summer time all year from March 2011: the yearly rule must end there.
    tz = timezone_component("Europe/Moscow", utc(2009, 1, 15), utc(2012, 12, 15))
    rules = [sub["RRULE"].to_ical().decode() for sub in tz.subcomponents if "RRULE" in sub]
    assert rules == ["FREQ=YEARLY;UNTIL=20100328T230000Z;BYDAY=-1SU;BYMONTH=3"]
    assert vtimezone_offset(tz, datetime(2010, 12, 1, 12)) == timedelta(hours=3)
    assert vtimezone_offset(tz, datetime(2011, 12, 1, 12)) == timedelta(hours=4)
    assert vtimezone_offset(tz, datetime(2015, 12, 1, 12)) == timedelta(hours=3)
