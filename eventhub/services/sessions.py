"""The programme: create, change, delete sessions, and drive their status."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import (
    MODES,
    VIDEO_MODES,
    Event,
    Participant,
    Room,
    Session,
    User,
    VideoRoom,
    utcnow,
)
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
    "cancelled": frozenset({"scheduled"}),  # reinstate
}

# Changes a calendar shows (times, texts, place, mode, cancellation) bump `sequence`.
CALENDAR_FIELDS = frozenset(
    {"title", "description", "starts_at", "ends_at", "room_id", "track", "track_names", "mode"}
)
SESSION_FIELDS = ("title", "description", "starts_at", "ends_at", "room_id", "track",
                  "track_names", "interpretation")


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
    # Every session shown carries its people and room: load them in three queries per page,
    # not three per session.
    return query.order_by(Session.starts_at, Session.id).options(
        selectinload(Session.moderators), selectinload(Session.speakers),
        selectinload(Session.video_room))


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
    problem = _interpretation_problem(event, values.get("interpretation"))
    if problem:
        fields["interpretation"] = problem
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


def _interpretation_problem(event: Event, plan: dict[str, Any] | None) -> str | None:
    """Why an interpretation plan is refused: repeated languages, or interpreters who are not
    participants of this event with the role ``interpreter``."""
    if not plan:
        return None
    languages = plan.get("languages") or []
    if len(set(languages)) != len(languages):
        return "each language once"
    ids = plan.get("interpreter_ids") or []
    if ids:
        found = db.session.scalars(select(Participant).where(
            Participant.id.in_(ids), Participant.event_id == event.id,
            Participant.role == "interpreter")).all()
        if len(found) != len(set(ids)):
            return "interpreter_ids must be participants of this event with the role interpreter"
    return None


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
    """A new session of the programme (organizers only).

    ``mode`` defaults to the event's (in person for a hybrid event); an online or hybrid
    session gets its pending video room at once, on the event's default provider.
    """
    access.require_organizer(actor)
    values = {"title": {}, "description": {}, "track": "", "track_names": {}, "room_id": None,
              "interpretation": None, **data}
    mode = values.get("mode") or (event.mode if event.mode != "hybrid" else "in_person")
    if mode not in MODES:
        raise Invalid(f"unknown mode {mode!r}", fields={"mode": f"one of {', '.join(MODES)}"})
    if mode in VIDEO_MODES:  # 422 now (before any 409) rather than a room that can only fail
        check_provider(event.default_provider, "default_provider")
    _validate(event, values, None)
    event_session = Session(
        event=event, mode=mode, **{k: values[k] for k in SESSION_FIELDS}, **_people(values)
    )
    # The plan is the mode asked for, not a whole-event switch in force (DESIGN: planned mode).
    event_session.planned_mode = values.get("mode") or "in_person"
    # An online event's new session needs its room like the ones switch_event moved.
    room = VideoRoom(session=event_session, provider=event.default_provider, data={},
                     host_data={}) if mode in VIDEO_MODES else None
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
    room = None
    if data.get("mode") is not None:
        try:
            room = _replan(event_session, data["mode"], changed)
        except Exception:
            db.session.rollback()
            provisioning.discard_releases()
            raise
    if not changed:
        return event_session
    if changed & CALENDAR_FIELDS:
        event_session.sequence = Session.sequence + 1  # in SQL: a concurrent bump counts too
    event_session.updated_at = utcnow()
    rescheduled = bool(changed & {"starts_at", "ends_at", "title", "interpretation",
                                  "moderators"})
    db.session.commit()
    if room is not None:
        provisioning.enqueue_provision(room.id)
    provisioning.flush_releases()
    if rescheduled:
        from .switching import reschedule_room

        reschedule_room(event_session)
    return event_session


def _replan(event_session: Session, mode: str, changed: set[str]) -> VideoRoom | None:
    """An organizer's edit of the mode changes the plan, and the session with it.

    A finished session only keeps the new plan (a reinstated one returns with it). Returns
    a room to provision after the commit.
    """
    from .switching import apply_mode

    if event_session.planned_mode != mode:
        event_session.planned_mode = mode
        changed.add("planned_mode")
    if event_session.is_finished:
        return None
    before = event_session.mode
    room = apply_mode(event_session, mode)
    if event_session.mode != before:
        changed.add("switched")  # apply_mode bumped the sequence itself
    return room


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
    Cancelling deletes the provider room; reinstating (``cancelled -> scheduled``) returns
    the session with its planned mode and a new room where that mode needs one.
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
    from .switching import apply_mode, drop_room

    reinstated = event_session.status == "cancelled"
    room = None
    try:
        if status == "cancelled":
            drop_room(event_session)
        elif reinstated:
            room = apply_mode(event_session, event_session.planned_mode, renew=True)
        # A delay stays with the session once it runs late (its expected times are what
        # pages and feeds show); a new plan (cancelled, reinstated) has none.
        if status == "delayed":
            delay = delay_minutes
        elif status in ("cancelled", "scheduled"):
            delay = 0
        else:
            delay = event_session.delay_minutes
        event_session.status = status
        # Calendars show the expected times: a new delay is a change they must see.
        if status == "cancelled" or reinstated or delay != event_session.delay_minutes:
            event_session.sequence = Session.sequence + 1  # in SQL: a concurrent bump counts
        event_session.delay_minutes = delay
        event_session.updated_at = utcnow()
        db.session.commit()
    except Exception:
        db.session.rollback()
        provisioning.discard_releases()
        raise
    if room is not None:
        provisioning.enqueue_provision(room.id)
    provisioning.flush_releases()
    return event_session
