"""Invitations and delegations: invite people, the delegations table, reminders."""

from __future__ import annotations

from flask import Response, request

from ..errors import Invalid
from ..models import Event
from ..services import invitations
from ..services.common import get_or_404
from . import actor, endpoint, page, page_args
from .participants import show
from .schemas import (
    DelegationInvitation,
    DelegationOut,
    InvitationBatch,
    InvitationReportOut,
    RemindersOut,
)


def report_to_dict(report: invitations.InvitationReport) -> dict:
    """An invitation report; participants as the caller may see them (links for organizers)."""
    return {
        "invited": [show(p) for p in report.invited],
        "merged": [show(p) for p in report.merged],
        "rejected": [{"index": r.index, "email": r.email, "field": r.field, "error": r.error}
                     for r in report.rejected],
        "mailed": report.mailed,
    }


def delegation_to_dict(row: invitations.Delegation) -> dict:
    return {"organization": row.organization, "partner_organization": row.partner_organization,
            **row.counts()}


@endpoint("/events/<int:event_id>/invitations", "POST",
          summary=f"Invite people (merged by e-mail; at most {invitations.BATCH_MAX} at once)",
          body=InvitationBatch, response=InvitationReportOut,
          access="organizers; an official for their organization and its partner organization")
def invite(event_id: int, body: InvitationBatch):
    event = get_or_404(Event, event_id, "event")
    entries = [entry.model_dump(exclude_none=True) for entry in body.invitees]
    return report_to_dict(invitations.invite(actor(), event, entries, body.message))


@endpoint("/events/<int:event_id>/delegations", "GET",
          summary="Answers per organization and its partner (?format=csv for a spreadsheet)",
          response=DelegationOut, paginated=True, access="organizers",
          query=(("format", "json (default) or csv"),))
def list_delegations(event_id: int):
    event = get_or_404(Event, event_id, "event")
    rows = invitations.list_delegations(actor(), event)
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise Invalid("unknown format", fields={"format": "json or csv"})
    limit, offset = page_args()
    if fmt == "csv":
        return Response(invitations.delegations_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="delegations-{event.id}.csv"'})
    return page(rows[offset:offset + limit], len(rows), limit, offset, delegation_to_dict)


@endpoint("/events/<int:event_id>/delegations/invitations", "POST",
          summary="Send the invitation to a delegation and its partner organization's people",
          body=DelegationInvitation, response=InvitationReportOut, access="organizers")
def invite_delegation(event_id: int, body: DelegationInvitation):
    event = get_or_404(Event, event_id, "event")
    return report_to_dict(invitations.invite_delegation(actor(), event, body.organization,
                                                        body.message))


@endpoint("/events/<int:event_id>/reminders", "POST",
          summary="Remind everyone invited who has not answered (once an hour at most)",
          response=RemindersOut, access="organizers")
def send_reminders(event_id: int):
    event = get_or_404(Event, event_id, "event")
    return {"reminded": invitations.send_reminders(actor(), event)}
