"""Who may call a route, checked before its body is read (DESIGN.md's order of checks).

Authentication (401), then visibility (an object the caller may not see is 404, never 403),
then permission (403); only then does :func:`..endpoint` validate the body (422), and the
service finds conflicts (409). Each guard takes the route's path arguments. The services
check access again: a guard only puts the answers in DESIGN's order.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request

from ..errors import NotFound
from ..models import Participant
from ..services import access
from ..services import events as event_service
from ..services import sessions as session_service
from ..services.common import get_or_404

T = TypeVar("T")
GUARDED = "eventhub.guarded"  # the WSGI environ key of the rows the guards looked up


def _kept(obj: T) -> T:
    """Hold what a guard looked up for the rest of the request: SQLAlchemy's identity map
    keeps only weak references, so the view would otherwise load the same rows again. On the
    request, not on ``g``: an app context can outlive its request (a test's, or a CLI's), and
    rows held there would be served stale to the next request in it."""
    request.environ.setdefault(GUARDED, []).append(obj)
    return obj


def release(_error: BaseException | None = None) -> None:
    """Let go of them when the request ends (a test client's response keeps its environ)."""
    request.environ.pop(GUARDED, None)


def _signed_in() -> Any:
    from . import actor

    who = actor()
    access.require_authenticated(who)
    return who


def organizers(**_: Any) -> None:
    """Organizers only (nothing to look up)."""
    access.require_organizer(_signed_in())


def event_organizers(event_id: int, **_: Any) -> None:
    """Organizers, on an event the caller can see."""
    who = _signed_in()
    _kept(event_service.get_event(who, event_id))
    access.require_organizer(who)


def session_organizers(session_id: int, **_: Any) -> None:
    """Organizers, on a session the caller can see."""
    who = _signed_in()
    _kept(session_service.get_session(who, session_id))
    access.require_organizer(who)


def session_moderators(session_id: int, **_: Any) -> None:
    """The session's moderators and organizers, on a session the caller can see."""
    who = _signed_in()
    access.require_moderator(who, _kept(session_service.get_session(who, session_id)))


def _participant(participant_id: int) -> tuple[Any, Participant]:
    """A participant record is seen by organizers and by the participant themselves."""
    who = _signed_in()
    participant = _kept(get_or_404(Participant, participant_id, "participant"))
    own = isinstance(who, Participant) and who.id == participant.id
    if not (own or access.is_organizer(who)):
        raise NotFound("participant not found")
    return who, participant


def participant_self(participant_id: int, **_: Any) -> None:
    """The participant themselves and organizers."""
    _participant(participant_id)


def participant_organizers(participant_id: int, **_: Any) -> None:
    """Organizers, on a participant the caller can see (the participant gets 403)."""
    who, _participant_row = _participant(participant_id)
    access.require_organizer(who)
