"""Who is asking, and what they may do: DESIGN.md's access rules in one place.

An *actor* is a :class:`User` (organizer or moderator), a :class:`Participant`, or ``None`` for
an anonymous visitor. Services call the ``require_*`` functions before they read or write.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import session as browser_session
from sqlalchemy import bindparam, select

from ..errors import Forbidden, NotFound, Unauthorized
from ..extensions import db
from ..models import ApiToken, Event, Participant, Session, User, session_moderators

Actor = User | Participant | None

TOKEN_BYTES = 32  # bytes of randomness in every API and participant token


def new_token() -> str:
    """A fresh URL-safe secret with 256 bits of randomness."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def digest(token: str) -> str:
    """SHA-256 hex digest under which a token is looked up."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_participant_token(participant: Participant) -> str:
    """Give the participant a new personal token (a new nonce); the old one stops working.

    The token is derived from the id, so a new participant is flushed first."""
    participant.token_nonce = secrets.token_urlsafe(TOKEN_BYTES)
    if participant.id is None:
        db.session.add(participant)
        db.session.flush()
    participant.token_digest = digest(participant.token)
    return participant.token


def refresh_token_digests() -> int:
    """Make every participant's digest match the token derived under this SECRET_KEY (after
    the migration from stored tokens, or a new key: links made under another key stop).
    Returns how many changed."""
    changed = 0
    for participant in db.session.scalars(select(Participant)):
        if not participant.token_nonce:
            participant.token_nonce = secrets.token_urlsafe(TOKEN_BYTES)
        wanted = digest(participant.token)
        if participant.token_digest != wanted:
            participant.token_digest = wanted
            changed += 1
    db.session.commit()
    return changed


def find_participant_by_token(token: str) -> Participant | None:
    """The participant whose personal token this is, compared in constant time."""
    if not token or len(token) > 200:
        return None
    participant = db.session.scalar(
        select(Participant).where(Participant.token_digest == digest(token))
    )
    if participant is None or not hmac.compare_digest(participant.token, token):
        return None
    return participant


def find_user_by_api_token(token: str) -> User | None:
    """The user owning this live API token, or None."""
    if not token or len(token) > 200:
        return None
    return db.session.scalar(_USER_BY_TOKEN, {"digest": digest(token)})


# One query before every API request (not the token and then its user), built once.
_USER_BY_TOKEN = (select(User).join(ApiToken, ApiToken.user_id == User.id)
                  .where(ApiToken.digest == bindparam("digest"), ApiToken.revoked_at.is_(None),
                         User.active.is_(True)))


def authenticate_token(token: str) -> User | Participant | None:
    """A bearer token resolved to its user or participant; None if it is not valid."""
    return find_user_by_api_token(token) or find_participant_by_token(token)


def session_user() -> User | None:
    """The organizer or moderator signed in at ``/login`` in this browser session."""
    user_id = browser_session.get("user_id")
    user = db.session.get(User, user_id) if user_id else None
    return user if user is not None and user.active else None  # deactivated: signed out


def session_participant() -> Participant | None:
    """The participant who opened their personal link in this browser."""
    participant_id = browser_session.get("participant_id")
    if not participant_id:
        return None
    participant = db.session.get(Participant, participant_id)
    # A revoked or rotated personal link ends the browser's access too.
    if participant is None or participant.token_digest != browser_session.get("ptd"):
        return None
    return participant


def session_principal() -> User | Participant | None:
    """Who a browser is, from its cookie session: the signed-in user, else the participant
    whose link it opened, else None.

    Pages and ``/live`` both read it: Flask-SocketIO hands the connect handler a copy of the
    handshake's Flask session, so a page's Socket.IO connection needs no extra credential (the
    handshake carries the HttpOnly, SameSite=Lax cookie; create_app's Origin check refuses
    other origins). ``auth`` tokens win over it.
    """
    return session_user() or session_participant()


def is_organizer(actor: Actor) -> bool:
    """True for an organizer account."""
    return isinstance(actor, User) and actor.role == "organizer"


def moderates(actor: Actor, event_session: Session) -> bool:
    """True if the actor may drive this session: an organizer or one of its moderators."""
    if is_organizer(actor):
        return True
    return isinstance(actor, User) and any(u.id == actor.id for u in event_session.moderators)


def moderates_in_event(actor: Actor, event: Event) -> bool:
    """True for a moderator of at least one session of the event."""
    if not isinstance(actor, User):
        return False
    return db.session.scalar(
        select(Session.id)
        .join(session_moderators, session_moderators.c.session_id == Session.id)
        .where(Session.event_id == event.id, session_moderators.c.user_id == actor.id)
        .limit(1)
    ) is not None


def can_view_event(actor: Actor, event: Event) -> bool:
    """Published events are public; unpublished ones are seen by the people working on them."""
    if event.published or is_organizer(actor):
        return True
    if isinstance(actor, Participant):
        return actor.event_id == event.id
    return moderates_in_event(actor, event)


def require_authenticated(actor: Actor) -> None:
    """401 for an anonymous actor."""
    if actor is None:
        raise Unauthorized("sign in or send an API token")


def require_view_event(actor: Actor, event: Event) -> None:
    """404 for an event the actor may not see (its existence is not revealed)."""
    if not can_view_event(actor, event):
        raise NotFound("event not found")


def require_organizer(actor: Actor) -> None:
    """401 anonymous, 403 anyone but an organizer."""
    require_authenticated(actor)
    if not is_organizer(actor):
        raise Forbidden("only organizers may do this")


def require_moderator(actor: Actor, event_session: Session) -> None:
    """401 anonymous, 403 anyone but an organizer or a moderator of this session."""
    require_authenticated(actor)
    if not moderates(actor, event_session):
        raise Forbidden("only this session's moderators and organizers may do this")


def require_participant_access(actor: Actor, participant: Participant) -> None:
    """401 anonymous, 403 anyone but an organizer or the participant themselves."""
    require_authenticated(actor)
    if is_organizer(actor):
        return
    if isinstance(actor, Participant) and actor.id == participant.id:
        return
    raise Forbidden("only the participant and organizers may do this")
