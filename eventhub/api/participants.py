"""Participants, their invitations and their personal agendas."""

from __future__ import annotations

from flask import current_app, request

from ..models import Event, Participant, Session
from ..serializers import participant_to_dict, session_to_dict
from ..services import access, agenda, invitations, participants
from ..services.common import get_or_404
from ..validation import validate
from . import actor, endpoint, guards, page, page_args
from .schemas import (
    AgendaItemOut,
    InvitationRequest,
    ParticipantCreate,
    ParticipantFilter,
    ParticipantOut,
    ParticipantUpdate,
    SessionOut,
    changes,
)

SELF = "the participant and organizers"


def links(participant: Participant) -> dict[str, str]:
    """The personal URLs organizers send: the agenda page and the calendar feed."""
    base = current_app.config["EVENTHUB_BASE_URL"]
    return {"access_url": f"{base}/p/{participant.token}",
            "feed_url": f"{base}/calendars/p/{participant.token}.ics"}


def show(participant: Participant) -> dict:
    """A participant as the caller may see them: links only for organizers."""
    organizer = access.is_organizer(actor())
    return participant_to_dict(participant, links=links(participant) if organizer else None)


def item_to_dict(item) -> dict:
    return {"participant_id": item.participant_id, "session_id": item.session_id,
            "added_at": item.added_at.isoformat()}


@endpoint("/events/<int:event_id>/participants", "GET", summary="List participants",
          response=ParticipantOut, paginated=True, access="organizers",
          query=(("role", "only this role"), ("attendance", "in_person or remote"),
                 ("invitation_status", "invited, accepted or declined"),
                 ("organization", "only this organization (delegation)"),
                 ("q", "part of the name or e-mail")),
          guard=guards.event_organizers)
def list_participants(event_id: int):
    limit, offset = page_args()
    event = get_or_404(Event, event_id, "event")
    access.require_organizer(actor())  # 401/403 before the filters' 422
    filters = validate(ParticipantFilter, {k: v for k, v in request.args.items()
                                            if k in ParticipantFilter.model_fields})
    items, total = participants.list_participants(actor(), event, limit, offset,
                                                  filters.model_dump())
    return page(items, total, limit, offset, show)


@endpoint("/events/<int:event_id>/participants", "POST", summary="Invite a participant",
          body=ParticipantCreate, response=ParticipantOut, status=201, access="organizers",
          guard=guards.event_organizers)
def create_participant(event_id: int, body: ParticipantCreate):
    event = get_or_404(Event, event_id, "event")
    return show(participants.create_participant(actor(), event, body.model_dump()))


@endpoint("/participants/<int:participant_id>", "GET", summary="Get a participant",
          response=ParticipantOut, access=SELF, guard=guards.participant_self)
def get_participant(participant_id: int):
    return show(participants.get_participant(actor(), participant_id))


@endpoint("/participants/<int:participant_id>", "PATCH", summary="Change a participant",
          body=ParticipantUpdate, response=ParticipantOut,
          access="organizers; the participant their own language", guard=guards.participant_self)
def update_participant(participant_id: int, body: ParticipantUpdate):
    participant = participants.get_participant(actor(), participant_id)
    return show(participants.update_participant(actor(), participant, changes(body)))


@endpoint("/participants/<int:participant_id>", "DELETE", summary="Remove a participant",
          status=204, access="organizers", guard=guards.participant_organizers)
def delete_participant(participant_id: int):
    participant = get_or_404(Participant, participant_id, "participant")
    participants.delete_participant(actor(), participant)


@endpoint("/participants/<int:participant_id>/token", "POST",
          summary="Revoke the personal link and issue a new one", response=ParticipantOut,
          access="organizers", guard=guards.participant_organizers)
def rotate_token(participant_id: int):
    participant = get_or_404(Participant, participant_id, "participant")
    return show(participants.rotate_token(actor(), participant))


@endpoint("/participants/<int:participant_id>/invitation", "POST",
          summary="Accept or decline the invitation, and choose in person or remote",
          body=InvitationRequest, response=ParticipantOut, access=SELF,
          guard=guards.participant_self)
def answer_invitation(participant_id: int, body: InvitationRequest):
    participant = participants.get_participant(actor(), participant_id)
    return show(invitations.answer_invitation(actor(), participant, body.status,
                                              body.attendance))


@endpoint("/participants/<int:participant_id>/agenda", "GET", summary="The personal agenda",
          response=SessionOut, paginated=True, access=SELF, guard=guards.participant_self)
def list_agenda(participant_id: int):
    limit, offset = page_args()
    participant = participants.get_participant(actor(), participant_id)
    sessions = agenda.list_agenda(actor(), participant)
    return page(sessions[offset:offset + limit], len(sessions), limit, offset, session_to_dict)


def _load(participant_id: int, session_id: int) -> tuple[Participant, Session]:
    participant = participants.get_participant(actor(), participant_id)
    return participant, get_or_404(Session, session_id, "session")


@endpoint("/participants/<int:participant_id>/agenda/<int:session_id>", "GET",
          summary="Is the session on the agenda", response=AgendaItemOut, access=SELF,
          guard=guards.participant_self)
def get_agenda_item(participant_id: int, session_id: int):
    participant, event_session = _load(participant_id, session_id)
    return item_to_dict(agenda.get_agenda_item(actor(), participant, event_session))


@endpoint("/participants/<int:participant_id>/agenda/<int:session_id>", "PUT",
          summary="Put the session on the agenda", response=AgendaItemOut, access=SELF,
          guard=guards.participant_self)
def add_agenda_item(participant_id: int, session_id: int):
    participant, event_session = _load(participant_id, session_id)
    return item_to_dict(agenda.add_to_agenda(actor(), participant, event_session))


@endpoint("/participants/<int:participant_id>/agenda/<int:session_id>", "DELETE",
          summary="Take the session off the agenda", status=204, access=SELF,
          guard=guards.participant_self)
def remove_agenda_item(participant_id: int, session_id: int):
    participant, event_session = _load(participant_id, session_id)
    agenda.remove_from_agenda(actor(), participant, event_session)
