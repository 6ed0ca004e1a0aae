"""Pure iCalendar builders: feed dataclasses in, ``text/calendar`` bytes out.

Every property choice cites its RFC section: RFC 5545 (iCalendar) and RFC 7986 (new properties:
NAME, REFRESH-INTERVAL, CONFERENCE, ...). All serialisation (escaping, line folding, UTF-8) is
done by the ``icalendar`` library; this module only decides what goes in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Conference, Event, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.enums import CLASS, STATUS, TRANSP
from icalendar.prop import vDuration, vText

from calendars.model import FeedCalendar, FeedSession

__all__ = [
    "PRODID",
    "build_calendar",
    "build_session_calendar",
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

# How far back to look for the onset of the observance already in effect when the feed starts.
_TZ_LOOKBACK_LIMIT = datetime(1970, 1, 1, tzinfo=UTC)
_TZ_BACK_STEP = timedelta(days=7)
_TZ_FORWARD_STEP = timedelta(days=1)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Stand-in onset for a zone that has not changed its offset since 1970 (e.g. UTC, Asia/Kolkata).
_TZ_EPOCH_ONSET = datetime(1970, 1, 1)


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
    rather than sending people to an empty room.
    """
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
) -> Event:
    """Return the VEVENT of one session, its times in ``tz`` (RFC 5545 §3.6.1)."""
    zone = _zone(tz)
    starts = _utc(s.starts_at, "starts_at")
    ends = _utc(s.ends_at, "ends_at")
    if ends < starts:
        raise ValueError(f"session {s.id}: ends_at is before starts_at")
    video = s.join is not None and s.mode in _VIDEO_MODES
    link = s.join or s.page

    event = Event.new(
        uid=s.uid,  # §3.8.4.7, stable across edits (see session_uid)
        stamp=_utc(stamp, "stamp"),  # §3.8.7.2, UTC
        # §3.8.2.4 / §3.8.2.2 with TZID (§3.2.19) of the event's zone, so clients show the
        # conference's wall-clock times and the VTIMEZONE below pins the offsets.
        start=starts.astimezone(zone),
        end=ends.astimezone(zone),
        summary=s.title,  # §3.8.1.12
        description=_description(s),  # §3.8.1.5, carries the links for clients without CONFERENCE
        sequence=s.sequence,  # §3.8.7.4, bumped by the service on every change clients must see
        # §3.8.1.11: a cancelled session stays in the feed as CANCELLED so clients remove it;
        # a delayed one is still happening (its times are moved), so it stays CONFIRMED.
        status=STATUS.CANCELLED if s.status == "cancelled" else STATUS.CONFIRMED,
        classification=CLASS.PUBLIC,  # §3.8.1.3
        transparency=TRANSP.OPAQUE,  # §3.8.2.7: attendees are busy during a session
        # §3.8.4.6: the personal join link when there is one (personal feeds), else the page.
        url=link.url if link is not None else None,
        # RFC 7986 §5.11: the video room, only where a room exists (online or hybrid).
        conferences=(
            [Conference(s.join.url, feature="VIDEO", label=s.join.label or None)]
            if video and s.join is not None
            else None
        ),
    )
    if s.last_modified is not None:
        event.last_modified = _utc(s.last_modified, "last_modified")  # §3.8.7.3, UTC
    if s.created is not None:
        event.created = _utc(s.created, "created")  # §3.8.7.1, UTC
    location = location_text(s, online_label)
    if location:
        event.location = location  # §3.8.1.7
    if s.track:
        event.categories = [s.track]  # §3.8.1.2
    return event


def timezone_component(tzid: str, first: datetime, last: datetime) -> Timezone:
    """Return a VTIMEZONE for ``tzid`` with only the observances needed from ``first`` to ``last``.

    RFC 5545 §3.6.5. An observance's DTSTART is its first onset as a local time in the offset
    in effect before it (TZOFFSETFROM), as the RFC's examples show. When an observance recurs
    in the range (a feed longer than a year), its onsets become a yearly RRULE if they follow
    one (Outlook reads RRULE but mishandles RDATE), else one RDATE property per onset: many
    parsers read only the first value of a comma-separated RDATE and would shift the times.
    ``icalendar``'s ``Timezone.from_tzid`` writes all onsets into one multi-valued RDATE (and
    writes the spring-forward onset as 03:00, a wall time after the change, where RFC 5545
    §3.6.5 wants 02:00 in TZOFFSETFROM), hence this function.
    """
    zone = _zone(tzid)
    first = _utc(first, "first")
    last = max(_utc(last, "last"), first)
    onsets = [_last_transition_before(zone, first), *_transitions_between(zone, first, last)]

    # (from offset, to offset, name, is_dst) -> local onsets, in onset order.
    observances: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = {}
    for onset_utc, from_offset in onsets:
        local = onset_utc.astimezone(zone)
        to_offset = local.utcoffset() or timedelta(0)
        if from_offset is None:  # no change since 1970: a fixed offset from the epoch
            from_offset = to_offset
            onset_local = _TZ_EPOCH_ONSET
        else:
            onset_local = (onset_utc + from_offset).replace(tzinfo=None)
        name = local.tzname() or _offset_name(to_offset)
        key = (from_offset, to_offset, name, bool(local.dst()))
        observances.setdefault(key, []).append(onset_local)

    tz = Timezone()
    tz.add("TZID", tzid)
    for (from_offset, to_offset, name, is_dst), starts in observances.items():
        observance = TimezoneDaylight() if is_dst else TimezoneStandard()
        observance.add("DTSTART", starts[0])
        rule = _yearly_rule(starts, from_offset, last)
        if rule is not None:
            observance.add("RRULE", rule)
        else:
            for start in starts[1:]:
                observance.add("RDATE", start)  # one onset per RDATE line, never a list
        observance.add("TZNAME", name)
        observance.add("TZOFFSETFROM", from_offset)
        observance.add("TZOFFSETTO", to_offset)
        tz.add_component(observance)
    return tz


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

    calendar = Calendar.new(
        prodid=PRODID,  # RFC 5545 §3.7.3
        version="2.0",  # RFC 5545 §3.7.4
        calscale="GREGORIAN",  # RFC 5545 §3.7.1
        method="PUBLISH",  # RFC 5545 §3.7.2, RFC 5546 §3.2.1: a published, read-only feed
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
        session_component(s, zone, stamp=stamp, online_label=cal.online_label)
        for s in sorted(cal.sessions, key=lambda s: (_utc(s.starts_at, "starts_at"), s.id))
    ]
    for event in events:
        calendar.add_component(event)
    # RFC 5545 §3.2.19 / §3.6.5: each TZID used needs its VTIMEZONE, before the events that use
    # it for the sake of one-pass parsers. UTC times are written with "Z" and use none. An empty
    # feed still gets the event's zone (at DTSTAMP), so it has the component RFC 5545 §3.4
    # requires and its X-WR-TIMEZONE is defined.
    if cal.sessions:
        tzids = calendar.get_used_tzids()
        first = min(_utc(s.starts_at, "starts_at") for s in cal.sessions)
        last = max(_utc(s.ends_at, "ends_at") for s in cal.sessions)
    else:
        tzids = {cal.timezone}
        first = last = stamp
    calendar.subcomponents[:0] = timezone_components(tzids, first, last)
    return calendar


def build_calendar(cal: FeedCalendar) -> bytes:
    """Return the feed as ``text/calendar; charset=utf-8`` bytes (CRLF lines, folded)."""
    return calendar_component(cal).to_ical()


def build_session_calendar(cal: FeedCalendar, session: FeedSession) -> bytes:
    """Return a one-session feed (``/calendars/sessions/<id>.ics``) with ``cal``'s settings."""
    return build_calendar(replace(cal, sessions=(session,)))


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


def _state(zone: ZoneInfo, instant: datetime) -> tuple[timedelta | None, timedelta | None, str]:
    """Return what identifies an observance at ``instant``: UTC offset, DST offset, name."""
    local = instant.astimezone(zone)
    return local.utcoffset(), local.dst(), local.tzname() or ""


def _first_change(zone: ZoneInfo, lo: datetime, hi: datetime) -> datetime:
    """Return the first second in ``(lo, hi]`` whose observance differs from ``lo``'s."""
    state = _state(zone, lo)
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            mid = lo + timedelta(seconds=1)
        if _state(zone, mid) == state:
            lo = mid
        else:
            hi = mid
    return hi


def _transitions_between(
    zone: ZoneInfo, first: datetime, last: datetime
) -> list[tuple[datetime, timedelta]]:
    """Return (onset in UTC, offset before it) for each change in ``(first, last]``."""
    result = []
    cursor = first
    while cursor < last:
        step_end = min(cursor + _TZ_FORWARD_STEP, last)
        if _state(zone, step_end) != _state(zone, cursor):
            onset = _first_change(zone, cursor, step_end)
            before = _state(zone, onset - timedelta(seconds=1))[0] or timedelta(0)
            result.append((onset, before))
            cursor = onset
        else:
            cursor = step_end
    return result


def _last_transition_before(zone: ZoneInfo, first: datetime) -> tuple[datetime, timedelta | None]:
    """Return (onset in UTC, offset before it) of the observance in effect at ``first``.

    The offset is None when the zone has not changed since 1970. Searching back in weeks can
    only skip a change that was undone within the same week, which never affects ``first``.
    """
    state = _state(zone, first)
    hi = first
    while hi > _TZ_LOOKBACK_LIMIT:
        lo = max(hi - _TZ_BACK_STEP, _TZ_LOOKBACK_LIMIT)
        if _state(zone, lo) != state:
            onset = _first_change(zone, lo, hi)
            # That is the first change after lo; should the week hold more than one, the
            # observance in effect at `first` began with the last of them.
            later = _transitions_between(zone, onset, hi)
            if later:
                onset = later[-1][0]
            before = _state(zone, onset - timedelta(seconds=1))[0] or timedelta(0)
            return onset, before
        hi = lo
    return _TZ_LOOKBACK_LIMIT, None


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
