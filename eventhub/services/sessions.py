"""The programme: create, change, delete sessions, and drive their status."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import Event, Participant, Room, Session, User, VideoRoom, utcnow
from . import access, provisioning
from .access import Actor
from .common import apply_changes, get_or_404
from .providers import check_provider

# DESIGN.md's status machine. `delayed -> delayed` changes the announced delay.
TRANSITIONS: dict[str, frozenset[str]] = {
    "scheduled": frozenset({"live", "delayed", "cancelled"}),
    "delayed": frozenset({"live", "delayed", "cancelled"}),
    "live": frozenset({"paused", "ended", "cancelled"}),
    "paused": frozenset({"live", "ended", "cancelled"}),
    "ended": frozenset(),
    "cancelled": frozenset(),
}

# Changes a calendar shows (times, texts, place, mode, cancellation) bump `sequence`.
CALENDAR_FIELDS = frozenset(
    {"title", "description", "starts_at", "ends_at", "room_id", "track", "mode"}
)
SESSION_FIELDS = ("title", "description", "starts_at", "ends_at", "room_id", "track")


def get_session(actor: Actor, session_id: int) -> Session:
    """The session, if the actor may see its event (404 otherwise)."""
    event_session = get_or_404(Session, session_id, "session")
    access.require_view_event(actor, event_session.event)
    return event_session


def list_sessions(
    actor: Actor, event: Event, *, room_id: int | None = None, track: str | None = None
) -> Any:
    """A query of the event's sessions in time order, for the caller to paginate."""
    access.require_view_event(actor, event)
    query = select(Session).where(Session.event_id == event.id)
    if room_id is not None:
        query = query.where(Session.room_id == room_id)
    if track:
        query = query.where(Session.track == track)
    return query.order_by(Session.starts_at, Session.id)


def event_bounds(timezone: str, start_date: date, end_date: date) -> tuple[datetime, datetime]:
    """The first and last instants of an event's days in its own time zone."""
    tz = ZoneInfo(timezone)
    first = datetime.combine(start_date, time.min, tz)
    after = datetime.combine(end_date + timedelta(days=1), time.min, tz)
    return first, after


def outside_event(event: Event, starts_at: datetime, ends_at: datetime, **override: Any) -> bool:
    """True if the slot is not within the event's dates (``override`` tries other dates)."""
    first, after = event_bounds(
        override.get("timezone", event.timezone),
        override.get("start_date", event.start_date),
        override.get("end_date", event.end_date),
    )
    return starts_at < first or ends_at > after


def _validate(event: Event, values: dict[str, Any], event_session: Session | None) -> None:
    """Field checks (422) first, then the double-booking check (409)."""
    fields: dict[str, str] = {}
    starts_at, ends_at = values["starts_at"], values["ends_at"]
    if "title" in values and not any((values["title"] or {}).values()):
        fields["title"] = "give at least one language"
    if ends_at <= starts_at:
        fields["ends_at"] = "must be after starts_at"
    elif outside_event(event, starts_at, ends_at):
        fields["starts_at"] = (
            f"must be within the event's dates {event.start_date}..{event.end_date} "
            f"({event.timezone})"
        )
    room_id = values.get("room_id")
    if room_id is not None:
        room = db.session.get(Room, room_id)
        if room is None or room.event_id != event.id:
            fields["room_id"] = "no such room in this event"
    for field, ids, model in (
        ("moderator_ids", values.get("moderator_ids"), User),
        ("speaker_ids", values.get("speaker_ids"), Participant),
    ):
        if ids:
            found = db.session.scalars(select(model).where(model.id.in_(ids))).all()
            if len(found) != len(set(ids)) or (
                model is Participant and any(p.event_id != event.id for p in found)
            ):
                fields[field] = "unknown ids"
    if fields:
        raise Invalid("invalid session", fields=fields)
    if room_id is not None:
        _lock_hall(room_id)
        clash = db.session.scalar(
            select(Session).where(
                Session.room_id == room_id,
                Session.status != "cancelled",
                Session.starts_at < ends_at,
                Session.ends_at > starts_at,
                Session.id != (event_session.id if event_session else -1),
            )
        )
        if clash is not None:
            raise Conflict(
                f"the room is booked by session {clash.id} at that time",
                fields={"room_id": f"overlaps session {clash.id}"},
                code="room_double_booked",
            )


def _lock_hall(room_id: int) -> None:
    """Hold the hall until this transaction ends, so that of two requests booking it at once
    the second checks for a clash only after the first has committed (DESIGN.md: of twenty,
    exactly one wins). PostgreSQL locks the hall's row (SELECT ... FOR UPDATE); SQLite has no
    row locks, so a write to the row takes the database's write lock now, as BEGIN IMMEDIATE
    would (reads before it hold no snapshot: pysqlite opens the transaction at this write)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Room.id).where(Room.id == room_id).with_for_update())
    else:
        db.session.execute(update(Room).where(Room.id == room_id).values(id=Room.id))


def _people(values: dict[str, Any]) -> dict[str, Any]:
    people = {}
    if values.get("moderator_ids") is not None:
        ids = values["moderator_ids"]
        people["moderators"] = list(db.session.scalars(select(User).where(User.id.in_(ids))))
    if values.get("speaker_ids") is not None:
        ids = values["speaker_ids"]
        people["speakers"] = list(
            db.session.scalars(select(Participant).where(Participant.id.in_(ids)))
        )
    return people


def create_session(actor: Actor, event: Event, data: dict[str, Any]) -> Session:
    """A new session of the programme (organizers only)."""
    access.require_organizer(actor)
    values = {"title": {}, "description": {}, "track": "", "room_id": None, **data}
    mode = event.mode if event.mode != "hybrid" else "in_person"
    if mode == "online":  # 422 now (before any 409) rather than a room that can only fail
        check_provider(event.default_provider, "default_provider")
    _validate(event, values, None)
    event_session = Session(
        event=event, mode=mode, **{k: values[k] for k in SESSION_FIELDS}, **_people(values)
    )
    # An online event's new session needs its room like the ones switch_event moved.
    room = VideoRoom(session=event_session, provider=event.default_provider, data={},
                     host_data={}) if mode == "online" else None
    db.session.add(event_session)
    db.session.commit()
    if room is not None:
        provisioning.enqueue_provision(room.id)
    return event_session


def update_session(actor: Actor, event_session: Session, data: dict[str, Any]) -> Session:
    """Change a session's texts, times, hall, track or people (organizers only).

    A change of time updates the provider room; calendar-visible changes bump ``sequence``.
    """
    access.require_organizer(actor)
    current = {k: getattr(event_session, k) for k in SESSION_FIELDS}
    values = {**current, **data}
    _validate(event_session.event, values, event_session)
    changed = apply_changes(event_session, {k: v for k, v in data.items() if k in SESSION_FIELDS})
    for name, people in _people(data).items():
        if {p.id for p in getattr(event_session, name)} != {p.id for p in people}:
            setattr(event_session, name, people)
            changed.add(name)
    if not changed:
        return event_session
    if changed & CALENDAR_FIELDS:
        event_session.sequence = Session.sequence + 1  # in SQL: a concurrent bump counts too
    event_session.updated_at = utcnow()
    rescheduled = bool(changed & {"starts_at", "ends_at", "title"})
    db.session.commit()
    if rescheduled:
        from .switching import reschedule_room

        reschedule_room(event_session)
    return event_session


def delete_session(actor: Actor, event_session: Session) -> None:
    """Remove a session (organizers only) and its provider room in the background."""
    access.require_organizer(actor)
    from .switching import release_room_later

    release = release_room_later(event_session)
    db.session.delete(event_session)
    db.session.commit()
    release()


def set_session_status(
    actor: Actor, event_session: Session, status: str, delay_minutes: int | None = None
) -> Session:
    """Move a session along the status machine (its moderators and organizers).

    An illegal transition is a 409; the same status again (but a new delay) changes nothing.
    """
    access.require_moderator(actor, event_session)
    if status == "delayed" and delay_minutes is None and event_session.status != "delayed":
        raise Invalid("say how long the delay is", fields={"delay_minutes": "required"})
    if status != "delayed" and delay_minutes is not None:
        raise Invalid("only a delay has minutes", fields={"delay_minutes": "only with delayed"})
    if status == event_session.status and (
        status != "delayed" or delay_minutes in (None, event_session.delay_minutes)
    ):
        return event_session
    if status not in TRANSITIONS[event_session.status]:
        raise Conflict(
            f"a session cannot go from {event_session.status} to {status}",
            fields={"status": f"not allowed from {event_session.status}"},
            code="illegal_transition",
        )
    event_session.status = status
    event_session.delay_minutes = delay_minutes if status == "delayed" else 0
    if status == "cancelled":
        event_session.sequence = Session.sequence + 1  # in SQL: a concurrent bump counts too
    event_session.updated_at = utcnow()
    db.session.commit()
    return event_session
