"""Programme import over the API: ``POST /events/<id>/import`` with a raw ``.ics`` body."""

from __future__ import annotations

from flask import request

from ..models import Event
from ..services import importing
from ..services.common import get_or_404
from . import actor, body_bytes, endpoint, guards
from .schemas import Out


class RejectedOut(Out):
    """A session of the file that was not imported, and why."""

    uid: str
    reason: str


class ImportReportOut(Out):
    """What an import did: ids created, updated, unchanged; UIDs rejected with reasons."""

    created: list[int]
    updated: list[int]
    unchanged: list[int]
    rejected: list[RejectedOut]
    rooms_created: list[str]
    notes: list[RejectedOut]


@endpoint("/events/<int:event_id>/import", "POST",
          summary="Import a programme from an iCalendar file (raw text/calendar body)",
          response=ImportReportOut, access="organizers",
          query=(("lang", "language of the file's texts: ru, de or en (default en)"),),
          guard=guards.event_organizers, raw_body="text/calendar")
def import_programme(event_id: int):
    """Create or update sessions from the ``.ics`` body; 400 when it is not iCalendar."""
    event = get_or_404(Event, event_id, "event")
    # Not the JSON body parsing of `endpoint`: the body is the file itself (already limited
    # to MAX_CONTENT_LENGTH by the blueprint's before_request).
    data = body_bytes()
    report = importing.import_programme(actor(), event, data, request.args.get("lang", "en"))
    return report.to_dict()
