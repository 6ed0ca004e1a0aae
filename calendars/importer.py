"""Pure iCalendar import: ``.ics`` bytes in, sessions to create or update (and rejections) out.

The service layer matches ``ImportedSession.uid`` against the database (create, update or
reject); this module only reads and checks the file. Recurring events (RRULE/RDATE, and their
RECURRENCE-ID overrides) are rejected with a reason rather than expanded: a conference
programme is a list of single sessions, an expanded series would need
``recurring-ical-events`` at run time (it is a test-only dependency), and each expanded
instance would need an invented UID that a later edit of the series could silently reassign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Component

__all__ = [
    "CalendarParseError",
    "ImportResult",
    "ImportedSession",
    "Rejected",
    "parse_programme",
]


class CalendarParseError(ValueError):
    """The data is not an iCalendar object at all (as opposed to one bad event in it)."""


@dataclass(frozen=True)
class ImportedSession:
    """One importable VEVENT; times are timezone-aware UTC."""

    uid: str
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str = ""  # LOCATION as written (the service maps it to a hall)
    track: str = ""  # the first CATEGORIES value
    status: str = "scheduled"  # "cancelled" for STATUS:CANCELLED, else "scheduled"
    sequence: int = 0
    url: str = ""
    index: int = 0  # position of the VEVENT in the file, counting from 1


@dataclass(frozen=True)
class Rejected:
    """A VEVENT that cannot be imported: its UID (or its 1-based position) and why."""

    uid_or_index: str | int
    reason: str


@dataclass(frozen=True)
class ImportResult:
    """What ``parse_programme`` found: importable sessions and rejected events, in file order."""

    sessions: tuple[ImportedSession, ...] = field(default_factory=tuple)
    rejected: tuple[Rejected, ...] = field(default_factory=tuple)


class _Reject(Exception):
    """Internal: this VEVENT is rejected for the reason given."""


def parse_programme(data: bytes, default_tz: str) -> ImportResult:
    """Read the VEVENTs of an ``.ics`` file; floating times are read in ``default_tz``.

    :raises CalendarParseError: when ``data`` is not a single readable VCALENDAR.
    :raises ValueError: when ``default_tz`` is not an IANA time zone name.
    """
    try:
        zone = ZoneInfo(default_tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {default_tz!r}") from exc
    calendar = _read_calendar(data)

    sessions: list[ImportedSession] = []
    rejected: list[Rejected] = []
    seen: set[str] = set()
    for index, event in enumerate(calendar.walk("VEVENT"), start=1):
        uid = _text(event, "UID")
        try:
            if not uid:
                # RFC 5545 §3.8.4.7 makes UID required; without it a re-import cannot find
                # the session it created before.
                raise _Reject("no UID")
            session = _session(event, uid, index, zone)
            # Checked last, so that a recurring series and its overrides (which share the UID)
            # are reported as recurring rather than as duplicates.
            if uid in seen:
                raise _Reject("duplicate UID in this file")
            seen.add(uid)
            sessions.append(session)
        except _Reject as reason:
            rejected.append(Rejected(uid or index, str(reason)))
        except (ValueError, TypeError, AttributeError, KeyError, OverflowError) as exc:
            # One odd event (icalendar is lenient and leaves oddities to the reader) must not
            # fail the whole import; the organizer sees which one and why.
            rejected.append(Rejected(uid or index, f"unreadable event: {exc}"))
    return ImportResult(tuple(sessions), tuple(rejected))


def _read_calendar(data: bytes) -> Calendar:
    """Parse ``data`` into one VCALENDAR or raise CalendarParseError with a readable message."""
    if not isinstance(data, bytes | bytearray):
        raise CalendarParseError("iCalendar data must be bytes")
    if not data.strip():
        raise CalendarParseError("the file is empty")
    try:
        component = Calendar.from_ical(bytes(data))
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        # icalendar raises ValueError for unreadable content lines and unbalanced
        # BEGIN/END; the others guard against its less tidy failure modes.
        raise CalendarParseError(f"not a valid iCalendar file: {exc}") from exc
    if not isinstance(component, Calendar) or component.name != "VCALENDAR":
        name = getattr(component, "name", type(component).__name__)
        raise CalendarParseError(f"expected a VCALENDAR, found {name}")
    return component


def _session(event: Component, uid: str, index: int, zone: ZoneInfo) -> ImportedSession:
    """Turn one VEVENT into an ImportedSession or raise _Reject."""
    # RFC 5545 §3.8.5: a series cannot become one session (see the module docstring).
    if event.get("RRULE") is not None or event.get("RDATE") is not None:
        raise _Reject("recurring event (RRULE/RDATE) is not supported: import single sessions")
    if event.get("RECURRENCE-ID") is not None:
        raise _Reject("RECURRENCE-ID override of a recurring event is not supported")

    start = _when(event, "DTSTART", zone)
    if start is None:
        raise _Reject("no DTSTART")
    if not isinstance(start, datetime):
        raise _Reject("all-day event (DTSTART is a DATE): a session needs a start time")

    has_end = event.get("DTEND") is not None
    has_duration = event.get("DURATION") is not None
    if has_end and has_duration:
        raise _Reject("both DTEND and DURATION (RFC 5545 §3.6.1 allows one)")
    if has_end:
        end = _when(event, "DTEND", zone)
        if not isinstance(end, datetime):
            raise _Reject("DTEND is a DATE while DTSTART has a time")
    elif has_duration:
        end = _plus_duration(start, _value(event, "DURATION"), zone)
    else:
        # §3.6.1: such an event ends when it starts; a session needs a length.
        raise _Reject("no DTEND or DURATION")

    starts_at, ends_at = start.astimezone(UTC), end.astimezone(UTC)
    if ends_at < starts_at:
        raise _Reject("ends before it starts")
    if ends_at == starts_at:
        raise _Reject("ends when it starts (no duration)")

    status = _text(event, "STATUS").upper()
    return ImportedSession(
        uid=uid,
        title=_text(event, "SUMMARY"),
        description=_text(event, "DESCRIPTION"),
        starts_at=starts_at,
        ends_at=ends_at,
        location=_text(event, "LOCATION"),
        track=_first_category(event),
        status="cancelled" if status == "CANCELLED" else "scheduled",  # §3.8.1.11
        sequence=_sequence(event),
        url=_text(event, "URL"),
        index=index,
    )


def _value(event: Component, name: str) -> Any:
    """Return the decoded value of a property, rejecting the event when it is broken."""
    prop = event.get(name)
    if prop is None:
        return None
    if isinstance(prop, list):  # a property that must appear once appears several times
        raise _Reject(f"{name} appears more than once")
    try:
        return prop.dt
    except (ValueError, AttributeError) as exc:  # vBroken raises BrokenCalendarProperty
        raise _Reject(f"unreadable {name}: {exc}") from exc


def _when(event: Component, name: str, zone: ZoneInfo) -> date | datetime | None:
    """Return DTSTART/DTEND as a date or an aware datetime (floating times read in ``zone``)."""
    value = _value(event, name)
    if value is None or not isinstance(value, date):
        if value is not None:
            raise _Reject(f"{name} is not a date or date-time")
        return None
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is not None:
        return value
    tzid = event[name].params.get("TZID")
    if tzid:
        # icalendar resolves an IANA name or the file's VTIMEZONE; neither matched.
        raise _Reject(f"unknown time zone {tzid!r} in {name} (no VTIMEZONE for it)")
    # RFC 5545 §3.3.5 form #1, "floating": the same wall-clock time everywhere; for a
    # programme that means the event's own time zone.
    return value.replace(tzinfo=zone)


def _plus_duration(start: datetime, duration: Any, zone: ZoneInfo) -> datetime:
    """Return ``start + DURATION``: days as nominal (wall-clock) days, the rest exact.

    RFC 5545 §3.3.6: "the number of days MUST be added first" as calendar days, so a
    one-day session across a DST change ends at the same wall-clock time.
    """
    if not isinstance(duration, timedelta):
        raise _Reject("DURATION is not a duration")
    local = start if start.tzinfo is not None else start.replace(tzinfo=zone)
    # Aware + timedelta in Python is wall-clock arithmetic in the same tzinfo.
    after_days = local + timedelta(days=duration.days)
    exact = timedelta(seconds=duration.seconds, microseconds=duration.microseconds)
    return after_days.astimezone(UTC) + exact


def _text(event: Component, name: str) -> str:
    """Return a text property as ``str`` ("" when absent; the first when repeated)."""
    prop = event.get(name)
    if isinstance(prop, list):
        prop = prop[0] if prop else None
    return "" if prop is None else str(prop).strip()


def _first_category(event: Component) -> str:
    """Return the first CATEGORIES value (RFC 5545 §3.8.1.2 allows lists and repeats)."""
    props = event.get("CATEGORIES")
    if props is None:
        return ""
    for prop in props if isinstance(props, list) else [props]:
        for category in getattr(prop, "cats", []):
            if str(category).strip():
                return str(category).strip()
    return ""


def _sequence(event: Component) -> int:
    """Return SEQUENCE (RFC 5545 §3.8.7.4), 0 when absent or unreadable."""
    prop = event.get("SEQUENCE")
    try:
        return max(int(prop), 0) if prop is not None else 0
    except (TypeError, ValueError):
        return 0
