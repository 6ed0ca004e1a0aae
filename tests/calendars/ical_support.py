"""Constants and helpers shared by the calendars tests (imported as a plain module)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from dateutil.rrule import rrulestr
from icalendar import Calendar, Timezone

DOMAIN = "eventhub.example"
BASE = "https://eventhub.example"
STAMP = datetime(2021, 6, 20, 9, 30, tzinfo=UTC)
TOKEN = "s3cr3t-participant-token"


def utc(*args: int) -> datetime:
    """Return an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


def raw_lines(data: bytes) -> list[bytes]:
    """Return the physical (folded) lines of an iCalendar object, CRLF removed."""
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


def content_lines(data: bytes) -> list[str]:
    """Return the logical (unfolded) content lines, per RFC 5545 §3.1."""
    return data.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def vtimezone_offset(vtimezone: Timezone, local: datetime) -> timedelta:
    """Return the UTC offset a VTIMEZONE gives a local time, read the way RFC 5545 §3.6.5 says.

    Written independently of icalendar's tz support: each observance onset (DTSTART, each
    RRULE occurrence, every RDATE) is a local time in TZOFFSETFROM; the latest onset at or
    before the instant wins. Only the first value of each RDATE line is read, as many clients
    do.
    """
    best: tuple[datetime, timedelta] | None = None
    for observance in vtimezone.subcomponents:
        offset_from = observance["TZOFFSETFROM"].td
        offset_to = observance["TZOFFSETTO"].td
        onsets = [observance["DTSTART"].dt]
        if "RRULE" in observance:
            # onsets are local times in TZOFFSETFROM; UNTIL is in UTC (RFC 5545 §3.3.10)
            start = onsets[0].replace(tzinfo=timezone(offset_from))
            rule = rrulestr(observance["RRULE"].to_ical().decode(), dtstart=start)
            horizon = start.replace(year=local.year + 1)
            onsets = [o.replace(tzinfo=None) for o in rule.between(start, horizon, inc=True)]
        rdates = observance.get("RDATE", [])
        for rdate in rdates if isinstance(rdates, list) else [rdates]:
            onsets.append(rdate.dts[0].dt)  # first value only
        for onset in onsets:
            onset_utc = onset - offset_from
            # a local time belongs to this observance if it is at or after the onset in UTC
            # terms computed with the observance's own offset
            if local - offset_to >= onset_utc and (best is None or onset_utc > best[0]):
                best = (onset_utc, offset_to)
    assert best is not None, f"no observance covers {local}"
    return best[1]


def events_by_uid(data: bytes) -> dict[str, object]:
    """Return the VEVENTs of a calendar keyed by UID."""
    calendar = Calendar.from_ical(data)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def unescape_text(value: str) -> str:
    """Undo RFC 5545 §3.3.11 TEXT escaping (for properties icalendar parses as vUnknown)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)
