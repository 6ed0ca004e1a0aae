"""One dict shape per resource: REST bodies, Socket.IO acks and broadcasts (``session.updated``)
read these, so a resource looks the same wherever it is shown.

The pydantic ``*Out`` models in :mod:`eventhub.api.schemas` document these shapes in OpenAPI.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import Event, Participant, Room, Session, VideoRoom


def iso(value: datetime) -> str:
    """ISO 8601 with offset."""
    return value.isoformat()


def event_to_dict(event: Event) -> dict[str, Any]:
    """An event as the API shows it."""
    return {
        "id": event.id, "slug": event.slug, "title": event.title or {},
        "description": event.description or {}, "timezone": event.timezone,
        "start_date": event.start_date.isoformat(), "end_date": event.end_date.isoformat(),
        "venue": event.venue, "mode": event.mode, "default_provider": event.default_provider,
        "fallback_provider": event.fallback_provider,
        "join_window_minutes": event.join_window_minutes, "published": event.published,
    }  # fmt: skip


def room_to_dict(room: Room) -> dict[str, Any]:
    """A hall as the API shows it."""
    return {"id": room.id, "event_id": room.event_id, "name": room.name,
            "capacity": room.capacity}


def room_state(video_room: VideoRoom | None) -> dict[str, Any] | None:
    """A video room's public state: no join data, no host data."""
    if video_room is None:
        return None
    return {"state": video_room.state, "provider": video_room.provider,
            "error": video_room.last_error}


def session_to_dict(event_session: Session) -> dict[str, Any]:
    """A session as the API shows it."""
    return {
        "id": event_session.id, "event_id": event_session.event_id,
        "title": event_session.title or {}, "description": event_session.description or {},
        "starts_at": iso(event_session.starts_at), "ends_at": iso(event_session.ends_at),
        "room_id": event_session.room_id, "track": event_session.track,
        "track_names": event_session.track_names or {},
        "mode": event_session.mode, "planned_mode": event_session.planned_mode,
        "status": event_session.status, "delay_minutes": event_session.delay_minutes,
        "expected_starts_at": iso(event_session.expected_starts_at),
        "expected_ends_at": iso(event_session.expected_ends_at),
        "sequence": event_session.sequence, "version": event_session.version,
        "moderator_ids": sorted(u.id for u in event_session.moderators),
        "speaker_ids": sorted(p.id for p in event_session.speakers),
        "interpretation": event_session.interpretation,
        "room": room_state(event_session.video_room),
    }  # fmt: skip


def session_update_payload(event_session: Session) -> dict[str, Any]:
    """The ``session.updated`` payload (DESIGN.md's Socket.IO contract)."""
    video_room = event_session.video_room
    return {
        "session_id": event_session.id, "event_id": event_session.event_id,
        "status": event_session.status, "mode": event_session.mode,
        "delay_minutes": event_session.delay_minutes,
        "room_state": video_room.state if video_room else None,
        "provider": video_room.provider if video_room else None,
        "starts_at": iso(event_session.starts_at), "ends_at": iso(event_session.ends_at),
        "expected_starts_at": iso(event_session.expected_starts_at),
        "expected_ends_at": iso(event_session.expected_ends_at),
        "sequence": event_session.sequence, "version": event_session.version,
    }  # fmt: skip


def participant_to_dict(participant: Participant, *, links: dict[str, str] | None = None
                        ) -> dict[str, Any]:
    """A participant; ``links`` (access_url, feed_url) only for organizers."""
    body = {
        "id": participant.id, "event_id": participant.event_id, "name": participant.name,
        "email": participant.email, "organization": participant.organization,
        "partner_organization": participant.partner_organization,
        "country": participant.country, "role": participant.role,
        "attendance": participant.attendance, "language": participant.language,
        "invitation_status": participant.invitation_status,
    }  # fmt: skip
    if links:
        body.update(links)
    return body
