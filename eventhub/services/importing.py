"""Programme import: an ``.ics`` file creates or updates an event's sessions, matched by UID.

Each session goes through the programme services (``create_session``, ``update_session``,
``set_session_status``), so every rule of the programme applies (dates inside the event, no
double booking) and each session is its own transaction: one bad session is reported as
rejected and the others go on. Re-importing a file finds the sessions it created by their
``external_uid`` (or by EventHub's own UID, for a file exported from EventHub's feeds), so it
updates rather than duplicates.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from calendars.importer import CalendarParseError, ImportedSession, parse_programme

from ..errors import BadRequest, DomainError, NotFound
from ..extensions import db
from ..models import Event, Room, Session, User
from . import access
from . import events as event_service
from . import sessions as session_service
from .access import Actor
from .common import LANGUAGES
from .feeds import base_url, labels, uid_domain

log = logging.getLogger(__name__)

ROOM_NAME_MAX = 200  # Room.name's column width


@dataclass
class ImportReport:
    """What an import did: session ids created, updated and unchanged, and (uid, why) refused."""

    created: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    rooms_created: list[str] = field(default_factory=list)  # halls made for unknown LOCATIONs
    notes: list[tuple[str, str]] = field(default_factory=list)  # imported, but not all of it

    def to_dict(self) -> dict[str, Any]:
        """The report as the API and CLI show it."""
        return {
            "created": list(self.created),
            "updated": list(self.updated),
            "unchanged": list(self.unchanged),
            "rejected": [{"uid": uid, "reason": reason} for uid, reason in self.rejected],
            "rooms_created": list(self.rooms_created),
            "notes": [{"uid": uid, "reason": reason} for uid, reason in self.notes],
        }


class _Skip(Exception):
    """Internal: this session is rejected for the reason given."""


def default_importer(email: str | None = None) -> User:
    """The organizer an import runs as: ``email``'s account, else the first organizer."""
    query = select(User).where(User.role == "organizer")
    if email:
        query = query.where(User.email == email.strip().lower())
    user = db.session.scalar(query.order_by(User.id).limit(1))
    if user is None:
        raise NotFound(f"no organizer account {email}" if email else "no organizer account")
    return user


def import_programme(actor: Actor, event: Event, data: bytes, language: str = "en") -> ImportReport:
    """Create or update ``event``'s sessions from ``data`` (organizers only).

    Texts from the file are stored as ``language`` (other languages of an existing session are
    kept). A file that is not iCalendar at all is a BadRequest; a bad session in a good file
    is reported as rejected with the reason.
    """
    access.require_organizer(actor)
    if language not in LANGUAGES:
        raise BadRequest(f"unknown language {language!r}", fields={"lang": "one of ru, de, en"})
    try:
        parsed = parse_programme(data, event.timezone)
    except CalendarParseError as exc:
        raise BadRequest(str(exc)) from exc

    report = ImportReport()
    report.rejected.extend((str(r.uid_or_index), r.reason) for r in parsed.rejected)
    event_id = event.id
    matched = {item.uid: _match(event, item.uid) for item in parsed.sessions}
    # Cancellations of existing sessions first: they free their halls for the sessions that
    # replace them later in the file.
    order = sorted(parsed.sessions, key=lambda item: (
        not (matched[item.uid] is not None and item.status == "cancelled"), item.index))
    for item in order:
        try:
            existing = matched[item.uid]
            if existing is None:
                _create(actor, event, item, language, report)
            else:
                _update(actor, existing, item, language, report)
        except _Skip as reason:
            report.rejected.append((item.uid, str(reason)))
        except DomainError as error:
            db.session.rollback()  # the failed service call may have left pending changes
            report.rejected.append((item.uid, _reason(error)))
        event = db.session.get(Event, event_id)  # reloaded after a rollback expired it
    log.info("import into event %s: %d created, %d updated, %d unchanged, %d rejected",
             event_id, len(report.created), len(report.updated), len(report.unchanged),
             len(report.rejected))
    return report


def _reason(error: DomainError) -> str:
    """A DomainError as one readable line: message and fields."""
    fields = "; ".join(f"{name}: {problem}" for name, problem in error.fields.items())
    return f"{error.message} ({fields})" if fields else error.message


def _match(event: Event, uid: str) -> Session | None:
    """The session of ``event`` this UID names: by external_uid, else EventHub's own UID."""
    found = db.session.scalar(
        select(Session).where(Session.event_id == event.id, Session.external_uid == uid)
        .order_by(Session.id).limit(1)
    )
    if found is not None:
        return found
    own = re.fullmatch(r"session-(\d{1,18})@(.+)", uid)
    if own is not None and own.group(2) == uid_domain():
        event_session = db.session.get(Session, int(own.group(1)))
        if event_session is not None and event_session.event_id == event.id:
            return event_session
    return None


def _location(item: ImportedSession) -> str | None:
    """The hall named by LOCATION, or None when it names none (empty, or just "Online").

    EventHub's own feeds write ``Hall / Online`` for hybrid sessions and ``Online`` for online
    ones (in any of its languages); the hall is the part before the online word.
    """
    text = item.location.strip()
    hall, sep, last = text.rpartition(" / ")
    online = {labels(language)["online"].casefold() for language in LANGUAGES}
    if sep and last.strip().casefold() in online:
        text = hall.strip()
    if not text or text.casefold() in online:
        return None
    return text


def _clean_description(text: str) -> str:
    """The description without the link paragraphs EventHub's own feeds append to it."""
    base = re.escape(base_url())
    link = re.compile(rf"(?:.*: )?{base}/(?:sessions|join)/\S+")
    paragraphs = [p for p in text.split("\n\n") if not link.fullmatch(p.strip())]
    return "\n\n".join(paragraphs).strip()


def _room_id(actor: Actor, event: Event, item: ImportedSession, report: ImportReport,
             current: int | None) -> int | None:
    """The hall for LOCATION: an existing one by name, else a new one (reported)."""
    name = _location(item)
    if name is None:
        # "Online" says where the session happens now, not which hall it has: keep the hall.
        return current if item.location.strip() else None
    rooms = list(event.rooms)
    for wanted in (lambda r: r.name == name, lambda r: r.name.casefold() == name.casefold()):
        for room in rooms:
            if wanted(room):
                return room.id
    if len(name) > ROOM_NAME_MAX:
        raise _Skip(f"hall name longer than {ROOM_NAME_MAX} characters")
    room: Room = event_service.create_room(actor, event, {"name": name})
    report.rooms_created.append(name)
    return room.id


def _check_dates(event: Event, item: ImportedSession) -> None:
    """Refuse a session outside the event before any hall is created for it."""
    if session_service.outside_event(event, item.starts_at, item.ends_at):
        raise _Skip(
            f"outside the event's dates {event.start_date}..{event.end_date} ({event.timezone})"
        )


def _create(actor: Actor, event: Event, item: ImportedSession, language: str,
            report: ImportReport) -> None:
    """A new session for ``item``, cancelled afterwards when the file says so."""
    if item.status == "cancelled":
        # A new session that is cancelled already would only block its hall for nothing.
        raise _Skip("cancelled in the file and not in the programme: nothing to create")
    _check_dates(event, item)
    description = _clean_description(item.description)
    data = {
        "title": {language: item.title} if item.title else {},
        "description": {language: description} if description else {},
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "track": item.track[:100],
        "room_id": _room_id(actor, event, item, report, None),
    }
    event_session = session_service.create_session(actor, event, data)
    # Kept after the create (the programme service does not take it): a crash in between
    # would duplicate this one session on the next import, never lose it.
    event_session.external_uid = item.uid
    db.session.commit()
    report.created.append(event_session.id)


def _update(actor: Actor, event_session: Session, item: ImportedSession, language: str,
            report: ImportReport) -> None:
    """Bring an existing session in line with ``item``; unchanged when nothing differs."""
    if item.status != "cancelled":
        _check_dates(event_session.event, item)
    description = _clean_description(item.description)
    wanted: dict[str, Any] = {
        "title": _merge(event_session.title, language, item.title),
        "description": _merge(event_session.description, language, description),
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "track": item.track[:100],
    }
    if item.status != "cancelled":
        wanted["room_id"] = _room_id(actor, event_session.event, item, report,
                                     event_session.room_id)
    changes = {k: v for k, v in wanted.items() if getattr(event_session, k) != v}
    cancel = item.status == "cancelled" and event_session.status != "cancelled"
    if item.status != "cancelled" and event_session.status == "cancelled":
        report.notes.append((item.uid, "cancelled in EventHub: a cancellation is final"))
    if cancel:
        if event_session.status == "ended":
            report.notes.append((item.uid, "ended already: cannot be cancelled"))
            cancel = False
        else:
            # Only the cancellation: a cancelled session's other fields no longer matter.
            session_service.set_session_status(actor, event_session, "cancelled")
            changes = {}
    if changes:
        session_service.update_session(actor, event_session, changes)
    if changes or cancel:
        report.updated.append(event_session.id)
    else:
        report.unchanged.append(event_session.id)


def _merge(texts: dict[str, str] | None, language: str, value: str) -> dict[str, str]:
    """``texts`` with ``language`` set to ``value`` (removed when empty), others kept."""
    merged = dict(texts or {})
    if value:
        merged[language] = value
    else:
        merged.pop(language, None)
    return merged
