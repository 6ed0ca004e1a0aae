"""Thin ``/calendars/*`` routes: services.feeds -> calendars -> a revalidatable response.

The links to these feeds that pages show are built in :mod:`eventhub.web.calendar_links`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, request

from .errors import DomainError
from .extensions import db
from .services import feeds

bp = Blueprint("feeds", __name__, url_prefix="/calendars")

MAX_AGE = 300  # seconds a calendar client or proxy may reuse a feed before revalidating


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


@bp.errorhandler(DomainError)
def feed_error(error: DomainError) -> Response:
    """A refused feed: a short plain-text answer for a calendar app, not an HTML page.

    The HTML error page renders a sign-out form, whose CSRF token starts a cookie session: a
    revoked link would hand its calendar app a cookie.
    """
    db.session.rollback()
    response = Response(f"{error.message}\n", status=error.status,
                        content_type="text/plain; charset=utf-8")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.no_store = True
    return response


@bp.get("/events/<int:event_id>.ics")
def event_feed(event_id: int) -> Response:
    """The public programme of an event (anyone, for a published event)."""
    return _respond(feeds.get_public_feed(_viewer(), event_id, request.args.get("lang")))


@bp.get("/sessions/<int:session_id>.ics")
def session_feed(session_id: int) -> Response:
    """One session (anyone, for a published event)."""
    return _respond(feeds.get_session_feed(_viewer(), session_id, request.args.get("lang")))


@bp.get("/p/<token>.ics")
def personal_feed(token: str) -> Response:
    """A participant's agenda with their join links; the secret token is the credential."""
    return _respond(feeds.get_personal_feed(token, request.args.get("lang")))


def init_app(app: Flask) -> None:
    """Register the ``/calendars`` routes (idempotent)."""
    if "feeds" not in app.blueprints:
        app.register_blueprint(bp)
