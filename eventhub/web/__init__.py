"""HTML pages: programme, session page, participant agenda, sign-in, join links, console.

Views parse input, call services and render ``templates/``; they never write models.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
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
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..errors import DomainError, RateLimited
from ..extensions import db, limiter
from ..models import FINISHED, Event, Participant, Session, User, utcnow
from ..services import access, agenda, attendance, joining, users
from ..services import events as event_service
from ..services import sessions as session_service
from ..services.access import find_participant_by_token, session_participant, session_user
from ..services.common import pick_text
from . import calendar_links, formatting, labels
from .page_cache import cached_programme

bp = Blueprint("web", __name__)
formatting.register(bp)


class LoginForm(FlaskForm):
    """Organizer and moderator sign-in (CSRF-protected)."""

    email = EmailField("email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=1000)])


class LogoutForm(FlaskForm):
    """An empty form: sign-out is a POST with a CSRF token."""


@bp.before_app_request
def load_visitor() -> None:
    """Who is browsing: a signed-in user and/or a participant who opened their link."""
    g.user = session_user()
    g.participant = session_participant()
    if g.participant is None and session.get("participant_id"):
        session.pop("participant_id", None)  # a revoked or rotated link signs the browser out


@bp.app_context_processor
def template_helpers() -> dict[str, Any]:
    """Helpers every template uses."""
    from flask_babel import get_locale

    locale = str(get_locale())

    def text(texts: dict | None) -> str:
        return pick_text(texts, locale)

    def lang_url(code: str) -> str:
        """This page in another language, keeping its other query parameters."""
        if request.method != "GET" or request.endpoint is None:
            return url_for("web.index", lang=code)  # e.g. an error page answering a POST
        args = request.args.to_dict()
        args["lang"] = code
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    return {"text": text, "logout_form": LogoutForm(), "locale": locale, "lang_url": lang_url,
            "track_text": track_text,
            "status_text": labels.status_text, "mode_text": labels.mode_text,
            "room_text": labels.room_text, "absolute_url": absolute_url,
            "join_window_opens": joining.join_window_opens, "script_labels": labels.script_labels,
            "finished_statuses": sorted(FINISHED),
            **calendar_links.calendar_helpers()}


def track_text(event_session: Session) -> str:
    """The session's track in the page's language (its key where no name is given)."""
    from flask_babel import get_locale

    return pick_text(event_session.track_names, str(get_locale())) or event_session.track


def absolute_url(path: str) -> str:
    """A path on this instance's public base URL (for calendar apps, which need absolute URLs)."""
    return current_app.config["EVENTHUB_BASE_URL"] + path


def render_error(status: int, message: str):
    """An error page in the visitor's language.

    ``message`` (a service's English text) is not shown: the page says what the status means.
    """
    return render_template("error.html", status=status, message=labels.error_text(status)), status


def viewer() -> User | Participant | None:
    """The actor for access checks: the signed-in user, else the participant, else anonymous."""
    return g.user or g.participant


def event_participant(event_id: int) -> Participant | None:
    """The browser's participant if they belong to this event."""
    participant = g.participant
    return participant if participant is not None and participant.event_id == event_id else None


@bp.get("/")
def index():
    """The published events; straight to the programme when there is only one."""
    events, _total = event_service.list_events(viewer(), 100, 0)
    if len(events) == 1:  # keep ?lang=: the programme is where the language gets chosen
        lang = request.args.get("lang")
        keep = {"lang": lang} if lang in current_app.config["LANGUAGES"] else {}
        return redirect(url_for("web.programme", slug=events[0].slug, **keep))
    return render_template("programme/index.html", events=events)


def days_and_halls(event: Event, sessions: list[Session]) -> list[tuple]:
    """Sessions grouped by local day, then by hall, for the programme page."""
    tz = ZoneInfo(event.timezone)
    days: dict = defaultdict(lambda: defaultdict(list))
    for event_session in sessions:
        day = event_session.expected_starts_at.astimezone(tz).date()
        hall = event_session.room.name if event_session.room else ""
        days[day][hall].append(event_session)
    return [(day, sorted(halls.items())) for day, halls in sorted(days.items())]


def now_and_next(sessions: list[Session], now: datetime | None = None) -> list[tuple]:
    """Per hall: the session running now (or None) and the next one, for halls with either."""
    now = now or utcnow()
    halls: dict[str, list[Session]] = defaultdict(list)
    for event_session in sessions:
        if not event_session.is_finished:
            halls[event_session.room.name if event_session.room else ""].append(event_session)
    rows = []
    for hall, items in sorted(halls.items()):
        current = next((s for s in items if s.status in ("live", "paused")), None) or next(
            (s for s in items if s.expected_starts_at <= now < s.expected_ends_at), None)
        upcoming = min((s for s in items if s.expected_starts_at > now and s is not current),
                       key=lambda s: s.expected_starts_at, default=None)
        if current or upcoming:
            rows.append((hall, current, upcoming))
    return rows


@bp.get("/events/<slug>")
@cached_programme  # a large programme renders in seconds: kept for anonymous visitors
def programme(slug: str):
    """The whole programme of an event, by day and hall, with an optional track filter."""
    event = event_service.find_event_by_slug(slug)
    if event is None:
        abort(404)
    access.require_view_event(viewer(), event)
    sessions = list(db.session.scalars(session_service.list_sessions(viewer(), event)))
    # (key, name in the page's language): the key filters, the name is shown.
    names = {s.track: s for s in sessions if s.track}
    tracks = sorted(((key, track_text(s)) for key, s in names.items()),
                    key=lambda item: item[1].casefold())
    track = request.args.get("track") or None
    shown = [s for s in sessions if track is None or s.track == track]
    return render_template(
        "programme/event.html", event=event, days=days_and_halls(event, shown), tracks=tracks,
        track=track, now_next=now_and_next(sessions), tz=ZoneInfo(event.timezone),
        participant=event_participant(event.id))


@bp.get("/sessions/<int:session_id>")
def session_page(session_id: int):
    """One session; a participant of the event sees their join link when it is open."""
    event_session = session_service.get_session(viewer(), session_id)
    participant = event_participant(event_session.event_id)
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
        attendance.record_join_open(participant, event_session)
        return redirect(decision.url, code=302)
    return render_template("programme/join_wait.html", s=event_session, event=event_session.event,
                           decision=decision, participant=participant,
                           tz=ZoneInfo(event_session.event.timezone))


@bp.get("/p/<token>")
def participant_home(token: str):
    """A participant's agenda; opening it signs the participant in for the session pages."""
    participant = find_participant_by_token(token)
    if participant is None:
        abort(404)
    session["participant_id"] = participant.id
    session["ptd"] = participant.token_digest
    g.participant = participant
    return render_participant_home(participant)


def render_participant_home(participant: Participant, status: int = 200, **extra: Any):
    """The agenda page; ``extra`` is what a refused form adds (its values and errors)."""
    chosen = agenda.list_agenda(participant, participant)
    chosen_ids = {s.id for s in chosen}
    others = [s for s in participant.event.sessions if s.id not in chosen_ids]
    decisions = {s.id: joining.decide(participant, s) for s in chosen}
    return render_template("agenda/participant.html", participant=participant,
                           event=participant.event, sessions=chosen, others=others,
                           decisions=decisions, tz=ZoneInfo(participant.event.timezone),
                           **agenda_views.delegation_context(participant, **extra)), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT"], methods=["POST"])
def login():
    """Sign-in for organizers and moderators (limited per client; accounts lock out)."""
    form = LoginForm()
    error = None
    retry_after = None
    if form.validate_on_submit():
        try:
            user = users.check_password(form.email.data, form.password.data)
        except RateLimited as exc:
            error = _("Too many failed attempts. Try again in a few minutes.")
            retry_after = exc.retry_after
        except DomainError:
            error = _("Wrong e-mail or password.")
        else:
            lang = session.get("lang")
            session.clear()
            session["user_id"] = user.id
            if lang:
                session["lang"] = lang
            target = request.args.get("next", "")
            if not is_local_path(target):  # never an open redirect
                target = url_for("web.console")
            return redirect(target)
    status = 429 if retry_after else 401 if error else (400 if form.errors else 200)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return render_template("auth/login.html", form=form, error=error), status, headers


def is_local_path(target: str) -> bool:
    """True for a plain absolute path on this site. Browsers drop tabs and newlines and read a
    backslash as a slash, so "/<tab>/evil.example" would leave the site: refuse all of those."""
    if not target.startswith("/") or any(ch <= " " or ch in "\\\x7f" for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and not target.startswith("//")


@bp.post("/logout")
def logout():
    """Sign out (a CSRF-protected POST)."""
    if LogoutForm().validate_on_submit():
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        flash(_("You are signed out."))
    return redirect(url_for("web.index"))


from . import agenda_views, board, mail_views  # noqa: E402,F401  (routes on ``bp``)
