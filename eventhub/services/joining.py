"""Who is let into a session's video room, when, and by which provider URL: participants'
join links and moderators' host links."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from integrations.base import JoinRequest, ProviderError

from ..errors import NotFound, RoomUnavailable
from ..models import Participant, Session, User, VideoRoom, utcnow
from . import access, provisioning
from .access import find_participant_by_token
from .providers import provider

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JoinDecision:
    """Either a provider URL to send the participant to, or why not yet and when."""

    url: str | None
    # "open", "not_yet", "no_room", "room_pending", "room_failed", "room_unavailable" (the
    # provider could not give a URL just now: try again), "over", "in_person"
    reason: str
    opens_at: datetime | None = None


def join_window_opens(event_session: Session) -> datetime:
    """When the session's join links open: the event's join window before its expected start
    (a delay moves it)."""
    minutes = event_session.event.join_window_minutes
    return event_session.expected_starts_at - timedelta(minutes=minutes)


def window_open(event_session: Session, now: datetime | None = None) -> bool:
    """True inside the join window or while the session is live or paused."""
    now = now or utcnow()
    if event_session.status in ("live", "paused"):
        return True
    if event_session.is_finished:
        return False
    return join_window_opens(event_session) <= now <= event_session.expected_ends_at


def participant_for_join(token: str | None, event_session: Session) -> Participant:
    """The participant whose token this is, if they belong to the session's event (404)."""
    participant = find_participant_by_token(token or "")
    if participant is None or participant.event_id != event_session.event_id:
        raise NotFound("this join link is not valid")
    return participant


def why_closed(event_session: Session, now: datetime | None = None) -> JoinDecision | None:
    """Why a join link does not lead into the room now; None when it does (the room is ready
    and the window open), once the provider gives a URL."""
    now = now or utcnow()
    if event_session.is_finished:
        return JoinDecision(None, "over")
    if not event_session.has_video:
        return JoinDecision(None, "in_person")
    if not window_open(event_session, now):
        return JoinDecision(None, "not_yet", join_window_opens(event_session))
    room = event_session.video_room
    if room is None or room.state == "deleted":
        return JoinDecision(None, "no_room")
    if room.state == "pending":
        return JoinDecision(None, "room_pending")
    if room.state == "failed":
        return JoinDecision(None, "room_failed")
    return None


def decide(participant: Participant, event_session: Session,
           now: datetime | None = None) -> JoinDecision:
    """Where a participant's join link leads now: never to a host URL."""
    closed = why_closed(event_session, now)
    if closed is not None:
        return closed
    try:
        url = join_url(event_session.video_room, participant.name,
                       f"participant-{participant.id}")
    except RoomUnavailable:
        # BBB, Zoom and Daily are asked for each URL; an outage is a page, not a 500.
        return JoinDecision(None, "room_unavailable")
    return JoinDecision(url, "open")


def host_link(actor: User | Participant | None, event_session: Session) -> str | None:
    """The provider's host URL for the session, if the actor may have it: a moderator of the
    session or an organizer, once its room is ready; None otherwise. A provider fault raises
    :class:`RoomUnavailable`."""
    room = event_session.video_room
    if room is None or room.state != "ready" or not access.moderates(actor, event_session):
        return None
    return host_url(room, actor.name or actor.email, f"user-{actor.id}")


def join_url(room: VideoRoom, display_name: str, user_id: str = "") -> str:
    """A participant's provider URL for the room (never a host URL)."""
    return _provider_url(room, JoinRequest(display_name=display_name, user_id=user_id))


def host_url(room: VideoRoom, display_name: str, user_id: str = "") -> str:
    """A moderator's provider URL with host rights (Zoom fetches a fresh start URL)."""
    return _provider_url(room, JoinRequest(display_name=display_name, user_id=user_id,
                                           moderator=True))


def _provider_url(room: VideoRoom, join: JoinRequest) -> str:
    """Ask the room's provider for a URL. Some are asked for each one (BBB signs it, Daily
    issues a meeting token, Zoom fetches a start URL); a fault there raises
    :class:`RoomUnavailable` with a readable, secret-free message."""
    adapter = provider(room.provider)
    ask = adapter.host_url if join.moderator else adapter.join_url
    try:
        return ask(provisioning.as_room(room), join)
    except ProviderError as exc:
        log.warning("%s URL for room %s on %s: %s", "host" if join.moderator else "join",
                    room.id, room.provider, exc.message)
        raise RoomUnavailable(provisioning.readable(room.provider, exc)) from None
