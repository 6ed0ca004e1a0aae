"""A participant's own actions on their agenda page: choose sessions, answer the invitation,
and for an ``official``, invite people of their delegation and its partner organization."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..errors import DomainError, Forbidden, Invalid
from ..models import ATTENDANCE, Participant
from ..services import agenda, invitations
from ..services import sessions as session_service
from ..services.access import find_participant_by_token
from ..services.common import MAX_ID
from . import bp, labels, render_participant_home


def _participant(token: str) -> Participant:
    participant = find_participant_by_token(token)
    if participant is None:
        abort(404)
    return participant


def _home(participant: Participant, anchor: str = ""):
    return redirect(url_for("web.participant_home", token=participant.token) + anchor, code=303)


@bp.post("/p/<token>/agenda")
def agenda_change(token: str):
    """Add a session to the agenda or take it off (``action`` = add | remove)."""
    participant = _participant(token)
    action = request.form.get("action")
    raw = request.form.get("session_id", "")
    if action not in ("add", "remove") or not raw.isascii() or not raw.isdigit() \
            or int(raw) > MAX_ID:
        abort(400)
    try:
        event_session = session_service.get_session(participant, int(raw))
        if action == "add":
            agenda.add_to_agenda(participant, participant, event_session)
            flash(_("Added to your agenda."))
        else:
            agenda.remove_from_agenda(participant, participant, event_session)
            flash(_("Removed from your agenda."))
    except DomainError as error:
        flash(_("Not done: %(reason)s", reason=labels.error_text(error.status)), "error")
    return _home(participant, "#agenda")


@bp.post("/p/<token>/invitation")
def invitation(token: str):
    """Accept or decline the invitation, and choose in person or remote."""
    participant = _participant(token)
    status = request.form.get("status")
    attendance = request.form.get("attendance") or None
    if status not in invitations.ANSWERS or attendance not in (None, *ATTENDANCE):
        abort(400)
    invitations.answer_invitation(participant, participant, status, attendance)
    flash(_("Thank you, your answer is saved."))
    return _home(participant, "#invitation")


def delegation_context(participant: Participant, *, values: dict | None = None,
                       errors: dict | None = None) -> dict[str, Any]:
    """What the agenda page shows an official: the invitation form and their delegation."""
    event = participant.event
    context: dict[str, Any] = {"attendance_labels": labels.attendance_labels(),
                               "official": invitations.is_official(participant, event)}
    if context["official"]:
        names = invitations.delegation_names(participant)
        context.update(
            delegation_names=names, organization_options=[(name, name) for name in names],
            delegation=invitations.delegation_members(participant, event, names[0]),
            roles=labels.role_labels(), languages=labels.language_labels(),
            invitation_labels=labels.invitation_labels(),
            message_max=invitations.MESSAGE_MAX,
            values=values or {"language": participant.language, "role": "delegate"},
            errors=errors or {})
    return context


@bp.post("/p/<token>/invitations")
def invite(token: str):
    """An official invites someone of their organization or of its partner organization."""
    participant = _participant(token)
    fields = ("name", "email", "organization", "language", "role")
    values = {name: request.form.get(name, "") for name in fields}
    message = request.form.get("message", "").strip()
    try:
        report = invitations.invite(participant, participant.event, [values], message)
    except Forbidden:
        abort(403)  # not an official, or an organization the form does not offer
    except Invalid as error:
        if "message" in error.fields:
            errors = {"message": _("The message is too long.")}
        else:
            field = _invitee_field(values)
            errors = {field: labels.invitee_error(field)}
        return render_participant_home(participant, 422, values={**values, "message": message},
                                       errors=errors)
    if report.rejected:  # an address of someone in another delegation
        return render_participant_home(participant, 422, values={**values, "message": message},
                                       errors={"email": labels.invitee_error("participant")})
    if report.mailed:
        flash(ngettext("Invitation sent to %(num)s person.", "Invitation sent to %(num)s people.",
                       report.mailed))
    else:
        flash(_("This person had already been invited."))
    return _home(participant, "#delegation")


def _invitee_field(values: dict[str, str]) -> str:
    """The field a refused invitee is wrong in."""
    try:
        invitations.check_entry(values)
    except invitations.EntryError as error:
        return error.field
    return "email"
