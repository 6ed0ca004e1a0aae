"""Participants: add, change, remove, rotate personal links (invitations: invitations.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict
from ..extensions import db
from ..models import Event, Participant
from . import access
from .access import Actor
from .common import apply_changes, commit_unique, get_or_404, paginate

PARTICIPANT_FIELDS = (
    "name", "email", "organization", "partner_organization", "country", "role", "attendance",
    "language", "invitation_status",
)  # fmt: skip
SELF_FIELDS = frozenset({"language"})  # what participants may change of themselves
EMAIL_TAKEN = "this e-mail is already a participant"


def get_participant(actor: Actor, participant_id: int) -> Participant:
    """The participant, for themselves or an organizer (404 if missing, 401/403 otherwise)."""
    participant = get_or_404(Participant, participant_id, "participant")
    access.require_participant_access(actor, participant)
    return participant


FILTERS = ("role", "attendance", "invitation_status", "organization")


def participants_query(actor: Actor, event: Event, filters: dict[str, str] | None = None):
    """The event's participants by name, filtered (organizers only), for the caller to page.

    ``filters``: ``role``, ``attendance``, ``invitation_status``, ``organization`` (the
    delegation; exact) and ``q`` (part of the name or e-mail, case-insensitive). Empty values
    filter nothing.
    """
    access.require_organizer(actor)
    query = select(Participant).where(Participant.event_id == event.id)
    filters = filters or {}
    for name in FILTERS:
        if filters.get(name):
            query = query.where(getattr(Participant, name) == filters[name])
    if filters.get("q"):
        # SQLite's LIKE ignores case for ASCII letters only; trying the usual spellings of the
        # search (as typed, lower, Capitalized, UPPER) finds "Анна" for "анна" there too.
        # PostgreSQL's ILIKE folds every alphabet.
        typed = filters["q"]
        variants = {typed, typed.lower(), typed.capitalize(), typed.upper(), typed.title()}
        conditions = []
        for variant in sorted(variants):
            pattern = f"%{_like_escape(variant)}%"
            conditions += [Participant.name.ilike(pattern, escape="\\"),
                           Participant.email.ilike(pattern, escape="\\")]
        query = query.where(or_(*conditions))
    return query.order_by(Participant.name, Participant.id)


def _like_escape(text: str) -> str:
    """LIKE's own wildcards in a search are literal characters."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_participants(actor: Actor, event: Event, limit: int, offset: int,
                      filters: dict[str, str] | None = None):
    """One page of the event's participants, filtered (organizers only), and the total."""
    return paginate(participants_query(actor, event, filters), limit, offset)


def organizations(actor: Actor, event: Event) -> list[str]:
    """The organizations (delegations) of the event's participants, for the filter."""
    access.require_organizer(actor)
    return list(db.session.scalars(
        select(Participant.organization).where(Participant.event_id == event.id,
                                               Participant.organization != "")
        .distinct().order_by(Participant.organization)))


def _email_taken(event_id: int, email: str, exclude: int | None = None) -> bool:
    query = select(Participant.id).where(
        Participant.event_id == event_id, Participant.email == email.lower()
    )
    if exclude is not None:
        query = query.where(Participant.id != exclude)
    return db.session.scalar(query.limit(1)) is not None


def create_participant(actor: Actor, event: Event, data: dict[str, Any]) -> Participant:
    """Invite a person to the event (organizers only); e-mails are unique per event (409)."""
    access.require_organizer(actor)
    data = {**data, "email": data["email"].lower()}
    taken = Conflict(EMAIL_TAKEN, fields={"email": "taken"})
    if _email_taken(event.id, data["email"]):
        raise taken
    participant = Participant(event=event)
    apply_changes(participant, {k: v for k, v in data.items() if k in PARTICIPANT_FIELDS})
    try:
        access.issue_participant_token(participant)  # flushes: the token needs the id
    except IntegrityError as exc:  # a concurrent request took the e-mail
        db.session.rollback()
        raise taken from exc
    commit_unique(taken)
    return participant


def update_participant(actor: Actor, participant: Participant, data: dict[str, Any]) -> Participant:
    """Change a participant: organizers anything, participants their own language."""
    access.require_participant_access(actor, participant)
    if not access.is_organizer(actor) and set(data) - SELF_FIELDS:
        access.require_organizer(actor)
    if "email" in data:
        data = {**data, "email": data["email"].lower()}
        if _email_taken(participant.event_id, data["email"], exclude=participant.id):
            raise Conflict(EMAIL_TAKEN, fields={"email": "taken"})
    if apply_changes(participant, {k: v for k, v in data.items() if k in PARTICIPANT_FIELDS}):
        commit_unique(Conflict(EMAIL_TAKEN, fields={"email": "taken"}))
    return participant


def delete_participant(actor: Actor, participant: Participant) -> None:
    """Remove a participant (organizers only); their link stops working at once."""
    access.require_organizer(actor)
    db.session.delete(participant)
    db.session.commit()


def rotate_token(actor: Actor, participant: Participant) -> Participant:
    """Revoke the participant's personal link and issue a new one (organizers only)."""
    access.require_organizer(actor)
    access.issue_participant_token(participant)
    db.session.commit()
    return participant

