"""The moderator console: session status and mode, whole-event switch, rooms and host links.

Every action calls the same service as the REST API and ``/live``; the page's script sends
them over Socket.IO, and these POST forms are the same actions without JavaScript.
"""

from __future__ import annotations

from collections import defaultdict

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..errors import DomainError, Invalid
from ..extensions import db
from ..models import MODES, Event, Session, User
from ..services import access, provisioning, switching
from ..services import events as event_service
from ..services import sessions as session_service
from ..services.common import pick_text
from ..services.sessions import TRANSITIONS
from . import bp, labels, render_error


def _signed_in() -> User | Response:
    """The signed-in user, or a redirect to the sign-in page."""
    if g.user is None:
        return redirect(url_for("web.login", next=request.path))
    return g.user


def _back(event_session: Session | None = None) -> Response:
    anchor = f"#s{event_session.id}" if event_session is not None else ""
    return redirect(url_for("web.console") + anchor, code=303)


def _flash_error(error: DomainError) -> None:
    flash(_("Not done: %(reason)s", reason=labels.error_text(error.status)), "error")


def moving_count(event: Event, mode: str) -> int:
    """How many sessions a whole-event switch to ``mode`` moves (not over, in another mode)."""
    return sum(1 for s in event.sessions
               if s.status not in ("ended", "cancelled") and s.mode != mode)


@bp.get("/console")
def console():
    """The sessions this user moderates (all for an organizer), grouped by event."""
    user = _signed_in()
    if not isinstance(user, User):
        return user
    query = select(Session).order_by(Session.starts_at, Session.id)
    if not user.is_organizer:
        query = query.where(Session.moderators.any(User.id == user.id))
    by_event: dict[int, list[Session]] = defaultdict(list)
    for event_session in db.session.scalars(query):
        by_event[event_session.event_id].append(event_session)
    if user.is_organizer:
        events, _total = event_service.list_events(user, 500, 0)
    else:
        events = [db.session.get(Event, event_id) for event_id in by_event]
    groups = [(event, by_event.get(event.id, [])) for event in events]
    transitions = {status: sorted(allowed) for status, allowed in TRANSITIONS.items()}
    return render_template("console/index.html", groups=groups, transitions=transitions,
                           moving_count=moving_count)


@bp.post("/console/sessions/<int:session_id>/switch")
def console_switch(session_id: int):
    """Switch a session online, hybrid or in person (a failed room's retry is the same)."""
    user = _signed_in()
    if not isinstance(user, User):
        return user
    event_session = session_service.get_session(user, session_id)
    try:
        switching.switch_session(event_session, request.form.get("mode", ""), actor=user)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(_("%(title)s: %(mode)s.", title=_title(event_session),
                mode=labels.mode_text(event_session.mode)))
    return _back(event_session)


@bp.post("/console/sessions/<int:session_id>/status")
def console_status(session_id: int):
    """Go live, pause, end, delay or cancel a session."""
    user = _signed_in()
    if not isinstance(user, User):
        return user
    event_session = session_service.get_session(user, session_id)
    status = request.form.get("status", "")
    try:
        minutes = None
        if status == "delayed":
            raw = request.form.get("delay_minutes", "")
            if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 24 * 60:
                raise Invalid("delay", fields={"delay_minutes": "1..1440"})
            minutes = int(raw)
        session_service.set_session_status(user, event_session, status, minutes)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(_("%(title)s: %(status)s.", title=_title(event_session),
                status=labels.status_text(event_session)))
    return _back(event_session)


@bp.route("/console/events/<int:event_id>/switch", methods=["GET", "POST"])
def console_event_switch(event_id: int):
    """Switch a whole event: a page naming how many sessions move, then the switch itself."""
    user = _signed_in()
    if not isinstance(user, User):
        return user
    access.require_organizer(user)
    event = event_service.get_event(user, event_id)
    mode = request.values.get("mode", "online")
    if mode not in MODES:
        abort(400)
    if request.method == "GET":
        return render_template("console/event_switch.html", event=event, mode=mode,
                               count=moving_count(event, mode))
    moved = switching.switch_event(event, mode, actor=user)
    flash(ngettext("%(num)s session moved: %(mode)s.", "%(num)s sessions moved: %(mode)s.",
                   len(moved), mode=labels.mode_text(mode)))
    return _back()


def _moderated(session_id: int) -> Session:
    """The session, for its moderators and organizers only (401/403/404 otherwise)."""
    event_session = session_service.get_session(g.user, session_id)
    access.require_moderator(g.user, event_session)
    return event_session


@bp.get("/console/sessions/<int:session_id>/room")
def console_room(session_id: int):
    """The video room's state and error, as JSON, for the console's script."""
    try:
        event_session = _moderated(session_id)
    except DomainError as error:
        return jsonify(error.to_dict()), error.status
    room = event_session.video_room
    body = {"session_id": event_session.id, "state": room.state if room else None,
            "provider": room.provider if room else None,
            "error": room.last_error if room else None}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/console/sessions/<int:session_id>/host")
def console_host(session_id: int):
    """Redirect a moderator to the provider's host URL; the URL never appears in a page."""
    event_session = _moderated(session_id)
    room = event_session.video_room
    if room is None or room.state != "ready":
        return render_error(409, "the video room is not ready")
    url = provisioning.host_url(room, g.user.name or g.user.email, f"user-{g.user.id}")
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _title(event_session: Session) -> str:
    return pick_text(event_session.title, str(get_locale()))
