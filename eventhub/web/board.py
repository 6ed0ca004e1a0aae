"""The operations board (``/console``): one day of an event as a timeline, a row per hall.

Moderators see the sessions they moderate, organizers all of them and the whole-event switch.
Every action calls the same service as the REST API and ``/live``: the page's script sends
them over Socket.IO, and these CSRF-protected POST forms are the same actions without
JavaScript. Ending, cancelling and whole-event switches are confirmed first: in place by the
script, or on a confirmation page when a form posts without ``confirmed``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response

from integrations.registry import PROVIDERS

from ..errors import DomainError, Invalid
from ..extensions import db
from ..models import MODES, Event, Mode, Participant, Room, Session, Status, User, utcnow
from ..models.sessions import FINISHED, VIDEO_MODES
from ..services import access, attendance, hosts, joining, switching
from ..services import events as event_service
from ..services import sessions as session_service
from ..services.common import pick_text
from ..services.providers import available_providers
from ..services.sessions import TRANSITIONS
from . import bp, is_local_path, labels, render_error

#: Status changes that cannot be undone from the board: asked for confirmation first.
CONFIRMED_STATUSES = (Status.ENDED, Status.CANCELLED)
VIEWS = ("all", "now", "problems")


def _signed_in() -> User | Response:
    """The signed-in user, or a redirect to the sign-in page."""
    if g.user is None:
        return redirect(url_for("web.login", next=request.path))
    return g.user


def _safe_back() -> str:
    """The board page (with its filters) a form came from, or the plain board."""
    target = request.values.get("back", "").split("#", 1)[0]
    if target.startswith("/console?") and is_local_path(target):
        return target
    return url_for("web.console")


def _back(event_session: Session | None = None) -> Response:
    """Back to the board where the user was, at the session's card."""
    anchor = f"#s{event_session.id}" if event_session is not None else ""
    return redirect(_safe_back() + anchor, code=303)


def _flash_error(error: DomainError) -> None:
    flash(_("Not done: %(reason)s", reason=labels.error_text(error.status)), "error")


# -- what a whole-event switch will do, in words --------------------------------------------------


def event_switch_lines(preview: switching.EventSwitchPreview) -> list[str]:
    """The confirmation's sentences, e.g. "31 sessions move online." "4 are over and stay"."""
    moving, over = len(preview.moving), len(preview.over)
    unchanged, retried = len(preview.unchanged), len(preview.retried)
    move = {
        Mode.ONLINE: ngettext("%(num)s session moves online.",
                              "%(num)s sessions move online.", moving),
        Mode.HYBRID: ngettext("%(num)s session becomes hybrid.",
                              "%(num)s sessions become hybrid.", moving),
        Mode.IN_PERSON: ngettext("%(num)s session moves back in person; its video room is "
                                 "deleted.", "%(num)s sessions move back in person; their "
                                 "video rooms are deleted.", moving),
    }[preview.mode]
    lines = [move]
    if over:
        lines.append(ngettext("%(num)s session is over and stays as it is.",
                              "%(num)s sessions are over and stay as they are.", over))
    if unchanged:
        lines.append(ngettext("%(num)s session is %(mode)s already.",
                              "%(num)s sessions are %(mode)s already.", unchanged,
                              mode=labels.mode_text(preview.mode)))
    if retried:
        lines.append(ngettext("%(num)s failed video room is tried again.",
                              "%(num)s failed video rooms are tried again.", retried))
    return lines


def event_switch_button(preview: switching.EventSwitchPreview) -> str:
    """The confirming button, naming the number of sessions that move."""
    return ngettext("Yes, move %(num)s session", "Yes, move %(num)s sessions",
                    len(preview.moving))


# -- what the board shows ------------------------------------------------------------------------


@dataclass
class HallRow:
    """One row of the timeline: a hall (or "no hall") and its sessions of the day."""

    room_id: int | None
    name: str
    sessions: list[Session] = field(default_factory=list)


@dataclass
class Board:
    """Everything the board template needs for one event and one day."""

    event: Event
    day: date
    days: list[date]
    rows: list[HallRow]
    halls: list[Room]
    hall: int | None
    view: str
    span: tuple[datetime, datetime]  # the timeline's first and last instant
    hours: list[datetime]
    scope: list[Session]  # every session of the event this user may drive (for the summary)
    summary: dict[str, int]


def is_problem(event_session: Session, now: datetime) -> bool:
    """Needs the moderators' attention: a failed room, a delay, or video without a room."""
    if event_session.is_over(now):
        return False
    room = event_session.video_room
    state = room.state if room is not None else None
    if state == "failed" or event_session.status == Status.DELAYED:
        return True
    return event_session.has_video and state in (None, "deleted")


def now_and_next(sessions: list[Session], now: datetime) -> set[int]:
    """Per hall, the session running now and the next one: their ids."""
    by_hall: dict[int | None, list[Session]] = defaultdict(list)
    for event_session in sessions:
        if not event_session.is_over(now):
            by_hall[event_session.room_id].append(event_session)
    shown: set[int] = set()
    for items in by_hall.values():
        items.sort(key=lambda s: s.expected_starts_at)
        running = [s for s in items if s.status in (Status.LIVE, Status.PAUSED)
                   or s.expected_starts_at <= now]
        upcoming = [s for s in items if s not in running]
        shown.update(s.id for s in running)
        shown.update(s.id for s in upcoming[:1])
    return shown


def summarize(sessions: list[Session], event: Event, now: datetime) -> dict[str, int]:
    """The summary bar: live, with video, rooms by state, remote attendees."""
    rooms = defaultdict(int)
    for event_session in sessions:
        room = event_session.video_room
        if event_session.has_video and room is not None and not event_session.is_finished:
            rooms[room.state] += 1
    remote = db.session.scalar(select(func.count(Participant.id)).where(
        Participant.event_id == event.id, Participant.attendance == "remote")) or 0
    return {
        "live": sum(1 for s in sessions if s.status == Status.LIVE),
        "video": sum(1 for s in sessions if s.has_video and not s.is_over(now)),
        "ready": rooms["ready"], "pending": rooms["pending"], "failed": rooms["failed"],
        "remote": remote,
    }


def _day_of(event_session: Session, tz: ZoneInfo) -> date:
    return event_session.expected_starts_at.astimezone(tz).date()


def _choose_day(raw: str | None, days: list[date], today: date) -> date:
    try:
        chosen = date.fromisoformat(raw) if raw else None
    except ValueError:
        chosen = None
    if chosen in days:
        return chosen
    return today if today in days else days[0]


def _span(sessions: list[Session], day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Whole hours around the day's sessions (9:00-18:00 for an empty day)."""
    if not sessions:
        first = datetime.combine(day, datetime.min.time(), tz) + timedelta(hours=9)
        return first, first + timedelta(hours=9)
    start = min(s.expected_starts_at for s in sessions).astimezone(tz)
    end = max(s.expected_ends_at for s in sessions).astimezone(tz)
    start = start.replace(minute=0, second=0, microsecond=0)
    if end.minute or end.second:
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return start, max(end, start + timedelta(hours=2))


def build_board(user: User, event: Event, args: dict, now: datetime) -> Board:
    """The board of ``event`` for ``user``, filtered by ``args`` (day, hall, view)."""
    tz = ZoneInfo(event.timezone)
    query = session_service.list_sessions(user, event).options(
        selectinload(Session.video_room), selectinload(Session.room))
    if not user.is_organizer:
        query = query.where(Session.moderators.any(User.id == user.id))
    scope = list(db.session.scalars(query))
    days = sorted({_day_of(s, tz) for s in scope} | {
        event.start_date + timedelta(days=n)
        for n in range((event.end_date - event.start_date).days + 1)})
    day = _choose_day(args.get("day"), days, now.astimezone(tz).date())
    of_day = [s for s in scope if _day_of(s, tz) == day]
    view = args.get("view") if args.get("view") in VIEWS else "all"
    halls = sorted(event.rooms, key=lambda r: r.id)  # as the organizer added them
    hall_ids = {r.id for r in halls}
    raw_hall = args.get("hall", "")
    hall = int(raw_hall) if raw_hall.isascii() and raw_hall.isdigit() else None
    hall = hall if hall in hall_ids else None

    shown = of_day
    if view == "now":
        keep = now_and_next(of_day, now)
        shown = [s for s in of_day if s.id in keep]
    elif view == "problems":
        shown = [s for s in of_day if is_problem(s, now)]
    if hall is not None:
        shown = [s for s in shown if s.room_id == hall]

    rows: dict[int | None, HallRow] = {}
    used = {s.room_id for s in of_day}
    for room in halls:  # organizers see every hall; moderators the halls of their sessions
        if (hall is None or room.id == hall) and (user.is_organizer or room.id in used):
            rows[room.id] = HallRow(room.id, room.name)
    for event_session in shown:
        row = rows.get(event_session.room_id)
        if row is None:
            row = rows[event_session.room_id] = HallRow(event_session.room_id, "")
        row.sessions.append(event_session)
    start, end = _span(of_day, day, tz)
    hours = []
    tick = start
    while tick <= end:
        hours.append(tick)
        tick += timedelta(hours=1)
    summary = {**summarize(scope, event, now), "opened": attendance.remote_opened(event),
               **hosts.day_needs(event, of_day)}
    return Board(event, day, days, list(rows.values()), halls, hall, view, (start, end), hours,
                 scope, summary)


def _board_events(user: User) -> list[Event]:
    """The events on this user's board: all for an organizer, else those they moderate in."""
    if user.is_organizer:
        events, _total = event_service.list_events(user, 500, 0)
        return events
    ids = db.session.scalars(select(Session.event_id).where(
        Session.moderators.any(User.id == user.id)).distinct())
    return list(db.session.scalars(select(Event).where(Event.id.in_(list(ids)))
                                   .order_by(Event.start_date, Event.id)))


@bp.get("/console")
def console():
    """The operations board of one event (``?event=``), one day (``?day=``), with filters."""
    user = _signed_in()
    if not isinstance(user, User):
        return user
    events = _board_events(user)
    if not events:
        return render_template("board/index.html", board=None, events=[])
    raw = request.args.get("event", "")
    event = next((e for e in events if str(e.id) == raw), None)
    if event is None:
        today = utcnow().date()
        event = next((e for e in events if e.start_date <= today <= e.end_date), events[0])
    now = utcnow()
    board = build_board(user, event, request.args, now)
    return render_template(
        "board/index.html", board=board, events=events,
        providers=[(name, PROVIDERS[name].label) for name in available_providers()],
        provider_labels={name: cls.label for name, cls in PROVIDERS.items()},
        transitions={status: sorted(allowed) for status, allowed in TRANSITIONS.items()},
        modes=(Mode.ONLINE, Mode.HYBRID, Mode.IN_PERSON), confirmed=CONFIRMED_STATUSES,
        finished=sorted(FINISHED), video_modes=sorted(VIDEO_MODES),
        now=now, is_problem=is_problem)


@bp.post("/console/sessions/<int:session_id>/switch")
def console_switch(session_id: int):
    """Switch a session online, hybrid or in person (a failed room's retry is the same)."""
    user = _signed_in()
    if not isinstance(user, User):
        return user
    event_session = session_service.get_session(user, session_id)
    provider = request.form.get("provider") or None
    try:
        switching.switch_session(event_session, request.form.get("mode", ""), provider,
                                 actor=user)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(_("%(title)s: %(mode)s.", title=_title(event_session),
                mode=labels.mode_text(event_session.mode)))
    return _back(event_session)


@bp.post("/console/sessions/<int:session_id>/status")
def console_status(session_id: int):
    """Go live, pause, end, delay or cancel a session; ending and cancelling are confirmed."""
    user = _signed_in()
    if not isinstance(user, User):
        return user
    event_session = session_service.get_session(user, session_id)
    status = request.form.get("status", "")
    if status in CONFIRMED_STATUSES and request.form.get("confirmed") != "1":
        access.require_moderator(user, event_session)
        return render_template("board/confirm_status.html", s=event_session, status=status,
                               back=_safe_back())
    try:
        minutes = None
        if status == Status.DELAYED:
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


def _event_switch_mode(event_id: int) -> tuple[User, Event, str]:
    """The organizer, the event and the asked mode of a whole-event switch (401, then 404 for
    an event the user may not see, then 403, then 400)."""
    access.require_authenticated(g.user)
    event = event_service.get_event(g.user, event_id)
    access.require_organizer(g.user)
    mode = request.values.get("mode", Mode.ONLINE)
    if mode not in MODES:
        abort(400)
    return g.user, event, mode


@bp.route("/console/events/<int:event_id>/switch", methods=["GET", "POST"])
def console_event_switch(event_id: int):
    """Switch a whole event: a page naming what will happen, then the switch itself."""
    user = _signed_in()
    if not isinstance(user, User):
        return user
    user, event, mode = _event_switch_mode(event_id)
    if request.method == "GET":
        preview = switching.preview_event_switch(event, mode, utcnow())
        return render_template("board/event_switch.html", event=event, mode=mode,
                               lines=event_switch_lines(preview),
                               confirm=event_switch_button(preview), back=_safe_back())
    moved = switching.switch_event(event, mode, actor=user)
    flash(ngettext("%(num)s session moved: %(mode)s.", "%(num)s sessions moved: %(mode)s.",
                   len(moved), mode=labels.mode_text(mode)))
    return _back()


@bp.get("/console/events/<int:event_id>/preview")
def console_event_preview(event_id: int):
    """What a whole-event switch would do now, as JSON, for the board's confirmation."""
    try:
        _user, event, mode = _event_switch_mode(event_id)
    except DomainError as error:
        return jsonify(error.to_dict()), error.status
    preview = switching.preview_event_switch(event, mode, utcnow())
    response = jsonify({
        "event_id": event.id, "mode": mode, "moving": len(preview.moving),
        "over": len(preview.over), "unchanged": len(preview.unchanged),
        "retried": len(preview.retried), "lines": event_switch_lines(preview),
        "confirm": event_switch_button(preview)})
    response.headers["Cache-Control"] = "no-store"
    return response


def _moderated(session_id: int) -> Session:
    """The session, for its moderators and organizers only (401/403/404 otherwise)."""
    event_session = session_service.get_session(g.user, session_id)
    access.require_moderator(g.user, event_session)
    return event_session


@bp.get("/console/sessions/<int:session_id>/room")
def console_room(session_id: int):
    """The video room's state and error, as JSON, for the board's script."""
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
    url = joining.host_link(g.user, _moderated(session_id))
    if url is None:
        return render_error(409, "the video room is not ready")
    response = redirect(url, code=302)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _title(event_session: Session) -> str:
    return pick_text(event_session.title, str(get_locale()))
