"""A participant's mail choice: ``/p/<token>/unsubscribe`` (the List-Unsubscribe target).

GET shows the choice; POST applies it. A mail client's one-click POST (RFC 8058, body
``List-Unsubscribe=One-Click``) carries no CSRF token, so the POST is exempt: the secret token
in the path is what authorizes it, and a forged POST would need that token.
"""

from __future__ import annotations

from flask import abort, render_template, request

from ..extensions import csrf
from ..models import Participant
from ..services import mail
from ..services.access import find_participant_by_token
from . import bp


def _participant(token: str) -> Participant:
    participant = find_participant_by_token(token)
    if participant is None:
        abort(404)
    return participant


@bp.get("/p/<token>/unsubscribe")
def unsubscribe_page(token: str):
    """Say what unsubscribing stops (and what it does not), with the button."""
    participant = _participant(token)
    return render_template("agenda/unsubscribe.html", participant=participant,
                           event=participant.event, done=False)


@bp.post("/p/<token>/unsubscribe")
@csrf.exempt
def unsubscribe(token: str):
    """Stop reminders, change notices and join-link mails (``action=resubscribe`` resumes)."""
    participant = _participant(token)
    action = request.form.get("action", "unsubscribe")
    if action not in ("unsubscribe", "resubscribe"):
        abort(400)
    mail.set_mail_opt_out(participant, action == "unsubscribe")
    return render_template("agenda/unsubscribe.html", participant=participant,
                           event=participant.event, done=True)
