"""The organizer's back office (``/manage``): build and run the conference in the browser.

Every page parses a Flask-WTF form (CSRF), validates it with the API's pydantic schemas, calls
the same service function as the REST API and renders ``templates/manage/``. A rejected form is
shown again with the message beside its field, and nothing changes. Organizers only: anyone
else signed in gets 403; nobody signed in is sent to the sign-in page.

One module per area, each adding its routes to :data:`bp`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden

bp = Blueprint("manage", __name__, url_prefix="/manage")

#: The back office's sections, in menu order: (endpoint, label). The menu shows those whose
#: endpoint exists, so a section appears when its module lands.
SECTIONS: tuple[tuple[str, Any], ...] = (
    ("manage.events", _l("Events")),
    ("manage.users", _l("Accounts")),
    ("manage.outbox", _l("Outbox")),
)

#: Per-event sections, shown on every page about one event: (endpoint, label).
EVENT_SECTIONS: tuple[tuple[str, Any], ...] = (
    ("manage.event_settings", _l("Settings")),
    ("manage.rooms", _l("Halls")),
    ("manage.programme", _l("Programme")),
    ("manage.participants", _l("Participants")),
    ("manage.invitations", _l("Invitations")),
    ("manage.attendance", _l("Attendance")),
)


@bp.before_request
def require_organizer():
    """Organizers only; the sign-in page first for anyone not signed in."""
    if g.user is None:
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    if not g.user.is_organizer:
        raise Forbidden("the back office is for organizers")
    return None


@bp.app_context_processor
def manage_menu() -> dict[str, Any]:
    """The sections whose pages exist, for ``templates/manage/base.html``."""
    views = current_app.view_functions
    return {
        "manage_sections": [(e, label) for e, label in SECTIONS if e in views],
        "manage_event_sections": [(e, label) for e, label in EVENT_SECTIONS if e in views],
    }


# Each area's routes (imported for their side effect of registering on ``bp``).
from . import (  # noqa: E402
    attendance,  # noqa: F401
    events,  # noqa: F401
    invitations,  # noqa: F401
    outbox,  # noqa: F401
    participants,  # noqa: F401
    programme,  # noqa: F401
    rooms,  # noqa: F401
    users,  # noqa: F401
)
