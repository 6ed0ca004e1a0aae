"""Participant lists from CSV: a preview of what an import would do, then the import itself.

DESIGN.md's file: UTF-8 with or without a BOM, comma or semicolon separated, the header
``name,email,organization,partner_organization,country,role,attendance,language`` (``name`` and
``email`` are required; the other columns may be left out, in any order). A row matches an
existing participant of the event by e-mail (case-insensitive): it updates them, or leaves them
unchanged when nothing differs. An empty cell means "not given": a new participant gets the
default, an existing one keeps their value.

An import is all or nothing: a wrong header, a file too large or not UTF-8, or any rejected row
(bad e-mail, unknown role, a second row with the same e-mail, ...) rejects the whole file, and
nothing changes. The preview and the import build the same :class:`ImportReport`, so what the
organizer saw is what the import does (or, if the list changed in between, what it did).

Rows are validated by the caller's ``validate_row``: the REST API's participant schema, passed
in by the web view because services do not import the API.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..errors import Conflict, DomainError
from ..extensions import db
from ..models import Event, Participant
from . import access
from .access import Actor
from .common import commit_unique
from .participants import EMAIL_TAKEN

log = logging.getLogger(__name__)

COLUMNS = ("name", "email", "organization", "partner_organization", "country", "role",
           "attendance", "language")
REQUIRED = ("name", "email")
MAX_BYTES = 1024 * 1024  # 1 MiB, the request limit: some 10,000 rows
MAX_ROWS = 20_000

#: ``validate_row(values) -> values``: the cleaned row, or a DomainError naming bad fields.
RowValidator = Callable[[dict[str, str]], dict[str, Any]]


@dataclass
class RowResult:
    """One data row: its line in the file, the e-mail, what happens to it, and why not."""

    line: int
    email: str
    name: str
    outcome: str  # created | updated | unchanged | rejected
    reasons: dict[str, str] = field(default_factory=dict)
    changes: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """What an import does (preview) or did (applied)."""

    error: str | None = None  # the whole file is refused: a code (see FILE_ERRORS)
    detail: str = ""
    rows: list[RowResult] = field(default_factory=list)
    applied: bool = False

    def count(self, outcome: str) -> int:
        return sum(1 for row in self.rows if row.outcome == outcome)

    @property
    def rejected(self) -> list[RowResult]:
        return [row for row in self.rows if row.outcome == "rejected"]

    @property
    def ok(self) -> bool:
        """True if the file can be imported as it is."""
        return self.error is None and not self.rejected


FILE_ERRORS = ("empty", "too_large", "not_utf8", "header", "too_many_rows", "malformed",
               "conflict")


def _decode(raw: bytes) -> str:
    text = raw.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _delimiter(header_line: str) -> str:
    """Semicolon when the header has more of them than commas (Excel in de/ru locales)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _parse(raw: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]] | ImportReport:
    """(header, [(line, row)]) or a report refusing the file."""
    if len(raw) > MAX_BYTES:
        return ImportReport("too_large", f"{len(raw)} bytes; at most {MAX_BYTES}")
    try:
        text = _decode(raw)
    except UnicodeDecodeError as exc:
        return ImportReport("not_utf8", f"byte {exc.start}")
    if not text.strip():
        return ImportReport("empty")
    if "\x00" in text:
        return ImportReport("malformed", "NUL character")
    header_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(header_line), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
        unknown = [name for name in header if name not in COLUMNS]
        missing = [name for name in REQUIRED if name not in header]
        doubled = sorted({name for name in header if header.count(name) > 1})
        if unknown or missing or doubled:
            parts = ([f"unknown: {', '.join(unknown)}"] if unknown else []) + (
                [f"missing: {', '.join(missing)}"] if missing else []) + (
                [f"twice: {', '.join(doubled)}"] if doubled else [])
            return ImportReport("header", "; ".join(parts))
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (Excel adds some at the end)
            if len(rows) >= MAX_ROWS:
                return ImportReport("too_many_rows", f"at most {MAX_ROWS}")
            line = reader.line_num
            if len(cells) != len(header):
                rows.append((line, {"__cells__": str(len(cells))}))
                continue
            pairs = zip(header, cells, strict=True)
            rows.append((line, {name: cell.strip() for name, cell in pairs}))
    except csv.Error as exc:
        return ImportReport("malformed", f"line {reader.line_num}: {exc}")
    return header, rows


def _plan(event: Event, raw: bytes, validate_row: RowValidator
          ) -> tuple[ImportReport, list[tuple[RowResult, dict[str, Any], Participant | None]]]:
    parsed = _parse(raw)
    if isinstance(parsed, ImportReport):
        return parsed, []
    _header, rows = parsed
    existing = {p.email: p for p in db.session.scalars(
        select(Participant).where(Participant.event_id == event.id))}
    report = ImportReport()
    plan = []
    seen: dict[str, int] = {}
    for line, row in rows:
        email = row.get("email", "").lower()
        result = RowResult(line, email, row.get("name", ""), "rejected")
        report.rows.append(result)
        if "__cells__" in row:
            result.reasons = {"row": f"cells:{row['__cells__']}"}
            continue
        given = {name: value for name, value in row.items() if value != ""}
        current = existing.get(email)
        try:
            # A new participant needs every required field; an update only what is given.
            values = validate_row({**({"name": current.name} if current else {}), **given})
        except DomainError as error:
            result.reasons = dict(error.fields) or {"row": error.message}
            continue
        values = {k: v for k, v in values.items() if k in given}
        values["email"] = email
        if email in seen:
            result.reasons = {"email": f"duplicate:{seen[email]}"}
            continue
        seen[email] = line
        if current is None:
            result.outcome = "created"
        else:
            result.changes = tuple(sorted(k for k, v in values.items()
                                          if getattr(current, k) != v))
            result.outcome = "updated" if result.changes else "unchanged"
        plan.append((result, values, current))
    return report, plan


def preview_import(actor: Actor, event: Event, raw: bytes,
                   validate_row: RowValidator) -> ImportReport:
    """What importing ``raw`` would do; nothing is written (organizers only)."""
    access.require_organizer(actor)
    report, _plan_rows = _plan(event, raw, validate_row)
    return report


def import_participants(actor: Actor, event: Event, raw: bytes,
                        validate_row: RowValidator) -> ImportReport:
    """Create and update the file's participants in one transaction, if no row is rejected.

    A refused file changes nothing; the report says why (organizers only).
    """
    access.require_organizer(actor)
    report, plan = _plan(event, raw, validate_row)
    if not report.ok:
        return report
    for result, values, current in plan:
        if current is None:
            # event_id, not event=: appending to event.participants would load the
            # collection and flush early, before the one commit.
            participant = Participant(event_id=event.id, **values)
            access.issue_participant_token(participant)  # adds it, flushed for its id
        elif result.changes:
            for name in result.changes:
                setattr(current, name, values[name])
    # A participant added with one of these e-mails since the preview: 409, nothing written.
    commit_unique(Conflict(EMAIL_TAKEN, fields={"email": "taken"}))
    report.applied = True
    log.info("event %s: participants imported (%s created, %s updated, %s unchanged)",
             event.id, report.count("created"), report.count("updated"),
             report.count("unchanged"))
    return report
