"""iTIP messages (RFC 5546) for mail: one session's calendar entry, as a REQUEST or a CANCEL.

Pure: a :class:`~calendars.model.FeedSession` in, ``text/calendar`` bytes out. The VEVENT is
the feeds' own (:func:`calendars.build.session_component`: the same UID and SEQUENCE as the
participant's feed), with what a scheduling message needs on top: ``METHOD``, an ``ORGANIZER``
and the participant as ``ATTENDEE``. A calendar client (Outlook, Apple Mail, Thunderbird)
matches it by UID to the entry it already has and applies it, since its SEQUENCE is newer.

One session per message: RFC 5546 §3.2 wants every component of a REQUEST or CANCEL to share
one UID, so a mail about several sessions carries several attachments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, vCalAddress, vText

from calendars.build import PRODID, session_component, timezone_components
from calendars.model import FeedSession

__all__ = ["METHODS", "build_itip"]

METHODS = ("REQUEST", "CANCEL")


@lru_cache(maxsize=256)
def _timezones(tzid: str, first: date, last: date) -> tuple[Timezone, ...]:
    """The VTIMEZONE for whole days around a session (RFC 5545 §3.6.5): the same few for every
    mail of a burst, so they are built once (the components are only read, never changed)."""
    start = datetime.combine(first, time.min, UTC) - timedelta(days=1)
    end = datetime.combine(last, time.min, UTC) + timedelta(days=2)
    return tuple(timezone_components([tzid], start, end))


def _address(name: str, email: str, **params: str) -> vCalAddress:
    """A CAL-ADDRESS (RFC 5545 §3.3.3) with its common name (§3.2.2)."""
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key] = vText(value)
    return address


def build_itip(
    method: str,
    session: FeedSession,
    tz: ZoneInfo | str,
    *,
    organizer: tuple[str, str],
    attendee: tuple[str, str],
    stamp: datetime,
    online_label: str = "Online",
) -> bytes:
    """Return an iTIP object for one session: ``method`` REQUEST (a new or changed entry) or
    CANCEL (RFC 5546 §3.2.2 and §3.2.5).

    :param organizer: (name, e-mail) of the ORGANIZER (RFC 5545 §3.8.4.3): the sender.
    :param attendee: (name, e-mail) of the ATTENDEE (§3.8.4.1): the participant.
    """
    if method not in METHODS:
        raise ValueError(f"unsupported iTIP method {method!r}")
    if method == "CANCEL" and session.status != "cancelled":
        raise ValueError("a CANCEL is for a cancelled session")
    cal = Calendar()
    cal.add("prodid", PRODID)  # RFC 5545 §3.7.3
    cal.add("version", "2.0")  # §3.7.4
    cal.add("calscale", "GREGORIAN")  # §3.7.1
    cal.add("method", method)  # §3.7.2 and RFC 5546 §1.4
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    for component in _timezones(zone.key, session.starts_at.astimezone(UTC).date(),
                                session.ends_at.astimezone(UTC).date()):
        cal.add_component(component)
    event = session_component(session, zone, stamp=stamp, online_label=online_label)
    event.add("organizer", _address(*organizer))
    # RSVP=FALSE: EventHub takes answers on the participant's page, not by iTIP REPLY.
    event.add("attendee", _address(*attendee, ROLE="REQ-PARTICIPANT", PARTSTAT="ACCEPTED",
                                   RSVP="FALSE", CUTYPE="INDIVIDUAL"))
    cal.add_component(event)
    return cal.to_ical()
