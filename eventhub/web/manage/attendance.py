"""Attendance: expected remote, opened the link, present, per session and per delegation."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, g, render_template, request
from flask_babel import get_locale

from ...models import Event
from ...services import attendance
from ...services.common import get_or_404
from . import bp


@bp.get("/events/<int:event_id>/attendance", endpoint="attendance")
def attendance_page(event_id: int):
    """Who came, compared with whom we expected; ``?format=csv`` for a spreadsheet."""
    event = get_or_404(Event, event_id, "event")
    result = attendance.report(g.user, event, str(get_locale() or "en"))
    if request.args.get("format") == "csv":
        return Response(attendance.report_csv(result), mimetype="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="{event.slug}-attendance.csv"'})
    counting = attendance.refresh_counts(event)
    return render_template("manage/attendance.html", event=event, report=result,
                           counting=counting, tz=ZoneInfo(event.timezone))

