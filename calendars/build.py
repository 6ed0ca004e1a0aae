"""Pure iCalendar builders: feed dataclasses in, ``text/calendar`` bytes out.

Every property choice cites its RFC section: RFC 5545 (iCalendar) and RFC 7986 (new properties:
NAME, REFRESH-INTERVAL, CONFERENCE, ...). All serialisation (escaping, line folding, UTF-8) is
done by the ``icalendar`` library; this module only decides what goes in.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Conference, Event, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.enums import CLASS, STATUS, TRANSP
from icalendar.prop import vCalAddress, vCategory, vDDDTypes, vDuration, vInt, vText, vUri

from calendars.model import FeedCalendar, FeedSession

__all__ = [
    "PRODID",
    "build_calendar",
    "calendar_component",
    "feed_stamp",
    "location_text",
    "session_component",
    "session_uid",
    "timezone_component",
    "timezone_components",
]

# RFC 5545 §3.7.3: "-//owner//product//language" formal public identifier.
PRODID = "-//EventHub//EventHub Calendars//EN"

# Modes in which a session has a video room, so the join link is a conference (RFC 7986 §5.11).
_VIDEO_MODES = frozenset({"online", "hybrid"})

# The span every VTIMEZONE covers (widened to a feed's years where it reaches outside), so
# that all feeds give a TZID the same definition (see timezone_component).
ZONE_SPAN = (datetime(2020, 1, 1, tzinfo=UTC), datetime(2038, 1, 1, tzinfo=UTC))
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Where the zone transitions are read from; a zone unchanged since then (e.g. Asia/Kolkata)
# gets it as the onset of its one observance.
_TZ_EPOCH_ONSET = datetime(1970, 1, 1)
_TZ_STEP = timedelta(days=1)


def session_uid(session_id: int, domain: str) -> str:
    """Return the stable UID of a session: ``session-<id>@<domain>``.

    RFC 5545 §3.8.4.7: the UID must stay the same across edits so that clients update the event
    instead of duplicating it; a database id never changes, a title or time does.
    """
    if not domain or "@" in domain or any(c.isspace() for c in domain):
        raise ValueError(f"invalid UID domain {domain!r}")
    return f"session-{int(session_id)}@{domain}"


def feed_stamp(cal: FeedCalendar) -> datetime:
    """Return the feed's DTSTAMP: ``generated_at``, else the newest ``last_modified``, else now.

    RFC 5545 §3.8.7.2: with METHOD present, DTSTAMP is when the object was created. Deriving it
    from the data keeps the bytes (and so the HTTP ETag) stable while nothing changed; "now" is
    only the last resort when the service passes neither.
    """
    if cal.generated_at is not None:
        return _utc(cal.generated_at, "generated_at")
    stamps = [s.last_modified for s in cal.sessions if s.last_modified is not None]
    if stamps:
        return max(_utc(t, "last_modified") for t in stamps)
    return datetime.now(UTC).replace(microsecond=0)


def location_text(s: FeedSession, online_label: str = "Online") -> str:
    """Return the LOCATION text: the hall, ``hall / Online`` when hybrid, ``Online`` when online.

    RFC 5545 §3.8.1.7. An online session is not in its hall any more, so the hall is dropped
    rather than sending people to an empty room. A cancelled session takes place nowhere: it
    keeps its hall (so people recognise it) and never claims to be online.
    """
    if s.status == "cancelled":
        return s.location
    if s.mode == "online":
        return online_label
    if s.mode == "hybrid":
        return f"{s.location} / {online_label}" if s.location else online_label
    return s.location


def session_component(
    s: FeedSession,
    tz: ZoneInfo | str,
    *,
    stamp: datetime,
    online_label: str = "Online",
    organizer: vCalAddress | None = None,
) -> Event:
    """Return the VEVENT of one session, its times in ``tz`` (RFC 5545 §3.6.1)."""
    zone = _zone(tz)
    starts = _utc(s.starts_at, "starts_at")
    ends = _utc(s.ends_at, "ends_at")
    if ends <= starts:
        raise ValueError(f"session {s.id}: ends_at is not after starts_at")  # RFC 5545 §3.8.2.2
    cancelled = s.status == "cancelled"
    video = s.join is not None and s.mode in _VIDEO_MODES and not cancelled
    link = s.join or s.page

    # Each value is given its icalendar type directly: Event.new() (or add()) would infer the
    # same types at several times the cost, which is most of a 1,000-session feed's build.
    description = _description(s)
    location = location_text(s, online_label)
    event = Event()
    event["UID"] = vText(s.uid)  # §3.8.4.7, stable across edits (see session_uid)
    event["DTSTAMP"] = vDDDTypes(_utc(stamp, "stamp"))  # §3.8.7.2, UTC
    # §3.8.2.4 / §3.8.2.2 with TZID (§3.2.19) of the event's zone, so clients show the
    # conference's wall-clock times and the VTIMEZONE pins the offsets; in UTC where the
    # wall-clock time would not name one instant (see local_or_utc).
    event["DTSTART"] = vDDDTypes(local_or_utc(starts, zone))
    event["DTEND"] = vDDDTypes(local_or_utc(ends, zone))
    event["SUMMARY"] = vText(s.title)  # §3.8.1.12
    if description:
        event["DESCRIPTION"] = vText(description)  # §3.8.1.5, the links for clients without
    event["SEQUENCE"] = vInt(s.sequence)  # §3.8.7.4, bumped on every change clients must see
    # §3.8.1.11: a cancelled session stays in the feed as CANCELLED so clients remove it; a
    # delayed one is still happening (its times are moved), so it stays CONFIRMED.
    event["STATUS"] = vText(STATUS.CANCELLED if cancelled else STATUS.CONFIRMED)
    event["CLASS"] = vText(CLASS.PUBLIC)  # §3.8.1.3
    # §3.8.2.7: attendees are busy during a session, free again when it is cancelled.
    event["TRANSP"] = vText(TRANSP.TRANSPARENT if cancelled else TRANSP.OPAQUE)
    if organizer is not None:
        event["ORGANIZER"] = organizer  # §3.8.4.3; RFC 5546 §3.2.1: PUBLISH requires it
    if link is not None:
        # §3.8.4.6: the personal join link when there is one (personal feeds), else the page.
        event["URL"] = vUri(link.url)
    if video and s.join is not None:
        # RFC 7986 §5.11: the video room, only where a room exists (online or hybrid).
        event.conferences = [Conference(s.join.url, feature="VIDEO", label=s.join.label or None)]
    if s.last_modified is not None:
        event["LAST-MODIFIED"] = vDDDTypes(_utc(s.last_modified, "last_modified"))  # §3.8.7.3
    if s.created is not None:
        event["CREATED"] = vDDDTypes(_utc(s.created, "created"))  # §3.8.7.1, UTC
    if location:
        event["LOCATION"] = vText(location)  # §3.8.1.7
    if s.track:
        event["CATEGORIES"] = vCategory([s.track])  # §3.8.1.2
    return event


def local_or_utc(instant: datetime, zone: ZoneInfo) -> datetime:
    """Return ``instant`` as a wall-clock time in ``zone``, or in UTC where that is unsafe.

    A wall-clock time inside the repeated autumn hour names two instants (RFC 5545 §3.3.5 lets
    the reader pick either, and every parser tried picks the first), and one at the very edge
    of a change (say 03:00 when Berlin's clocks go back) is read on either side by parsers that
    compare onsets strictly, as Ruby's icalendar does. Such an instant is written in UTC; DTEND
    then always follows DTSTART as read. (A time in the spring gap never comes out of a UTC
    instant; the same check would catch it.)
    """
    local = instant.astimezone(zone)
    wall = local.replace(tzinfo=None)
    for candidate in (wall, wall - timedelta(seconds=1)):
        aware = candidate.replace(tzinfo=zone)
        if aware.replace(fold=0).utcoffset() != aware.replace(fold=1).utcoffset():
            return instant
    return local


def organizer_address(email: str, name: str = "") -> vCalAddress:
    """Return an ORGANIZER value ``mailto:email`` with its CN (RFC 5545 §3.8.4.3)."""
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    return address


def timezone_component(tzid: str, first: datetime, last: datetime) -> Timezone:
    """Return the VTIMEZONE of ``tzid`` for a feed whose instants run from ``first`` to ``last``.

    RFC 5545 §3.6.5. Every feed gets the same definition of a TZID: the observances from
    :data:`ZONE_SPAN` (widened to the feed's years when it reaches outside), because vobject
    keeps the first VTIMEZONE it reads for a TZID for its whole process and reads every later
    feed with that zone; a definition trimmed to one feed's dates would shift another's times.
    The definition is built once per process and span (:func:`_zone_definition`).

    The transitions come from zoneinfo (:func:`_onsets`); the emitter writes what widely used
    parsers need:

    - one observance per (offsets, name, kind), its DTSTART the latest onset at or before the
      span's start (Ruby's icalendar fails on an observance that starts after a time it reads);
    - each onset a local time in TZOFFSETFROM, as RFC 5545's examples show;
    - a yearly RRULE when the onsets follow one (Outlook reads RRULE but mishandles RDATE),
      else one RDATE line per onset, the first repeating DTSTART: many parsers read only the
      first value of a multi-valued RDATE, and ical.js skips DTSTART once RDATEs follow.
    """
    _zone(tzid)  # ValueError for an unknown zone
    first = _utc(first, "first")
    last = max(_utc(last, "last"), first)
    span_first = min(ZONE_SPAN[0], datetime(first.year, 1, 1, tzinfo=UTC))
    span_last = max(ZONE_SPAN[1], datetime(last.year + 1, 1, 1, tzinfo=UTC))
    return _zone_definition(tzid, span_first, span_last)


def timezone_components(tzids: Iterable[str], first: datetime, last: datetime) -> list[Timezone]:
    """Return one minimal VTIMEZONE per TZID (sorted) for the instants ``first`` to ``last``."""
    return [timezone_component(tzid, first, last) for tzid in sorted(set(tzids))]


def calendar_component(cal: FeedCalendar) -> Calendar:
    """Return the VCALENDAR of a feed, with its VTIMEZONEs and one VEVENT per session."""
    if cal.refresh_minutes <= 0:
        raise ValueError("refresh_minutes must be positive")
    zone = _zone(cal.timezone)
    stamp = feed_stamp(cal)
    refresh = timedelta(minutes=cal.refresh_minutes)

    organizer = (organizer_address(cal.organizer_email, cal.organizer_name)
                 if cal.organizer_email else None)
    calendar = Calendar.new(
        prodid=PRODID,  # RFC 5545 §3.7.3
        version="2.0",  # RFC 5545 §3.7.4
        calscale="GREGORIAN",  # RFC 5545 §3.7.1
        # RFC 5545 §3.7.2, RFC 5546 §3.2.1: a published, read-only feed; PUBLISH requires an
        # ORGANIZER in every VEVENT, so without one the feed carries no METHOD at all.
        method="PUBLISH" if organizer is not None else None,
        url=cal.url or None,  # RFC 7986 §5.5
        uid="-",  # replaced below: Calendar.new would otherwise invent a random UID
    )
    # RFC 7986 §5.3 UID on the calendar is optional; a random one would change the bytes (and
    # the ETag) on every request, so the feed carries none.
    del calendar["UID"]
    # RFC 7986 §5.1 NAME and §5.2 DESCRIPTION, each with its widely read X-WR-* twin. They are
    # TEXT (RFC 5545 §3.3.11), but icalendar 7.3 types NAME and X-WR-* as vUnknown, which
    # escapes nothing (a comma or ";" goes out raw, a newline fails an assertion); giving vText
    # makes icalendar escape them like SUMMARY.
    calendar.add("NAME", vText(cal.name))
    calendar.add("X-WR-CALNAME", vText(cal.name))
    if cal.description:
        calendar.add("DESCRIPTION", vText(cal.description))
        calendar.add("X-WR-CALDESC", vText(cal.description))
    # RFC 7986 §5.7 requires ";VALUE=DURATION", which icalendar's refresh_interval leaves out.
    calendar.add("REFRESH-INTERVAL", vDuration(refresh, params={"VALUE": "DURATION"}))
    # The pre-RFC 7986 equivalent read by Outlook and others; as an unknown X- property it
    # must be given as vDuration, or icalendar writes str(timedelta) ("1:00:00").
    calendar.add("X-PUBLISHED-TTL", vDuration(refresh))
    # Apple/Google extension naming the calendar's default zone; every time below has a TZID.
    calendar.add("X-WR-TIMEZONE", vText(cal.timezone))

    events = [
        session_component(s, zone, stamp=stamp, online_label=cal.online_label,
                          organizer=organizer)
        for s in sorted(cal.sessions, key=lambda s: (_utc(s.starts_at, "starts_at"), s.id))
    ]
    for event in events:
        calendar.add_component(event)
    # RFC 5545 §3.2.19 / §3.6.5: each TZID used needs its VTIMEZONE, before the events that use
    # it for the sake of one-pass parsers. UTC times are written with "Z" and use none. An empty
    # feed still gets the event's zone (at DTSTAMP), so it has the component RFC 5545 §3.4
    # requires and its X-WR-TIMEZONE is defined.
    if cal.sessions:
        # Every local time is in the event's zone; none when all went out in UTC.
        local = any("TZID" in event[name].params for event in events
                    for name in ("DTSTART", "DTEND"))
        tzids = {cal.timezone} if local else set()
        first = min(_utc(s.starts_at, "starts_at") for s in cal.sessions)
        last = max(_utc(s.ends_at, "ends_at") for s in cal.sessions)
    else:
        tzids = {cal.timezone}
        first = last = stamp
    calendar.subcomponents[:0] = timezone_components(tzids, first, last)
    return calendar


def build_calendar(cal: FeedCalendar) -> bytes:
    """Return the feed as ``text/calendar; charset=utf-8`` bytes (CRLF lines, folded)."""
    with _collector_paused():
        return calendar_component(cal).to_ical()


_pause_lock = threading.Lock()
_pauses = 0
_collector_was_enabled = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a calendar is built.

    A 1,000-session calendar is some 500,000 objects that live until the bytes are out; the
    collector, triggered by that many allocations, scanned the whole heap again and again,
    a fifth of a cold build. The tree has no cycles (reference counting frees it), so nothing
    waits for the collector meanwhile. Nested and concurrent builds share one pause.
    """
    global _pauses, _collector_was_enabled
    with _pause_lock:
        if _pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_enabled:
                gc.enable()


def _description(s: FeedSession) -> str | None:
    """Return the DESCRIPTION text: the session text, then the join link and the page link."""
    parts = [s.description.strip()] if s.description.strip() else []
    for link in (s.join, s.page):
        if link is not None:
            parts.append(f"{link.label}: {link.url}" if link.label else link.url)
    return "\n\n".join(parts) or None


def _zone(tz: ZoneInfo | str) -> ZoneInfo:
    """Return ``tz`` as a ZoneInfo, raising ValueError for an unknown IANA name."""
    if isinstance(tz, ZoneInfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


def _utc(value: datetime, what: str) -> datetime:
    """Return an aware datetime in UTC; a naive one is a bug in the caller, not a local time."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)




@lru_cache(maxsize=256)
def _zone_definition(tzid: str, first: datetime, last: datetime) -> Timezone:
    """The VTIMEZONE of ``tzid`` from ``first`` to ``last`` (cached: never mutate the result)."""
    onsets = _onsets(tzid, last.year + 1)
    before = [o for o in onsets if o.utc <= first] or [onsets[0]]
    used = [before[-1], *(o for o in onsets if first < o.utc <= last)]
    tz = Timezone()
    tz.add("TZID", tzid)
    for key in dict.fromkeys(o.key for o in used):  # in order of first use
        from_offset, to_offset, name, is_dst = key
        mine = [o for o in onsets if o.key == key and o.utc <= last]
        earlier = sum(1 for o in mine if o.utc <= first)
        # From its latest onset at or before the span's start, if it had one.
        starts = [o.local for o in mine[max(earlier - 1, 0):]]
        observance = TimezoneDaylight() if is_dst else TimezoneStandard()
        observance.add("DTSTART", starts[0])
        rule = _yearly_rule(starts, from_offset, last)
        if rule is not None:
            observance.add("RRULE", rule)
        elif len(starts) > 1:
            for start in starts:
                observance.add("RDATE", start)  # one onset per RDATE line, never a list
        observance.add("TZNAME", name)
        observance.add("TZOFFSETFROM", from_offset)
        observance.add("TZOFFSETTO", to_offset)
        tz.add_component(observance)
    return tz


@dataclass(frozen=True)
class _Onset:
    """One change of a zone's observance: when (UTC), and the observance it starts."""

    utc: datetime
    from_offset: timedelta
    to_offset: timedelta
    name: str
    is_dst: bool

    @property
    def key(self) -> tuple[timedelta, timedelta, str, bool]:
        """What makes two onsets the same observance."""
        return self.from_offset, self.to_offset, self.name, self.is_dst

    @property
    def local(self) -> datetime:
        """The onset as RFC 5545 §3.6.5 writes it: local time in TZOFFSETFROM, no zone."""
        return (self.utc + self.from_offset).replace(tzinfo=None)


@lru_cache(maxsize=64)
def _onsets(tzid: str, until_year: int) -> tuple[_Onset, ...]:
    """Every onset of ``tzid`` from 1970 to ``until_year``, in time order (zoneinfo's data).

    The first stands for the zone as it was on 1970-01-01 (written as that local time, with
    TZOFFSETFROM = TZOFFSETTO): the onset of a zone unchanged since then, e.g. Asia/Kolkata.
    Found a day at a time, then to the second by bisection: a change undone within a day is
    missed, which no zone has done since 1970. icalendar's ``Timezone.from_tzid`` is not used:
    its search strides 64 days and so misses Casablanca's Ramadan of 2027, and it writes a
    spring onset as the wall time after the change (see tests/calendars/test_ical_timezones.py).
    """
    zone = _zone(tzid)
    cursor = _TZ_EPOCH_ONSET.replace(tzinfo=zone).astimezone(UTC)
    end = datetime(until_year, 1, 1, tzinfo=UTC)
    offset = cursor.astimezone(zone).utcoffset() or timedelta(0)
    onsets = [_onset(zone, cursor, offset)]
    while cursor < end:
        step = min(cursor + _TZ_STEP, end)
        if _state(zone, step) != _state(zone, cursor):
            cursor = _first_change(zone, cursor, step)
            before = _state(zone, cursor - timedelta(seconds=1))[0] or timedelta(0)
            onsets.append(_onset(zone, cursor, before))
        else:
            cursor = step
    return tuple(onsets)


def _onset(zone: ZoneInfo, instant: datetime, from_offset: timedelta) -> _Onset:
    """The onset at ``instant`` of the observance in effect then."""
    local = instant.astimezone(zone)
    to_offset = local.utcoffset() or timedelta(0)
    name = local.tzname() or _offset_name(to_offset)
    return _Onset(instant, from_offset, to_offset, name, bool(local.dst()))


def _state(zone: ZoneInfo, instant: datetime) -> tuple[timedelta | None, timedelta | None, str]:
    """Return what identifies an observance at ``instant``: UTC offset, DST offset, name."""
    local = instant.astimezone(zone)
    return local.utcoffset(), local.dst(), local.tzname() or ""


def _first_change(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """Return the first second in ``(lo, hi]`` whose observance differs from ``lo``'s."""
    state = _state(zone, lo)
    while hi - lo > timedelta(seconds=1):
        mid = (lo + (hi - lo) / 2).replace(microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(seconds=1)
        if _state(zone, mid) == state:
            lo = mid
        else:
            hi = mid
    return hi


def _yearly_rule(
    starts: list[datetime], from_offset: timedelta, last: datetime
) -> dict[str, object] | None:
    """Return a yearly RRULE (as icalendar's vRecur dict) that yields exactly ``starts``.

    Only for two or more onsets in consecutive years on the same weekday of the same month
    ("last Sunday in March", "second Sunday in March") at the same time; None otherwise. Like
    the VTIMEZONEs Google and tzurl.org publish (the form Outlook reads reliably) the rule has
    no UNTIL, unless its next occurrence would fall inside the feed (the zone stopped following
    the rule, e.g. Moscow in 2011); then UNTIL, in UTC as RFC 5545 §3.3.10 requires for
    observances, ends it after the last onset.
    """
    if len(starts) < 2:
        return None
    head = starts[0]
    for year_offset, start in enumerate(starts):
        same = (start.month, start.weekday(), start.time()) == (
            head.month,
            head.weekday(),
            head.time(),
        )
        if start.year != head.year + year_offset or not same:
            return None
    if all(_is_last_weekday_of_month(start) for start in starts):
        ordinal = -1
    else:
        nths = {(start.day - 1) // 7 + 1 for start in starts}
        if len(nths) != 1:
            return None
        ordinal = nths.pop()
    rule: dict[str, object] = {
        "FREQ": "YEARLY",
        "BYMONTH": head.month,
        "BYDAY": f"{ordinal}{_WEEKDAYS[head.weekday()]}",
    }
    following = _nth_weekday(starts[-1].year + 1, head.month, head.weekday(), ordinal)
    following_local = datetime.combine(following, head.time())
    if (following_local - from_offset).replace(tzinfo=UTC) <= last:
        # Any bound between the last onset and the next occurrence yields the same onsets; a
        # day after the last one survives readers that compare UNTIL with local times (as
        # icalendar 7.3's own VTIMEZONE reader does, which drops an onset at exactly UNTIL).
        until = starts[-1] - from_offset + timedelta(days=1)
        rule["UNTIL"] = until.replace(tzinfo=UTC)
    return rule


def _nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> date:
    """Return the ``ordinal``-th (``-1``: last) ``weekday`` (Monday = 0) of a month."""
    if ordinal > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (ordinal - 1))
    next_month = date(year + month // 12, month % 12 + 1, 1)
    last_day = next_month - timedelta(days=1)
    return last_day - timedelta(days=(last_day.weekday() - weekday) % 7)


def _is_last_weekday_of_month(day: datetime) -> bool:
    """Return True when ``day`` is the last of its weekday in its month."""
    return (day + timedelta(days=7)).month != day.month


def _offset_name(offset: timedelta) -> str:
    """Return a TZNAME like ``+0300`` for an offset that has no abbreviation."""
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
