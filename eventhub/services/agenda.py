"""A participant's personal agenda: the sessions they chose."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..errors import NotFound
from ..extensions import db
from ..models import AgendaItem, Participant, Session
from . import access
from .access import Actor


def list_agenda(actor: Actor, participant: Participant) -> list[Session]:
    """The participant's chosen sessions in time order."""
    access.require_participant_access(actor, participant)
    return list(db.session.scalars(
        select(Session).join(AgendaItem, AgendaItem.session_id == Session.id)
        .where(AgendaItem.participant_id == participant.id)
        .order_by(Session.starts_at, Session.id)
    ))


def find_agenda_item(participant: Participant, event_session: Session) -> AgendaItem | None:
    """The agenda entry for this session, or None."""
    return db.session.scalar(select(AgendaItem).where(
        AgendaItem.participant_id == participant.id, AgendaItem.session_id == event_session.id
    ))


def _check_same_event(participant: Participant, event_session: Session) -> None:
    if event_session.event_id != participant.event_id:
        raise NotFound(f"session {event_session.id} not found in the participant's event")


def get_agenda_item(actor: Actor, participant: Participant, event_session: Session) -> AgendaItem:
    """The agenda entry (404 when the session is not on the agenda)."""
    access.require_participant_access(actor, participant)
    _check_same_event(participant, event_session)
    item = find_agenda_item(participant, event_session)
    if item is None:
        raise NotFound(f"session {event_session.id} is not on the agenda")
    return item


def add_to_agenda(actor: Actor, participant: Participant, event_session: Session) -> AgendaItem:
    """Put a session of the participant's event on their agenda (idempotent)."""
    access.require_participant_access(actor, participant)
    _check_same_event(participant, event_session)
    item = find_agenda_item(participant, event_session)
    if item is None:
        item = AgendaItem(participant=participant, session=event_session)
        db.session.add(item)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()  # a concurrent PUT added it first: answer with that one
            item = find_agenda_item(participant, event_session)
            if item is None:
                raise
    return item


def remove_from_agenda(actor: Actor, participant: Participant, event_session: Session) -> None:
    """Take a session off the agenda (idempotent)."""
    access.require_participant_access(actor, participant)
    _check_same_event(participant, event_session)
    item = find_agenda_item(participant, event_session)
    if item is not None:
        db.session.delete(item)
        db.session.commit()
