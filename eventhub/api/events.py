"""Events, their halls, their programme and whole-event switching."""

from __future__ import annotations

from flask import request

from ..errors import Invalid
from ..models import Event
from ..serializers import event_to_dict, room_to_dict, session_to_dict
from ..services import events as event_service
from ..services import sessions as session_service
from ..services import switching
from ..services.common import get_or_404, paginate
from . import actor, endpoint, guards, id_arg, page, page_args
from .programme_cache import cached_list
from .schemas import (
    EventCreate,
    EventOut,
    EventSwitchRequest,
    EventUpdate,
    RoomCreate,
    RoomOut,
    RoomUpdate,
    SessionCreate,
    SessionOut,
    changes,
    texts,
)

PUBLIC = "anyone for a published event; organizers, and the event's moderators and participants"


@endpoint("/events", "GET", summary="List events", response=EventOut, paginated=True,
          access="anyone (published events); organizers see all")
def list_events():
    limit, offset = page_args()
    items, total = event_service.list_events(actor(), limit, offset)
    return page(items, total, limit, offset, event_to_dict)


@endpoint("/events", "POST", summary="Create an event", body=EventCreate, response=EventOut,
          status=201, access="organizers", guard=guards.organizers)
def create_event(body: EventCreate):
    data = body.model_dump()
    data["title"], data["description"] = texts(body.title), texts(body.description)
    return event_to_dict(event_service.create_event(actor(), data))


@endpoint("/events/<int:event_id>", "GET", summary="Get an event", response=EventOut,
          access=PUBLIC)
def get_event(event_id: int):
    return event_to_dict(event_service.get_event(actor(), event_id))


@endpoint("/events/<int:event_id>", "PATCH", summary="Change an event", body=EventUpdate,
          response=EventOut, access="organizers", guard=guards.event_organizers)
def update_event(event_id: int, body: EventUpdate):
    event = get_or_404(Event, event_id, "event")
    return event_to_dict(event_service.update_event(actor(), event, changes(body)))


@endpoint("/events/<int:event_id>/rooms", "GET", summary="List the event's halls",
          response=RoomOut, paginated=True, access=PUBLIC)
def list_rooms(event_id: int):
    limit, offset = page_args()
    rooms = event_service.list_rooms(actor(), event_service.get_event(actor(), event_id))
    return page(rooms[offset:offset + limit], len(rooms), limit, offset, room_to_dict)


@endpoint("/events/<int:event_id>/rooms", "POST", summary="Add a hall", body=RoomCreate,
          response=RoomOut, status=201, access="organizers", guard=guards.event_organizers)
def create_room(event_id: int, body: RoomCreate):
    event = get_or_404(Event, event_id, "event")
    return room_to_dict(event_service.create_room(actor(), event, body.model_dump()))


@endpoint("/rooms/<int:room_id>", "PATCH", summary="Rename a hall or change its capacity",
          body=RoomUpdate, response=RoomOut, access="organizers")
def update_room(room_id: int, body: RoomUpdate):
    room = event_service.get_room(actor(), room_id)
    return room_to_dict(event_service.update_room(actor(), room, changes(body)))


@endpoint("/rooms/<int:room_id>", "DELETE", summary="Remove a hall (409 while sessions use it)",
          status=204, access="organizers")
def delete_room(room_id: int):
    event_service.delete_room(actor(), event_service.get_room(actor(), room_id))


@endpoint("/events/<int:event_id>/sessions", "GET", summary="The programme",
          response=SessionOut, paginated=True, access=PUBLIC,
          query=(("room_id", "only this hall's sessions"), ("track", "only this track")))
def list_sessions(event_id: int):
    limit, offset = page_args()
    track = request.args.get("track")
    if track and "\x00" in track:
        raise Invalid("invalid track", fields={"track": "may not contain NUL characters"})
    room_id = id_arg("room_id")

    def build(event: Event) -> dict:
        query = session_service.list_sessions(actor(), event, room_id=room_id, track=track)
        items, total = paginate(query, limit, offset)
        return page(items, total, limit, offset, session_to_dict)

    return cached_list(actor(), event_id, (limit, offset, room_id, track), build)


@endpoint("/events/<int:event_id>/sessions", "POST", summary="Add a session",
          body=SessionCreate, response=SessionOut, status=201, access="organizers",
          guard=guards.event_organizers)
def create_session(event_id: int, body: SessionCreate):
    event = get_or_404(Event, event_id, "event")
    return session_to_dict(session_service.create_session(actor(), event, changes(body)))


@endpoint("/events/<int:event_id>/switch", "POST", summary="Move the whole event",
          body=EventSwitchRequest, response=SessionOut, paginated=True, access="organizers",
          guard=guards.event_organizers)
def switch_event(event_id: int, body: EventSwitchRequest):
    event = get_or_404(Event, event_id, "event")
    moved = switching.switch_event(event, body.mode, actor=actor())
    return page(moved, len(moved), len(moved), 0, session_to_dict)
