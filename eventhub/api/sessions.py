"""One session: read, change, delete, switch, drive its status, see its room."""

from __future__ import annotations

from ..errors import NotFound
from ..serializers import room_state, session_to_dict
from ..services import access, joining, provisioning, switching
from ..services import sessions as session_service
from . import actor, endpoint, guards
from .schemas import (
    SessionOut,
    SessionUpdate,
    StatusRequest,
    SwitchRequest,
    VideoRoomOut,
    changes,
)

PUBLIC = "anyone for a published event; organizers, and the event's moderators and participants"
MODERATORS = "the session's moderators and organizers"


@endpoint("/sessions/<int:session_id>", "GET", summary="Get a session", response=SessionOut,
          access=PUBLIC)
def get_session(session_id: int):
    return session_to_dict(session_service.get_session(actor(), session_id))


@endpoint("/sessions/<int:session_id>", "PATCH", summary="Change a session",
          body=SessionUpdate, response=SessionOut, access="organizers",
          guard=guards.session_organizers)
def update_session(session_id: int, body: SessionUpdate):
    event_session = session_service.get_session(actor(), session_id)
    return session_to_dict(session_service.update_session(actor(), event_session, changes(body)))


@endpoint("/sessions/<int:session_id>", "DELETE", summary="Delete a session",
          status=204, access="organizers", guard=guards.session_organizers)
def delete_session(session_id: int):
    event_session = session_service.get_session(actor(), session_id)
    session_service.delete_session(actor(), event_session)


@endpoint("/sessions/<int:session_id>/switch", "POST", summary="Move a session online, "
          "hybrid or back in person", body=SwitchRequest, response=SessionOut, access=MODERATORS,
          guard=guards.session_moderators)
def switch_session(session_id: int, body: SwitchRequest):
    event_session = session_service.get_session(actor(), session_id)
    switching.switch_session(event_session, body.mode, body.provider, actor=actor())
    return session_to_dict(event_session)


@endpoint("/sessions/<int:session_id>/status", "POST", summary="Go live, pause, end, delay, "
          "cancel", body=StatusRequest, response=SessionOut, access=MODERATORS,
          guard=guards.session_moderators)
def set_status(session_id: int, body: StatusRequest):
    event_session = session_service.get_session(actor(), session_id)
    session_service.set_session_status(actor(), event_session, body.status, body.delay_minutes)
    return session_to_dict(event_session)


@endpoint("/sessions/<int:session_id>/room", "GET", summary="The session's video room",
          response=VideoRoomOut,
          access=PUBLIC + "; host_url for the session's moderators and organizers only")
def get_room(session_id: int):
    event_session = session_service.get_session(actor(), session_id)
    video_room = event_session.video_room
    if video_room is None:
        raise NotFound("this session has no video room")
    body = {**room_state(video_room), "session_id": event_session.id,
            "attempts": video_room.attempts,
            "interpretation": provisioning.interpretation_state(video_room)}
    who = actor()
    if access.moderates(who, event_session):
        body["host"] = video_room.host  # which account of the pool runs it
    host_url = joining.host_link(who, event_session)
    if host_url is not None:
        body["host_url"] = host_url
    return body
