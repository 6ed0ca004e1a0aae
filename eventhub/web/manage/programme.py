"""The programme editor: a day x hall grid, and the session form.

Times are shown and entered in the event's time zone (``datetime-local`` fields), whatever the
organizer's browser zone. Creating, editing, moving (a new time or hall), cancelling,
reinstating and deleting call the same services as the REST API, so a change appears live on
open programme pages (``session.updated``) and a conflict is refused with nothing changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from werkzeug.datastructures import MultiDict

from ...api.schemas import SessionCreate, SessionUpdate, changes
from ...errors import DomainError
from ...extensions import db
from ...models import MODES, VIDEO_MODES, Event, Participant, Room, Session, User, utcnow
from ...services import events as event_service
from ...services import sessions as session_service
from ...services import switching
from ...services.common import pick_text
from ...services.providers import check_provider
from .. import formatting, labels
from . import bp
from .forms import (
    FormError,
    field_errors,
    form,
    id_list,
    local_instant,
    local_value,
    optional_int,
    validate,
)
from .forms import texts as form_texts

FIRST_HOUR, LAST_HOUR = 8, 20  # the grid shows at least 08:00-20:00, more if sessions need it
MAX_DAYS = 62  # day tabs shown for very long events
SPEAKER_ROLES = ("speaker", "official")


@dataclass
class Cell:
    """One hour of one hall: the sessions starting in it, and whether the hall is free."""

    sessions: list[Session] = field(default_factory=list)
    free: bool = True
    busy: bool = False  # a session that started earlier runs through this hour


def event_days(event: Event) -> list[date]:
    span = min((event.end_date - event.start_date).days + 1, MAX_DAYS)
    return [event.start_date + timedelta(days=n) for n in range(span)]


def day_grid(event: Event, day: date, sessions: list[Session]) -> dict[str, Any]:
    """The day's hours x halls: which sessions start when, where a slot is free."""
    tz = ZoneInfo(event.timezone)
    today = [s for s in sessions if s.starts_at.astimezone(tz).date() == day]
    halls: list[Room | None] = list(event.rooms)
    if any(s.room_id is None for s in today):
        halls.append(None)  # sessions without a hall get their own column
    first = min([FIRST_HOUR, *(s.starts_at.astimezone(tz).hour for s in today)])
    ends = [s.ends_at.astimezone(tz) for s in today]
    last = max([LAST_HOUR, *((e.hour + (1 if e.minute or e.date() > day else 0))
                             if e.date() == day else 24 for e in ends)])
    rows = []
    for hour in range(first, min(last, 24)):
        slot_start = datetime.combine(day, time(hour), tz)
        slot_end = slot_start + timedelta(hours=1)
        cells = []
        for hall in halls:
            cell = Cell()
            hall_id = hall.id if hall is not None else None
            for s in today:
                if s.room_id != hall_id:
                    continue
                if slot_start <= s.starts_at.astimezone(tz) < slot_end:
                    cell.sessions.append(s)
                if s.status != "cancelled" and s.starts_at < slot_end and s.ends_at > slot_start:
                    cell.free = False
                    if s.starts_at < slot_start:
                        cell.busy = True
            cells.append(cell)
        rows.append((slot_start, cells))
    return {"halls": halls, "rows": rows, "count": len(today)}


def _day_arg(event: Event, days: list[date]) -> date:
    """``?day=``, else today while the event runs, else its first day."""
    today = utcnow().astimezone(ZoneInfo(event.timezone)).date()
    default = today if today in days else days[0]
    raw = request.args.get("day", "")
    try:
        day = date.fromisoformat(raw) if raw else default
    except ValueError:
        day = default
    return day if day in days else default


@bp.get("/events/<int:event_id>/programme")
def programme(event_id: int):
    """The programme editor: one day's grid of hours x halls, with the day tabs."""
    event = event_service.get_event(g.user, event_id)
    days = event_days(event)
    day = _day_arg(event, days)
    sessions = list(db.session.scalars(session_service.list_sessions(g.user, event)))
    counts = {d: 0 for d in days}
    tz = ZoneInfo(event.timezone)
    for s in sessions:
        local_day = s.starts_at.astimezone(tz).date()
        if local_day in counts:
            counts[local_day] += 1
    return render_template("manage/programme.html", event=event, days=days, day=day,
                           counts=counts, grid=day_grid(event, day, sessions), tz=tz,
                           local_value=local_value)


# -- the session form -------------------------------------------------------------------------


def moderator_options(current: list[User]) -> list[tuple[int, str]]:
    """Active moderator accounts, and whoever moderates the session now."""
    users = list(db.session.scalars(
        select(User).where(User.role == "moderator", User.active.is_(True))))
    users += [u for u in current if u not in users]
    return sorted(((u.id, u.name or u.email) for u in users), key=lambda o: o[1].casefold())


def speaker_options(event: Event, current: list[Participant]) -> list[tuple[int, str]]:
    """The event's speakers and officials, and whoever speaks in the session now."""
    people = list(db.session.scalars(
        select(Participant).where(Participant.event_id == event.id,
                                  or_(*(Participant.role == r for r in SPEAKER_ROLES)))
        .order_by(Participant.name)))
    people += [p for p in current if p not in people]
    return [(p.id, f"{p.name} ({p.organization})" if p.organization else p.name)
            for p in people]


def _values(event: Event, s: Session | None, posted: MultiDict) -> dict[str, Any]:
    tz = ZoneInfo(event.timezone)
    if posted:
        return {"title": form_texts(posted, "title"),
                "description": form_texts(posted, "description"),
                "starts_at": posted.get("starts_at", ""), "ends_at": posted.get("ends_at", ""),
                "room_id": posted.get("room_id", ""), "track": posted.get("track", ""),
                "mode": posted.get("mode", ""),
                "moderator_ids": posted.getlist("moderator_ids"),
                "speaker_ids": posted.getlist("speaker_ids")}
    if s is None:  # prefilled from the free slot clicked
        start = request.args.get("starts_at", "")
        end = request.args.get("ends_at", "")
        if start and not end:
            try:
                end = (datetime.fromisoformat(start) + timedelta(hours=1)).strftime(
                    "%Y-%m-%dT%H:%M")
            except ValueError:
                start = ""
        default_mode = event.mode if event.mode != "hybrid" else "in_person"
        return {"title": {}, "description": {}, "starts_at": start, "ends_at": end,
                "room_id": request.args.get("room_id", ""), "track": "", "mode": default_mode,
                "moderator_ids": [], "speaker_ids": []}
    return {"title": s.title or {}, "description": s.description or {},
            "starts_at": local_value(s.starts_at, tz), "ends_at": local_value(s.ends_at, tz),
            "room_id": s.room_id or "", "track": s.track, "mode": s.mode,
            "moderator_ids": [u.id for u in s.moderators],
            "speaker_ids": [p.id for p in s.speakers]}


def _render(event: Event, s: Session | None, errors: dict[str, str], status: int = 200):
    tracks = sorted({x.track for x in event.sessions if x.track})
    return render_template(
        "manage/session_form.html", event=event, s=s, values=_values(event, s, form()),
        errors=errors, room_options=[(r.id, r.name) for r in event.rooms], tracks=tracks,
        modes=labels.mode_labels(),
        moderators=moderator_options(s.moderators if s else []),
        speakers=speaker_options(event, s.speakers if s else []),
        tz=ZoneInfo(event.timezone), transitions=session_service.TRANSITIONS,
    ), status


def _posted(event: Event) -> dict[str, Any]:
    """The form in the API's shape; FormError for times that are not times."""
    posted = request.form
    tz = ZoneInfo(event.timezone)
    data: dict[str, Any] = {
        "title": form_texts(posted, "title"), "description": form_texts(posted, "description"),
        "room_id": optional_int(posted.get("room_id")), "track": posted.get("track", ""),
        "moderator_ids": id_list(posted, "moderator_ids"),
        "speaker_ids": id_list(posted, "speaker_ids"),
    }
    errors = {}
    for name in ("starts_at", "ends_at"):
        try:
            data[name] = local_instant(posted.get(name, ""), tz, name)
        except FormError as error:
            errors.update(error.fields)
    mode = posted.get("mode", "")
    if mode and mode not in MODES:
        errors["mode"] = _("Choose one of the listed values.")
    if errors:
        raise FormError(errors)
    data["mode"] = mode or None
    return data


def _back_to_grid(event_session: Session):
    day = event_session.starts_at.astimezone(ZoneInfo(event_session.event.timezone)).date()
    return redirect(url_for("manage.programme", event_id=event_session.event_id,
                            day=day.isoformat()) + f"#s{event_session.id}", code=303)


RENAME = {"default_provider": "mode", "provider": "mode", "status": "form"}


def session_errors(error: DomainError) -> dict[str, str]:
    """A service's refusal as messages per field; a double booking names the other session."""
    fields = field_errors(error, RENAME)
    clash = re.search(r"overlaps session (\d+)", error.fields.get("room_id", ""))
    other = db.session.get(Session, int(clash.group(1))) if clash else None
    if other is not None:
        tz = ZoneInfo(other.event.timezone)
        fields["room_id"] = _("The hall is booked at this time: “%(title)s”, %(start)s–%(end)s.",
                              title=pick_text(other.title, str(get_locale())),
                              start=formatting.local_time(other.starts_at, tz),
                              end=formatting.local_time(other.ends_at, tz))
    return fields


@bp.route("/events/<int:event_id>/sessions/new", methods=["GET", "POST"])
def session_new(event_id: int):
    """A new session, prefilled from the free slot clicked in the grid."""
    event = event_service.get_event(g.user, event_id)
    if request.method == "GET":
        return _render(event, None, {})
    try:
        body = validate(SessionCreate, _posted(event))
        event_session = session_service.create_session(g.user, event, changes(body))
    except FormError as error:
        return _render(event, None, error.fields, 422)
    except DomainError as error:
        return _render(event, None, session_errors(error), error.status)
    flash(_("Session added."))
    return _back_to_grid(event_session)


@bp.route("/sessions/<int:session_id>", methods=["GET", "POST"])
def session_edit(session_id: int):
    """Edit a session: texts, times (a move), hall, track, mode, moderators, speakers."""
    event_session = session_service.get_session(g.user, session_id)
    event = event_session.event
    if request.method == "GET":
        return _render(event, event_session, {})
    try:
        data = _posted(event)
        tz = ZoneInfo(event.timezone)
        for name in ("starts_at", "ends_at"):  # the form shows minutes: unchanged keeps seconds
            if local_value(data[name], tz) == local_value(getattr(event_session, name), tz):
                data[name] = getattr(event_session, name)
        mode = data.pop("mode") or event_session.mode
        if mode != event_session.mode:  # checked first: a refused switch must change nothing
            if event_session.is_finished:
                raise FormError({"mode": _("Not possible from the session's current status.")})
            if mode in VIDEO_MODES:
                provider = (event_session.video_room.provider if event_session.video_room
                            else event.default_provider)
                check_provider(provider, "mode")
        body = validate(SessionUpdate, data)
        session_service.update_session(g.user, event_session, changes(body))
        if mode != event_session.mode:
            switching.switch_session(event_session, mode, actor=g.user)
    except FormError as error:
        return _render(event, event_session, error.fields, 422)
    except DomainError as error:
        return _render(event, event_session, session_errors(error), error.status)
    flash(_("Saved."))
    return _back_to_grid(event_session)


@bp.get("/sessions/<int:session_id>/cancel")
def session_cancel(session_id: int):
    """Ask before cancelling: participants are told, and the video room is deleted."""
    event_session = session_service.get_session(g.user, session_id)
    if "cancelled" not in session_service.TRANSITIONS[event_session.status]:
        abort(409)
    return render_template("manage/session_confirm.html", s=event_session,
                           event=event_session.event, action="cancel")


@bp.post("/sessions/<int:session_id>/status")
def session_status(session_id: int):
    """Cancel (after the confirmation page) or reinstate a session."""
    event_session = session_service.get_session(g.user, session_id)
    status = request.form.get("status", "")
    if status not in ("cancelled", "scheduled"):
        abort(400)
    try:
        session_service.set_session_status(g.user, event_session, status)
    except DomainError as error:
        flash(labels.error_text(error.status), "error")
        return redirect(url_for("manage.session_edit", session_id=session_id), code=303)
    flash(_("The session is cancelled.") if status == "cancelled"
          else _("The session is reinstated."))
    return _back_to_grid(event_session)


@bp.route("/sessions/<int:session_id>/delete", methods=["GET", "POST"])
def session_delete(session_id: int):
    """Ask, then delete a session for good (cancelling keeps it in the calendars)."""
    event_session = session_service.get_session(g.user, session_id)
    event = event_session.event
    if request.method == "GET":
        return render_template("manage/session_confirm.html", s=event_session, event=event,
                               action="delete")
    day = event_session.starts_at.astimezone(ZoneInfo(event.timezone)).date()
    session_service.delete_session(g.user, event_session)
    flash(_("The session is deleted."))
    return redirect(url_for("manage.programme", event_id=event.id, day=day.isoformat()),
                    code=303)
