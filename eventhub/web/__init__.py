"""HTML pages: programme, session page, participant agenda, sign-in, join links, console.

Views parse input, call services and render ``templates/``; they never write models.
"""

from __future__ import annotations

from collections import defaultdict
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..errors import DomainError
from ..extensions import db
from ..models import Event, Participant, Session, User
from ..services import access, agenda, joining, users
from ..services import events as event_service
from ..services import sessions as session_service
from ..services.access import find_participant_by_token
from ..services.common import pick_text

bp = Blueprint("web", __name__)


class LoginForm(FlaskForm):
    """Organizer and moderator sign-in (CSRF-protected)."""

    email = EmailField("email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=1000)])


class LogoutForm(FlaskForm):
    """An empty form: sign-out is a POST with a CSRF token."""


@bp.before_app_request
def load_visitor() -> None:
    """Who is browsing: a signed-in user and/or a participant who opened their link."""
    g.user = db.session.get(User, session["user_id"]) if session.get("user_id") else None
    g.participant = None
    if session.get("participant_id"):
        participant = db.session.get(Participant, session["participant_id"])
        # A revoked or rotated token ends the browser session too.
        if participant is not None and access.digest(participant.token) == session.get("ptd"):
            g.participant = participant
        else:
            session.pop("participant_id", None)


@bp.app_context_processor
def template_helpers() -> dict:
    """Helpers every template uses."""
    from flask_babel import get_locale

    def text(texts: dict | None) -> str:
        return pick_text(texts, str(get_locale()))

    return {"text": text, "logout_form": LogoutForm(), "locale": str(get_locale())}


def render_error(status: int, message: str):
    """An error page in the visitor's language."""
    return render_template("error.html", status=status, message=message), status


def viewer() -> User | Participant | None:
    """The actor for access checks: the signed-in user, else the participant, else anonymous."""
    return g.user or g.participant


@bp.get("/")
def index():
    """The published events; straight to the programme when there is only one."""
    events, _total = event_service.list_events(viewer(), 100, 0)
    if len(events) == 1:
        return redirect(url_for("web.programme", slug=events[0].slug))
    return render_template("programme/index.html", events=events)


def days_and_halls(event: Event, sessions: list[Session]) -> list[tuple]:
    """Sessions grouped by local day, then by hall, for the programme page."""
    tz = ZoneInfo(event.timezone)
    days: dict = defaultdict(lambda: defaultdict(list))
    for event_session in sessions:
        day = event_session.starts_at.astimezone(tz).date()
        hall = event_session.room.name if event_session.room else ""
        days[day][hall].append(event_session)
    return [(day, sorted(halls.items())) for day, halls in sorted(days.items())]


@bp.get("/events/<slug>")
def programme(slug: str):
    """The whole programme of an event, by day and hall."""
    event = event_service.find_event_by_slug(slug)
    if event is None:
        abort(404)
    access.require_view_event(viewer(), event)
    sessions = list(db.session.scalars(session_service.list_sessions(viewer(), event)))
    return render_template("programme/event.html", event=event,
                           days=days_and_halls(event, sessions), tz=ZoneInfo(event.timezone))


@bp.get("/sessions/<int:session_id>")
def session_page(session_id: int):
    """One session; a participant of the event sees their join link when it is open."""
    event_session = session_service.get_session(viewer(), session_id)
    participant = g.participant if (
        g.participant is not None and g.participant.event_id == event_session.event_id) else None
    decision = joining.decide(participant, event_session) if participant else None
    return render_template("programme/session.html", s=event_session, event=event_session.event,
                           participant=participant, decision=decision,
                           tz=ZoneInfo(event_session.event.timezone))


@bp.get("/join/<int:session_id>")
def join(session_id: int):
    """A participant's personal join link: 302 to the provider inside the window, else a page."""
    event_session = db.session.get(Session, session_id)
    if event_session is None:
        abort(404)
    participant = joining.participant_for_join(request.args.get("t"), event_session)
    decision = joining.decide(participant, event_session)
    if decision.url:
        return redirect(decision.url, code=302)
    return render_template("programme/join_wait.html", s=event_session, decision=decision,
                           participant=participant, tz=ZoneInfo(event_session.event.timezone))


@bp.get("/p/<token>")
def participant_home(token: str):
    """A participant's agenda; opening it signs the participant in for the session pages."""
    participant = find_participant_by_token(token)
    if participant is None:
        abort(404)
    session["participant_id"] = participant.id
    session["ptd"] = access.digest(participant.token)
    g.participant = participant
    chosen = agenda.list_agenda(participant, participant)
    return render_template("agenda/participant.html", participant=participant,
                           event=participant.event, sessions=chosen,
                           tz=ZoneInfo(participant.event.timezone))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign-in for organizers and moderators."""
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = users.check_password(form.email.data, form.password.data)
        except DomainError:
            error = _("Wrong e-mail or password.")
        else:
            session.clear()
            session["user_id"] = user.id
            target = request.args.get("next", "")
            # Only local paths: never an open redirect.
            if not target.startswith("/") or target.startswith("//"):
                target = url_for("web.console")
            return redirect(target)
    status = 401 if error else (400 if form.errors else 200)
    return render_template("auth/login.html", form=form, error=error), status


@bp.post("/logout")
def logout():
    """Sign out (a CSRF-protected POST)."""
    if LogoutForm().validate_on_submit():
        session.clear()
        flash(_("You are signed out."))
    return redirect(url_for("web.index"))


@bp.get("/console")
def console():
    """The moderator console: the sessions this user moderates (all for an organizer)."""
    if g.user is None:
        return redirect(url_for("web.login", next=request.path))
    query = select(Session).order_by(Session.starts_at)
    if not g.user.is_organizer:
        query = query.where(Session.moderators.any(User.id == g.user.id))
    sessions = list(db.session.scalars(query))
    return render_template("console/index.html", sessions=sessions)
