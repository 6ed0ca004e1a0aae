"""A participant's own actions on their agenda page: choose sessions, answer the invitation."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from ..errors import DomainError
from ..models import ATTENDANCE, Participant
from ..services import agenda, invitations
from ..services import sessions as session_service
from ..services.access import find_participant_by_token
from . import MAX_ID, bp, labels


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
