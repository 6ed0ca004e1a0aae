"""Events: the list, create, and settings (titles, zone, dates, venue, providers, ...)."""

from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import available_timezones

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from integrations.registry import PROVIDERS

from ...api.schemas import EventCreate, EventUpdate, changes, texts
from ...errors import DomainError
from ...models import Event
from ...services import events as event_service
from ...services.common import NOT_ZONES
from ...services.providers import available_providers
from . import bp
from .forms import FormError, field_errors, form, optional_int, validate
from .forms import texts as form_texts

EVENT_FORM_FIELDS = ("slug", "timezone", "start_date", "end_date", "venue", "default_provider",
                     "fallback_provider", "join_window_minutes")


@cache
def zones() -> list[str]:
    """The IANA zones an event may use, for the searchable list."""
    return sorted(available_timezones() - NOT_ZONES)


def provider_options(current: str | None = None, *, empty: bool = False) -> list[tuple[str, str]]:
    """The configured providers (and the event's current one), as (name, label)."""
    names = available_providers()
    if current and current not in names:
        names = [*names, current]
    options = [(name, PROVIDERS[name].label if name in PROVIDERS else name) for name in names]
    return [("", _("none"))] + options if empty else options


def _values(event: Event | None, posted: MultiDict) -> dict[str, Any]:
    """What the form shows: the posted values, else the event's."""
    if posted:
        values: dict[str, Any] = {name: posted.get(name, "") for name in EVENT_FORM_FIELDS}
        values["title"], values["description"] = (form_texts(posted, "title"),
                                                  form_texts(posted, "description"))
        values["published"] = "published" in posted
        return values
    if event is None:
        return {"timezone": "Europe/Moscow", "default_provider": "jitsi",
                "join_window_minutes": 15, "title": {}, "description": {}, "published": False}
    values = {name: getattr(event, name) for name in EVENT_FORM_FIELDS}
    values.update(title=event.title or {}, description=event.description or {},
                  published=event.published)
    return values


def _data(posted: MultiDict) -> dict[str, Any]:
    """The posted form in the API's shape (empty fields left out, so defaults apply)."""
    data: dict[str, Any] = {name: posted.get(name, "").strip() for name in EVENT_FORM_FIELDS}
    data["join_window_minutes"] = optional_int(data["join_window_minutes"])
    data["fallback_provider"] = data["fallback_provider"] or None
    data = {k: v for k, v in data.items() if v not in ("", None) or k == "fallback_provider"}
    data["title"], data["description"] = (form_texts(posted, "title"),
                                          form_texts(posted, "description"))
    data["published"] = "published" in posted
    return data


def _render(template: str, event: Event | None, errors: dict[str, str], status: int = 200):
    values = _values(event, form())
    return render_template(
        template, event=event, values=values, errors=errors, zones=zones(),
        providers=provider_options(values.get("default_provider")),
        fallbacks=provider_options(values.get("fallback_provider"), empty=True),
    ), status


@bp.get("")
def events():
    """Every event, with its dates and whether it is published."""
    items, _total = event_service.list_events(g.user, 500, 0)
    return render_template("manage/events.html", events=items)


@bp.route("/events/new", methods=["GET", "POST"])
def event_new():
    """Create an event; then on to its halls."""
    if request.method == "GET":
        return _render("manage/event_form.html", None, {})
    try:
        body = validate(EventCreate, _data(request.form))
        data = body.model_dump()
        data["title"], data["description"] = texts(body.title), texts(body.description)
        event = event_service.create_event(g.user, data)
    except FormError as error:
        return _render("manage/event_form.html", None, error.fields, 422)
    except DomainError as error:
        return _render("manage/event_form.html", None, field_errors(error), error.status)
    flash(_("The event is created. Now add its halls."))
    return redirect(url_for("manage.rooms", event_id=event.id), code=303)


@bp.route("/events/<int:event_id>", methods=["GET", "POST"])
def event_settings(event_id: int):
    """An event's settings: titles, descriptions, zone, dates, venue, providers, publishing."""
    event = event_service.get_event(g.user, event_id)
    if request.method == "GET":
        return _render("manage/event_form.html", event, {})
    try:
        body = validate(EventUpdate, _data(request.form))
        event_service.update_event(g.user, event, changes(body))
    except FormError as error:
        return _render("manage/event_form.html", event, error.fields, 422)
    except DomainError as error:
        return _render("manage/event_form.html", event, field_errors(error), error.status)
    flash(_("Saved."))
    return redirect(url_for("manage.event_settings", event_id=event.id), code=303)


@bp.post("/events/<int:event_id>/publish")
def event_publish(event_id: int):
    """Publish the event (its programme becomes public) or take it back."""
    event = event_service.get_event(g.user, event_id)
    published = request.form.get("published") == "1"
    event_service.update_event(g.user, event, {"published": published})
    flash(_("The event is published.") if published else _("The event is not published."))
    return redirect(request.form.get("back") == "list" and url_for("manage.events")
                    or url_for("manage.event_settings", event_id=event.id), code=303)
