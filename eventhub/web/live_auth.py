"""Who a browser's Socket.IO connection belongs to, from the same cookie session as its pages.

Flask-SocketIO hands ``/live``'s connect handler a copy of the Flask session of the handshake
request, so a signed-in moderator or a participant who opened their link needs no extra
credential in the page: the handshake carries the (HttpOnly, SameSite=Lax) session cookie, and
the Origin check (create_app) refuses handshakes from other origins. ``auth`` tokens win.
"""

from __future__ import annotations

from flask import session

from ..extensions import db
from ..models import Participant, User


def session_user() -> User | None:
    """The organizer or moderator signed in at ``/login``."""
    user_id = session.get("user_id")
    user = db.session.get(User, user_id) if user_id else None
    return user if user is not None and user.active else None  # deactivated: signed out


def session_participant() -> Participant | None:
    """The participant who opened their personal link in this browser."""
    participant_id = session.get("participant_id")
    if not participant_id:
        return None
    participant = db.session.get(Participant, participant_id)
    # A revoked or rotated personal link ends the browser's access too.
    if participant is None or participant.token_digest != session.get("ptd"):
        return None
    return participant


def session_principal() -> User | Participant | None:
    """The signed-in user, else the participant of the browser session, else None."""
    return session_user() or session_participant()
