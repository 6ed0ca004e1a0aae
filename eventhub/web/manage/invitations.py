"""Invitations and delegations: invite people and delegations, who answered, reminders.

``/manage/events/<id>/invitations`` shows the delegations table and three ways to invite: one
person, a pasted or uploaded CSV list, a whole delegation pair. Each form posts to its own URL
and calls :mod:`eventhub.services.invitations`, as the REST API does. A rejected form is shown
again with the reason beside it, and nothing has changed.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm

from ...errors import BadRequest, Invalid, NotFound
from ...models import Event
from ...services import invitations as service
from ...services.common import get_or_404
from .. import labels, viewer
from . import bp

ONE_FIELDS = ("name", "email", "language", "organization", "partner_organization", "country",
              "role")


class InvitationForm(FlaskForm):
    """The CSRF check every form of this page shares (fields are read from the request)."""


def _event(event_id: int) -> Event:
    return get_or_404(Event, event_id, "event")


def _page(event: Event, *, status: int = 200, **context: Any):
    """The invitations page, with what a form handler adds: errors, values, a report."""
    actor = viewer()
    rows = service.list_delegations(actor, event)
    totals = {name: sum(row.counts()[name] for row in rows)
              for name in service.Delegation("", "").counts()}
    context.setdefault("values", {})
    context.setdefault("errors", {})
    return render_template(
        "manage/invitations.html", event=event, rows=rows, totals=totals,
        due=service.count_due_reminders(actor, event),
        delegation_options=delegation_options(rows),
        roles=labels.role_labels(), languages=labels.language_labels(),
        batch_max=service.BATCH_MAX, message_max=service.MESSAGE_MAX,
        columns=service.CSV_COLUMNS, **context), status


def delegation_options(rows: list[service.Delegation]) -> list[tuple[str, str]]:
    """One choice per delegation pair, saying how many of the pair have not had the invitation;
    the pairs with someone still to invite first (the first is the one preselected)."""
    by_key = {row.organization.casefold(): row for row in rows}
    offered: set[str] = set()
    options = []
    for row in rows:
        if not row.organization or row.organization.casefold() in offered:
            continue
        offered.add(row.organization.casefold())
        partner = by_key.get(row.partner_organization.casefold()) \
            if row.partner_organization else None
        if partner is not None and partner is not row:
            offered.add(partner.organization.casefold())
        not_sent = row.not_sent + (partner.not_sent if partner and partner is not row else 0)
        if row.partner_organization:
            label = _("%(organization)s and %(partner)s: %(num)s not sent yet",
                      organization=row.organization, partner=row.partner_organization,
                      num=not_sent)
        else:
            label = _("%(organization)s: %(num)s not sent yet", organization=row.organization,
                      num=not_sent)
        options.append((not_sent == 0, row.organization, label))
    return [(value, label) for _done, value, label in sorted(options, key=lambda o: o[0])]


def _check_csrf() -> None:
    if not InvitationForm().validate_on_submit():
        abort(400)


def _message() -> str:
    return request.form.get("message", "").strip()


def _back(event: Event) -> Response:
    return redirect(url_for("manage.invitations", event_id=event.id), code=303)


def _report_text(report: service.InvitationReport) -> str:
    return " ".join((
        ngettext("%(num)s invitation sent.", "%(num)s invitations sent.", report.mailed),
        ngettext("%(num)s person added.", "%(num)s people added.", len(report.invited)),
        ngettext("%(num)s was already a participant.", "%(num)s were already participants.",
                 len(report.merged)),
    ))


@bp.get("/events/<int:event_id>/invitations")
def invitations(event_id: int):
    """The delegations table and the invitation forms; ``?format=csv`` downloads the table."""
    event = _event(event_id)
    if request.args.get("format") == "csv":
        rows = service.list_delegations(viewer(), event)
        return Response(service.delegations_csv(rows), mimetype="text/csv",
                        headers={"Content-Disposition":
                                 f'attachment; filename="delegations-{event.id}.csv"'})
    return _page(event)


@bp.post("/events/<int:event_id>/invitations/one")
def invite_one(event_id: int):
    """Invite one person; a bad field is shown beside it."""
    event = _event(event_id)
    _check_csrf()
    values = {name: request.form.get(name, "") for name in ONE_FIELDS}
    message = _message()
    try:
        report = service.invite(viewer(), event, [values], message)
    except Invalid as error:
        if "message" in error.fields:
            errors = {"message": _("The message is too long.")}
        else:
            field = error_field(values)
            errors = {field: labels.invitee_error(field)}
        return _page(event, status=422, values={**values, "message": message}, errors=errors)
    flash(_report_text(report))
    return _back(event)


def error_field(values: dict[str, str]) -> str:
    """The field a rejected invitee is wrong in."""
    try:
        service.check_entry(values)
    except service.EntryError as error:
        return error.field
    return "email"


@bp.post("/events/<int:event_id>/invitations/list")
def invite_list(event_id: int):
    """Invite everyone of a pasted or uploaded CSV list; the page reports each refused line."""
    event = _event(event_id)
    _check_csrf()
    message = _message()
    pasted = request.form.get("rows", "")
    upload = request.files.get("file")
    data: bytes | str = upload.read() if upload is not None and upload.filename else pasted
    values = {"rows": pasted, "list_message": message}

    def refuse(problem: str, rejected: list | None = None, field: str = "rows"):
        return _page(event, status=422, values=values, errors={field: problem},
                     rejected=rejected or [])

    if not data.strip():
        return refuse(_("Paste a list or choose a file."))
    try:
        lines = service.read_invitees_csv(data)
    except Invalid:
        return refuse(_("At most %(num)s rows per list.", num=service.BATCH_MAX))
    except BadRequest as error:
        if "header" in error.fields:
            return refuse(_("The first line must be the header: %(header)s",
                            header=",".join(service.CSV_COLUMNS)))
        return refuse(_("This is not a CSV file in UTF-8."))
    if not lines:
        return refuse(_("The list has a header but no rows."))
    numbers = [number for number, _row in lines]
    try:
        report = service.invite(viewer(), event, [row for _number, row in lines], message)
    except Invalid as error:
        if "message" in error.fields:
            return refuse(_("The message is too long."), field="list_message")
        return refuse(_("No row could be invited."),
                      [(number, row.get("email", ""), labels.invitee_error(error_field(row)))
                       for number, row in lines])
    flash(_report_text(report))
    return _page(event, report=report, rejected=[
        (numbers[r.index], r.email, labels.invitee_error(r.field)) for r in report.rejected])


@bp.post("/events/<int:event_id>/invitations/delegation")
def invite_delegation(event_id: int):
    """Send the invitation to a delegation pair's people who have not had it yet."""
    event = _event(event_id)
    _check_csrf()
    message = _message()
    try:
        report = service.invite_delegation(viewer(), event, request.form.get("organization", ""),
                                           message)
    except (Invalid, NotFound) as error:
        too_long = "message" in error.fields
        return _page(event, status=422, values={"delegation_message": message},
                     errors={"delegation_message" if too_long else "organization":
                             _("The message is too long.") if too_long
                             else _("Choose a delegation from the list.")})
    flash(" ".join((
        ngettext("%(num)s invitation sent.", "%(num)s invitations sent.", report.mailed),
        ngettext("%(num)s had had the invitation before.", "%(num)s had had it before.",
                 len(report.merged) - report.mailed))))
    return _back(event)


@bp.route("/events/<int:event_id>/invitations/reminders", methods=["GET", "POST"])
def reminders(event_id: int):
    """Remind those who have not answered: a confirmation naming how many, then the POST."""
    event = _event(event_id)
    if request.method == "POST":
        _check_csrf()
        count = service.send_reminders(viewer(), event)
        flash(ngettext("%(num)s reminder sent.", "%(num)s reminders sent.", count))
        return _back(event)
    return render_template("manage/invitation_reminders.html", event=event,
                           due=service.count_due_reminders(viewer(), event),
                           gap_minutes=int(service.REMINDER_GAP.total_seconds() // 60))
