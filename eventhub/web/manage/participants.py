"""Participants: the filtered table, add, edit, delete, rotate a link; CSV import/export.

The table's filters are the REST API's (``role``, ``attendance``, ``invitation_status``,
``organization``, ``q``) through the same service query; ``?format=csv`` exports the filtered
table in the import's format.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from ...api.participants import links
from ...api.schemas import (
    ParticipantCreate,
    ParticipantFilter,
    ParticipantUpdate,
    changes,
)
from ...errors import DomainError
from ...extensions import db
from ...models import ATTENDANCE, INVITATION_STATUSES, PARTICIPANT_ROLES, Event, Participant
from ...services import events as event_service
from ...services import participant_import
from ...services import participants as participant_service
from ...services.common import LANGUAGES, get_or_404, paginate
from ...validation import validate as api_validate
from .. import labels
from ..labels import attendance_labels, language_labels, role_labels
from . import bp
from .forms import FormError, field_errors, form, validate

PAGE_SIZE = 50
FIELDS = ("name", "email", "organization", "partner_organization", "country", "role",
          "attendance", "language")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # spreadsheet formulas (CSV injection)


def invitation_labels() -> dict[str, str]:
    """The back office's names of the invitation states."""
    return labels.invitation_labels(back_office=True)


def choices() -> dict[str, list[tuple[str, str]]]:
    """The options of the selects, in the visitor's language."""
    roles, attendance, invitation = role_labels(), attendance_labels(), invitation_labels()
    return {
        "role": [(r, roles.get(r, r)) for r in PARTICIPANT_ROLES],
        "attendance": [(a, attendance[a]) for a in ATTENDANCE],
        "invitation_status": [(s, invitation[s]) for s in INVITATION_STATUSES],
        "language": [(lang, language_labels()[lang]) for lang in LANGUAGES],
    }


def _participant(participant_id: int) -> Participant:
    participant = get_or_404(Participant, participant_id, "participant")
    event_service.get_event(g.user, participant.event_id)
    return participant


def _filters() -> dict[str, str]:
    """The table's filters from the query string; an invalid one is ignored (shown empty)."""
    raw = {name: request.args.get(name, "").strip() for name in ParticipantFilter.model_fields}
    try:
        return api_validate(ParticipantFilter, raw).model_dump()
    except DomainError as error:
        return {k: ("" if k in error.fields else v) for k, v in raw.items()}


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 10**9 else 1


@bp.get("/events/<int:event_id>/participants")
def participants(event_id: int):
    """The participants, filtered and searched, a page at a time; ``?format=csv`` exports."""
    event = event_service.get_event(g.user, event_id)
    filters = _filters()
    query = participant_service.participants_query(g.user, event, filters)
    if request.args.get("format") == "csv":
        return export_csv(event, db.session.scalars(query))
    number = _page_number()
    items, total = paginate(query, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if number > pages:  # past the end (the list shrank, or a typed number): the last page
        number = pages
        items, total = paginate(query, PAGE_SIZE, (number - 1) * PAGE_SIZE)
    active = {k: v for k, v in filters.items() if v}
    return render_template(
        "manage/participants.html", event=event, items=items, total=total, page=number,
        pages=pages, filters=filters, active=active, choices=choices(),
        org_options=[(o, o) for o in participant_service.organizations(g.user, event)],
        roles=role_labels(), attendance=attendance_labels(), invitation=invitation_labels(),
    )


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def export_csv(event: Event, participants: Any) -> Response:
    """The participants as CSV (UTF-8 with a BOM, for Excel), in the import's columns."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*FIELDS, "invitation_status"])
    for p in participants:
        writer.writerow([_cell(str(getattr(p, name) or "")) for name in
                         (*FIELDS, "invitation_status")])
    filename = f"{event.slug}-participants.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- add and edit -----------------------------------------------------------------------------


def _values(participant: Participant | None) -> dict[str, str]:
    posted = form()
    if posted:
        return {name: posted.get(name, "") for name in (*FIELDS, "invitation_status")}
    if participant is None:
        return {"role": "guest", "attendance": "in_person", "language": "en",
                "invitation_status": "invited"}
    return {name: getattr(participant, name) for name in (*FIELDS, "invitation_status")}


def _render_form(event: Event, participant: Participant | None, errors: dict[str, str],
                 status: int = 200):
    return render_template(
        "manage/participant_form.html", event=event, participant=participant,
        values=_values(participant), errors=errors, choices=choices(),
        links=links(participant) if participant else None,
    ), status


def _posted() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in (*FIELDS, "invitation_status")}


@bp.route("/events/<int:event_id>/participants/new", methods=["GET", "POST"])
def participant_new(event_id: int):
    """Add a participant (no mail is sent: invitations do that)."""
    event = event_service.get_event(g.user, event_id)
    if request.method == "GET":
        return _render_form(event, None, {})
    try:
        body = validate(ParticipantCreate, _posted())
        participant = participant_service.create_participant(g.user, event, body.model_dump())
    except FormError as error:
        return _render_form(event, None, error.fields, 422)
    except DomainError as error:
        return _render_form(event, None, field_errors(error), error.status)
    flash(_("%(name)s is added.", name=participant.name))
    return redirect(url_for("manage.participant_edit", participant_id=participant.id), code=303)


@bp.route("/participants/<int:participant_id>", methods=["GET", "POST"])
def participant_edit(participant_id: int):
    """A participant: edit, see and copy their personal link, rotate it, delete them."""
    participant = _participant(participant_id)
    event = participant.event
    if request.method == "GET":
        return _render_form(event, participant, {})
    try:
        body = validate(ParticipantUpdate, _posted())
        participant_service.update_participant(g.user, participant, changes(body))
    except FormError as error:
        return _render_form(event, participant, error.fields, 422)
    except DomainError as error:
        return _render_form(event, participant, field_errors(error), error.status)
    flash(_("Saved."))
    return redirect(url_for("manage.participant_edit", participant_id=participant.id), code=303)


@bp.route("/participants/<int:participant_id>/rotate", methods=["GET", "POST"])
def participant_rotate(participant_id: int):
    """Ask, then replace the personal link: the old link, feed and sockets stop at once."""
    participant = _participant(participant_id)
    if request.method == "GET":
        return render_template("manage/participant_confirm.html", participant=participant,
                               event=participant.event, action="rotate")
    participant_service.rotate_token(g.user, participant)
    flash(_("A new personal link is issued; the old one no longer works."))
    return redirect(url_for("manage.participant_edit", participant_id=participant.id), code=303)


@bp.route("/participants/<int:participant_id>/delete", methods=["GET", "POST"])
def participant_delete(participant_id: int):
    """Ask, then remove a participant for good."""
    participant = _participant(participant_id)
    event = participant.event
    if request.method == "GET":
        return render_template("manage/participant_confirm.html", participant=participant,
                               event=event, action="delete")
    name = participant.name
    participant_service.delete_participant(g.user, participant)
    flash(_("%(name)s is removed.", name=name))
    return redirect(url_for("manage.participants", event_id=event.id), code=303)


# -- CSV import -------------------------------------------------------------------------------


def validate_row(values: dict[str, str]) -> dict[str, Any]:
    """One CSV row checked by the API's participant schema (422 naming the bad fields)."""
    return api_validate(ParticipantCreate, values).model_dump()


def _uploaded() -> bytes | None:
    """The CSV: the uploaded file (preview), or the text the preview carried (import)."""
    if "csv" in request.form:
        return request.form["csv"].encode("utf-8")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return None
    return upload.read(participant_import.MAX_BYTES + 1)


@bp.route("/events/<int:event_id>/participants/import", methods=["GET", "POST"])
def participants_import(event_id: int):
    """Upload a CSV, see what it would do, then import it (all or nothing)."""
    event = event_service.get_event(g.user, event_id)
    if request.method == "GET":
        refused = request.args.get("refused")
        report = participant_import.ImportReport(refused) if refused == "too_large" else None
        return render_template("manage/participants_import.html", event=event, report=report,
                               raw=None, columns=participant_import.COLUMNS)
    raw = _uploaded()
    if raw is None:
        return render_template("manage/participants_import.html", event=event, report=None,
                               raw=None, columns=participant_import.COLUMNS,
                               errors={"file": _("Choose a CSV file.")}), 422
    if request.form.get("apply") == "1":
        try:
            report = participant_import.import_participants(g.user, event, raw, validate_row)
        except DomainError:  # someone added one of the file's e-mails since the preview
            report = participant_import.ImportReport("conflict")
    else:
        report = participant_import.preview_import(g.user, event, raw, validate_row)
    text = raw.decode("utf-8-sig") if report.ok else None
    status = 200 if report.ok else (409 if report.error == "conflict" else 422)
    return render_template("manage/participants_import.html", event=event, report=report,
                           raw=text, columns=participant_import.COLUMNS,
                           reasons=reason_text), status


def reason_text(field: str, raw: str) -> str:
    """Why a row is rejected, in words."""
    if field == "row" and raw.startswith("cells:"):
        return _("The row has %(count)s cells; the header has a different number.",
                 count=raw.split(":", 1)[1])
    if field == "email" and raw.startswith("duplicate:"):
        return _("The same e-mail is already on line %(line)s.", line=raw.split(":", 1)[1])
    from .forms import service_message

    known = {"value is not a valid email address": _("Enter a valid e-mail address.")}
    for start, text in known.items():
        if raw.startswith(start):
            return text
    if raw.startswith("Input should be"):
        return _("Choose one of the listed values.")
    if raw.startswith("String should have at most"):
        return _("Too long.")
    if raw.startswith("String should have at least") or raw == "Field required":
        return _("This field is required.")
    return service_message(raw)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_error):
    """An upload over the request limit: back to the import page, which says so; nothing
    changed. (A page cannot be rendered here: every form on it would read the body again.)"""
    if request.endpoint != "manage.participants_import":
        return Response(_("The request is too large."), 413, mimetype="text/plain")
    return redirect(url_for("manage.participants_import", refused="too_large",
                            **request.view_args), code=303)
