"""Thin ``/calendars/*`` routes: services.feeds -> calendars -> a revalidatable response.

Also the template helpers for subscribe and "add to calendar" links. They only build URLs;
EventHub never sends a request to Google or Microsoft.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Flask, Response, g, request

from calendars.build import location_text

from .models import Event, Session
from .services import feeds

bp = Blueprint("feeds", __name__, url_prefix="/calendars")

MAX_AGE = 300  # seconds a calendar client or proxy may reuse a feed before revalidating
GOOGLE_URL = "https://calendar.google.com/calendar/render"
OUTLOOK_URL = "https://outlook.live.com/calendar/0/action/compose"


def _viewer() -> Any:
    """The signed-in user or participant of the browser session (calendar apps: anonymous)."""
    return g.get("user") or g.get("participant")


def _respond(feed: feeds.Feed) -> Response:
    """The feed with its validators; 304 when the client's copy is current."""
    response = Response(feed.body, content_type="text/calendar; charset=utf-8")
    response.headers["ETag"] = feed.etag
    response.last_modified = feed.last_modified
    response.cache_control.max_age = MAX_AGE
    if feed.shared:
        response.cache_control.public = True
    else:
        response.cache_control.private = True
    # Inline by default so that webcal:// subscriptions and "open in calendar" work; a
    # download button asks for an attachment.
    disposition = "attachment" if request.args.get("download") == "1" else "inline"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{feed.filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response.make_conditional(request)


@bp.get("/events/<int:event_id>.ics")
def event_feed(event_id: int) -> Response:
    """The public programme of an event (anyone, for a published event)."""
    return _respond(feeds.get_public_feed_by_id(_viewer(), event_id, request.args.get("lang", "")))


@bp.get("/sessions/<int:session_id>.ics")
def session_feed(session_id: int) -> Response:
    """One session (anyone, for a published event)."""
    return _respond(
        feeds.get_session_feed_by_id(_viewer(), session_id, request.args.get("lang", "")))


@bp.get("/p/<token>.ics")
def personal_feed(token: str) -> Response:
    """A participant's agenda with their join links; the secret token is the credential."""
    return _respond(feeds.get_personal_feed(token, request.args.get("lang")))


# -- template helpers --------------------------------------------------------------------------


def webcal_url(http_url: str) -> str:
    """The ``webcal://`` form of a feed URL, which calendar apps open as a subscription."""
    parts = urlsplit(http_url)
    return parts._replace(scheme="webcal").geturl()


def _language(language: str | None) -> str:
    """The requested language, else the page's locale."""
    if language:
        return feeds.feed_language(language)
    from flask_babel import get_locale

    return feeds.feed_language(str(get_locale() or "en"))


def _details(item: Any) -> str:
    """The description plus the public session page (never a join or host link)."""
    parts = [item.description.strip()] if item.description.strip() else []
    if item.page is not None:
        parts.append(item.page.url)
    return "\n\n".join(parts)


def _utc(instant: datetime, pattern: str) -> str:
    """An aware instant formatted in UTC."""
    return instant.astimezone(UTC).strftime(pattern)


def event_feed_url(event: Event, language: str | None = None) -> str:
    """The public programme feed's absolute URL (on EVENTHUB_BASE_URL)."""
    url = f"{feeds.base_url()}/calendars/events/{event.id}.ics"
    return f"{url}?lang={feeds.feed_language(language)}" if language else url


def session_feed_url(event_session: Session, language: str | None = None) -> str:
    """A one-session feed's absolute URL (on EVENTHUB_BASE_URL)."""
    url = f"{feeds.base_url()}/calendars/sessions/{event_session.id}.ics"
    return f"{url}?lang={feeds.feed_language(language)}" if language else url


def google_calendar_url(event_session: Session, language: str | None = None) -> str:
    """An "add to Google Calendar" link for a session (times in UTC)."""
    lang = _language(language)
    item = feeds.public_feed_session(event_session, lang)
    stamp = "%Y%m%dT%H%M%SZ"
    query = {
        "action": "TEMPLATE",
        "text": item.title,
        "dates": f"{_utc(item.starts_at, stamp)}/{_utc(item.ends_at, stamp)}",
        "details": _details(item),
        "location": location_text(item, feeds.LABELS[lang]["online"]),
    }
    return f"{GOOGLE_URL}?{urlencode(query)}"


def outlook_calendar_url(event_session: Session, language: str | None = None) -> str:
    """An "add to Outlook" link for a session (ISO 8601 times in UTC)."""
    lang = _language(language)
    item = feeds.public_feed_session(event_session, lang)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    query = {
        "subject": item.title,
        "startdt": _utc(item.starts_at, iso),
        "enddt": _utc(item.ends_at, iso),
        "body": _details(item),
        "location": location_text(item, feeds.LABELS[lang]["online"]),
    }
    return f"{OUTLOOK_URL}?{urlencode(query)}"


def calendar_helpers() -> dict[str, Any]:
    """The link builders every template can call."""
    return {
        "webcal_url": webcal_url,
        "event_feed_url": event_feed_url,
        "session_feed_url": session_feed_url,
        "google_calendar_url": google_calendar_url,
        "outlook_calendar_url": outlook_calendar_url,
    }


def init_app(app: Flask) -> None:
    """Register the ``/calendars`` routes and the template helpers (idempotent)."""
    if "feeds" in app.blueprints:
        return
    app.register_blueprint(bp)
    app.context_processor(calendar_helpers)
