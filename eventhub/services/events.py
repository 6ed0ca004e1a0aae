"""Events and their halls: create, update, list."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import Event, Room, Session
from . import access
from .access import Actor
from .common import apply_changes, check_timezone, commit_unique, get_or_404, paginate
from .providers import check_provider

EVENT_FIELDS = (
    "slug", "title", "description", "timezone", "start_date", "end_date", "venue",
    "default_provider", "fallback_provider", "join_window_minutes", "published",
)  # fmt: skip
# Event days stay well inside what date and time arithmetic (day after the end, ±14 h zones,
# UTC in the database) can represent.
FIRST_DATE, LAST_DATE = date(1900, 1, 1), date(2999, 12, 31)


def get_event(actor: Actor, event_id: int) -> Event:
    """The event, if the actor may see it (404 otherwise)."""
    event = get_or_404(Event, event_id, "event")
    access.require_view_event(actor, event)
    return event


def find_event_by_slug(slug: str) -> Event | None:
    """The event with this slug, without access checks (callers check)."""
    return db.session.scalar(select(Event).where(Event.slug == slug))


def list_events(actor: Actor, limit: int, offset: int) -> tuple[list[Event], int]:
    """Events the actor may see: published ones, or all for an organizer."""
    query = select(Event).order_by(Event.start_date, Event.id)
    if not access.is_organizer(actor):
        query = query.where(Event.published.is_(True))
    return paginate(query, limit, offset)


def _validate_event(event: Event, data: dict[str, Any]) -> None:
    start = data.get("start_date", event.start_date)
    end = data.get("end_date", event.end_date)
    if "timezone" in data:
        check_timezone(data["timezone"])
    far = {field: f"from {FIRST_DATE} to {LAST_DATE}" for field in ("start_date", "end_date")
           if field in data and not FIRST_DATE <= data[field] <= LAST_DATE}
    if far:
        raise Invalid("the event's dates are out of range", fields=far)
    if start and end and end < start:
        raise Invalid("the event ends before it starts", fields={"end_date": "before start_date"})
    for field in ("default_provider", "fallback_provider"):
        if data.get(field) is not None:
            check_provider(data[field], field)
    if "title" in data and not any(data["title"].values()):
        raise Invalid("a title is required", fields={"title": "give at least one language"})


def create_event(actor: Actor, data: dict[str, Any]) -> Event:
    """A new event (organizers only). Slugs are unique (409)."""
    access.require_organizer(actor)
    event = Event(title={}, description={}, default_provider="jitsi")
    _validate_event(event, data)
    taken = Conflict(f"an event with slug {data['slug']!r} exists", fields={"slug": "taken"})
    if find_event_by_slug(data["slug"]):
        raise taken
    apply_changes(event, {k: v for k, v in data.items() if k in EVENT_FIELDS})
    db.session.add(event)
    commit_unique(taken)
    return event


def update_event(actor: Actor, event: Event, data: dict[str, Any]) -> Event:
    """Change an event's fields (organizers only). Its sessions must stay inside its dates."""
    access.require_organizer(actor)
    _validate_event(event, data)
    taken = Conflict(f"an event with slug {data.get('slug')!r} exists", fields={"slug": "taken"})
    if "slug" in data and data["slug"] != event.slug and find_event_by_slug(data["slug"]):
        raise taken
    dates = {k: data[k] for k in ("timezone", "start_date", "end_date") if k in data}
    if dates:
        from .sessions import outside_event  # local import: sessions imports this module

        stranded = [
            s.id for s in event.sessions if outside_event(event, s.starts_at, s.ends_at, **dates)
        ]
        if stranded:
            raise Conflict(
                f"sessions {stranded} would fall outside the event's dates",
                fields={name: "sessions would fall outside" for name in dates},
            )
    changed = apply_changes(event, {k: v for k, v in data.items() if k in EVENT_FIELDS})
    if changed & {"title", "timezone", "venue"}:
        # Every session's calendar entry shows these: calendars must see a new SEQUENCE.
        for event_session in event.sessions:
            event_session.sequence = Session.sequence + 1  # in SQL: no bump is lost
    commit_unique(taken)
    return event


def list_rooms(actor: Actor, event: Event) -> list[Room]:
    """The halls of an event the actor may see."""
    access.require_view_event(actor, event)
    return list(event.rooms)


def create_room(actor: Actor, event: Event, data: dict[str, Any]) -> Room:
    """A new hall (organizers only); names are unique within the event (409)."""
    access.require_organizer(actor)
    taken = Conflict(f"the event has a room named {data['name']!r}", fields={"name": "taken"})
    if any(room.name == data["name"] for room in event.rooms):
        raise taken
    room = Room(event=event, name=data["name"], capacity=data.get("capacity"))
    db.session.add(room)
    commit_unique(taken)
    return room


def get_room(actor: Actor, room_id: int) -> Room:
    """A hall, if the actor may see its event (404 otherwise)."""
    room = get_or_404(Room, room_id, "room")
    access.require_view_event(actor, room.event)
    return room


def update_room(actor: Actor, room: Room, data: dict[str, Any]) -> Room:
    """Rename a hall or change its capacity (organizers only); names stay unique (409)."""
    access.require_organizer(actor)
    name = data.get("name", room.name)
    taken = Conflict(f"the event has a room named {name!r}", fields={"name": "taken"})
    if any(other.name == name and other.id != room.id for other in room.event.rooms):
        raise taken
    if apply_changes(room, {k: v for k, v in data.items() if k in ("name", "capacity")}):
        if "name" in data:
            # Calendars show the hall as LOCATION: its sessions' entries change.
            for event_session in room_sessions(room):
                event_session.sequence += 1
        commit_unique(taken)
    return room


def room_sessions(room: Room) -> list[Session]:
    """The sessions held in a hall, cancelled ones included, in time order."""
    return list(db.session.scalars(
        select(Session).where(Session.room_id == room.id).order_by(Session.starts_at, Session.id)))


def delete_room(actor: Actor, room: Room) -> None:
    """Remove a hall (organizers only); refused (409) while any session is held in it."""
    access.require_organizer(actor)
    used = room_sessions(room)
    if used:
        raise Conflict(
            f"the room is used by {len(used)} session(s): {[s.id for s in used]}",
            fields={"room": f"used by sessions {', '.join(str(s.id) for s in used)}"},
            code="room_in_use",
        )
    db.session.delete(room)
    db.session.commit()
