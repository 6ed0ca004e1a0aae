"""The feed builders: calendar properties, one VEVENT per session, links only where allowed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from ical_support import BASE, DOMAIN, STAMP, TOKEN, content_lines, events_by_uid, utc
from icalendar import Calendar

from calendars.build import (
    PRODID,
    build_calendar,
    feed_stamp,
    location_text,
    session_component,
    session_uid,
)
from calendars.model import FeedLink


def test_session_uid_is_stable_and_domain_scoped():
    assert session_uid(42, DOMAIN) == "session-42@eventhub.example"
    assert session_uid(42, DOMAIN) == session_uid(42, DOMAIN)


@pytest.mark.parametrize("domain", ["", "a b", "x@y"])
def test_session_uid_rejects_bad_domain(domain):
    with pytest.raises(ValueError):
        session_uid(1, domain)


def test_calendar_properties_present(make_session, make_calendar):
    cal = make_calendar(make_session(), description="Kaluga, 28-30 June", refresh_minutes=30)
    lines = content_lines(build_calendar(cal))
    head = lines[: lines.index("BEGIN:VTIMEZONE")]
    assert head[0] == "BEGIN:VCALENDAR"
    for expected in [
        f"PRODID:{PRODID}",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{cal.name}",
        f"X-WR-CALNAME:{cal.name}",
        "DESCRIPTION:Kaluga\\, 28-30 June",
        "X-WR-CALDESC:Kaluga\\, 28-30 June",
        "X-WR-TIMEZONE:Europe/Moscow",
        "REFRESH-INTERVAL;VALUE=DURATION:PT30M",
        "X-PUBLISHED-TTL:PT30M",
        f"URL:{BASE}/events/partner-cities-2021",
    ]:
        assert expected in head
    # no random calendar UID: the bytes (and the ETag) must not change between requests
    assert not any(line.startswith("UID:") for line in head)


def test_optional_calendar_properties_omitted(make_session, make_calendar):
    lines = content_lines(build_calendar(make_calendar(make_session(), url="")))
    head = lines[: lines.index("BEGIN:VTIMEZONE")]
    assert not [line for line in head if line.split(":")[0] in ("URL", "DESCRIPTION")]
    assert not [line for line in head if line.startswith("X-WR-CALDESC")]


def test_build_is_deterministic(make_session, make_calendar):
    cal = make_calendar(
        make_session(1), make_session(2, starts_at=utc(2021, 6, 29, 7), ends_at=utc(2021, 6, 29, 8))
    )
    assert build_calendar(cal) == build_calendar(cal)


def test_vevent_properties(make_session, make_calendar):
    session = make_session(7, sequence=3, created=utc(2021, 5, 1, 8, 0))
    event = events_by_uid(build_calendar(make_calendar(session)))[session.uid]
    assert event["DTSTAMP"].dt == STAMP
    assert event["DTSTART"].params["TZID"] == "Europe/Moscow"
    assert event["DTEND"].params["TZID"] == "Europe/Moscow"
    assert event["DTSTART"].dt.astimezone(UTC) == session.starts_at
    assert event["DTEND"].dt.astimezone(UTC) == session.ends_at
    assert event["SEQUENCE"] == 3
    assert event["LAST-MODIFIED"].dt == session.last_modified
    assert event["CREATED"].dt == utc(2021, 5, 1, 8, 0)
    assert str(event["SUMMARY"]) == "Session 7"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["CLASS"]) == "PUBLIC"
    assert str(event["TRANSP"]) == "OPAQUE"
    assert str(event["LOCATION"]) == "Hall A"
    assert event["CATEGORIES"].cats == ["Economy"]
    assert str(event["URL"]) == f"{BASE}/sessions/7"
    assert str(event["DESCRIPTION"]) == (f"Plenary discussion.\n\nSession page: {BASE}/sessions/7")


def test_utc_properties_end_in_z(make_session, make_calendar):
    lines = content_lines(build_calendar(make_calendar(make_session())))
    for name in ("DTSTAMP", "LAST-MODIFIED"):
        values = [line for line in lines if line.startswith(f"{name}:")]
        assert values and all(v.endswith("Z") for v in values)


def test_cancelled_session_kept_as_cancelled(make_session, make_calendar):
    live = make_session(1)
    cancelled = make_session(2, status="cancelled", sequence=5)
    events = events_by_uid(build_calendar(make_calendar(live, cancelled)))
    assert str(events[cancelled.uid]["STATUS"]) == "CANCELLED"
    assert events[cancelled.uid]["SEQUENCE"] == 5
    assert str(events[live.uid]["STATUS"]) == "CONFIRMED"


@pytest.mark.parametrize("status", ["scheduled", "live", "paused", "delayed", "ended"])
def test_other_statuses_are_confirmed(make_session, make_calendar, status):
    session = make_session(status=status)
    events = events_by_uid(build_calendar(make_calendar(session)))
    assert str(events[session.uid]["STATUS"]) == "CONFIRMED"


def test_sequence_and_uid_follow_an_edit(make_session, make_calendar):
    before = make_session(3, sequence=1)
    after = replace(
        before,
        title="Moved",
        starts_at=utc(2021, 6, 29, 7),
        ends_at=utc(2021, 6, 29, 8),
        sequence=2,
    )
    old = events_by_uid(build_calendar(make_calendar(before)))
    new = events_by_uid(build_calendar(make_calendar(after)))
    assert list(old) == list(new) == ["session-3@eventhub.example"]
    assert new[after.uid]["SEQUENCE"] == 2
    assert new[after.uid]["DTSTART"].dt.astimezone(UTC) == utc(2021, 6, 29, 7)


@pytest.mark.parametrize(
    ("mode", "location", "expected"),
    [
        ("in_person", "Hall A", "Hall A"),
        ("hybrid", "Hall A", "Hall A / Online"),
        ("online", "Hall A", "Online"),
        ("hybrid", "", "Online"),
        ("in_person", "", ""),
    ],
)
def test_location_text(make_session, mode, location, expected):
    assert location_text(make_session(mode=mode, location=location)) == expected


def test_location_uses_translated_online_label(make_session, make_calendar):
    session = make_session(mode="hybrid", location="Зал Б")
    cal = make_calendar(session, online_label="Онлайн")
    event = events_by_uid(build_calendar(cal))[session.uid]
    assert str(event["LOCATION"]) == "Зал Б / Онлайн"


def test_no_location_property_without_hall(make_session, make_calendar):
    session = make_session(location="")
    assert "LOCATION" not in events_by_uid(build_calendar(make_calendar(session)))[session.uid]


@pytest.mark.parametrize("mode", ["online", "hybrid"])
def test_personal_feed_has_conference_url_and_description(personal, make_calendar, mode):
    session = personal(5, mode=mode)
    data = build_calendar(make_calendar(session))
    event = events_by_uid(data)[session.uid]
    join = f"{BASE}/join/5?t={TOKEN}"
    conference = event["CONFERENCE"]
    assert str(conference) == join
    assert conference.params["VALUE"] == "URI"
    assert conference.params["FEATURE"] == "VIDEO"
    assert conference.params["LABEL"] == "Join online"
    assert str(event["URL"]) == join
    assert f"Join online: {join}" in str(event["DESCRIPTION"])
    assert event.conferences[0].uri == join


def test_personal_feed_in_person_session_has_no_conference(personal, make_calendar):
    session = personal(5, mode="in_person")
    event = events_by_uid(build_calendar(make_calendar(session)))[session.uid]
    assert "CONFERENCE" not in event


def test_public_feed_has_no_conference_and_no_personal_link(make_session, make_calendar):
    sessions = [
        make_session(i, mode=mode)
        for i, mode in enumerate(["in_person", "hybrid", "online"], start=1)
    ]
    data = build_calendar(make_calendar(*sessions))
    assert b"CONFERENCE" not in data
    assert b"/join/" not in data
    assert b"t=" not in data
    assert TOKEN.encode() not in data
    for session in sessions:
        assert str(events_by_uid(data)[session.uid]["URL"]) == f"{BASE}/sessions/{session.id}"


def test_conference_without_label(personal, make_calendar):
    session = personal(5, mode="online", join=FeedLink(f"{BASE}/join/5?t={TOKEN}"))
    event = events_by_uid(build_calendar(make_calendar(session)))[session.uid]
    assert "LABEL" not in event["CONFERENCE"].params
    assert f"{BASE}/join/5?t={TOKEN}" in str(event["DESCRIPTION"])


def test_session_without_links_or_text(make_session, make_calendar):
    session = make_session(page=None, description="", track="")
    event = events_by_uid(build_calendar(make_calendar(session)))[session.uid]
    for name in ("URL", "DESCRIPTION", "CATEGORIES", "CONFERENCE"):
        assert name not in event


def test_events_sorted_by_start(make_session, make_calendar):
    late = make_session(1, starts_at=utc(2021, 6, 30, 7), ends_at=utc(2021, 6, 30, 8))
    early = make_session(2)
    assert list(events_by_uid(build_calendar(make_calendar(late, early)))) == [
        early.uid,
        late.uid,
    ]


def test_stamp_defaults_to_newest_last_modified(make_session, make_calendar):
    cal = make_calendar(
        make_session(1, last_modified=utc(2021, 6, 2)),
        make_session(2, last_modified=utc(2021, 6, 5)),
        make_session(3, last_modified=None),
        generated_at=None,
    )
    assert feed_stamp(cal) == utc(2021, 6, 5)
    for event in Calendar.from_ical(build_calendar(cal)).walk("VEVENT"):
        assert event["DTSTAMP"].dt == utc(2021, 6, 5)
    assert "LAST-MODIFIED" not in events_by_uid(build_calendar(cal))["session-3@eventhub.example"]


def test_stamp_falls_back_to_now(make_session, make_calendar):
    cal = make_calendar(make_session(last_modified=None), generated_at=None)
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert before <= feed_stamp(cal) <= datetime.now(UTC)


def test_empty_feed_is_valid(make_calendar):
    data = build_calendar(make_calendar())
    calendar = Calendar.from_ical(data)
    assert calendar.walk("VEVENT") == []
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Moscow"]
    calendar.validate()  # RFC 5545 §3.4: at least one component


def test_naive_datetime_rejected(make_session, make_calendar):
    session = make_session(starts_at=datetime(2021, 6, 28, 10, 0))  # noqa: DTZ001
    with pytest.raises(ValueError, match="timezone-aware"):
        build_calendar(make_calendar(session))


@pytest.mark.parametrize("ends", [utc(2021, 6, 28, 8), utc(2021, 6, 28, 9)])
def test_end_not_after_start_rejected(make_session, ends):
    # RFC 5545 §3.8.2.2: DTEND must be later than DTSTART.
    session = make_session(starts_at=utc(2021, 6, 28, 9), ends_at=ends)
    with pytest.raises(ValueError, match="not after"):
        session_component(session, "Europe/Moscow", stamp=STAMP)


def test_every_vevent_has_the_organizer_that_method_publish_requires(make_session,
                                                                     make_calendar):
    # RFC 5546 §3.2.1: a PUBLISH VEVENT carries ORGANIZER.
    cal = make_calendar(make_session(1), make_session(2))
    data = build_calendar(cal)
    assert "METHOD:PUBLISH" in content_lines(data)
    for event in events_by_uid(data).values():
        assert str(event["ORGANIZER"]) == "mailto:eventhub@eventhub.example"
        assert event["ORGANIZER"].params["CN"] == "EventHub"


def test_without_an_organizer_the_feed_has_no_method(make_session, make_calendar):
    data = build_calendar(make_calendar(make_session(), organizer_email=""))
    lines = content_lines(data)
    assert not [line for line in lines if line.startswith(("METHOD", "ORGANIZER"))]


@pytest.mark.parametrize("mode", ["hybrid", "online"])
def test_cancelled_video_session_claims_no_online_place_and_frees_the_time(
        make_session, make_calendar, mode):
    session = make_session(mode=mode, status="cancelled", location="Hall A")
    event = events_by_uid(build_calendar(make_calendar(session)))[session.uid]
    assert str(event["LOCATION"]) == "Hall A"
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert str(event["STATUS"]) == "CANCELLED"


def test_unknown_time_zone_rejected(make_session, make_calendar):
    with pytest.raises(ValueError, match="unknown time zone"):
        build_calendar(make_calendar(make_session(), timezone="Mars/Olympus_Mons"))


def test_refresh_minutes_must_be_positive(make_session, make_calendar):
    with pytest.raises(ValueError, match="refresh_minutes"):
        build_calendar(make_calendar(make_session(), refresh_minutes=0))


def test_output_is_crlf_utf8(make_session, make_calendar):
    data = build_calendar(make_calendar(make_session(title="Встреча мэров")))
    data.decode("utf-8")
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
