"""Invitations and delegations: invite people, answer an invitation, remind, count by delegation.

A *delegation* is the participants of one organization at one event (DESIGN.md); its partner
organization is the twin city's. Organizers invite anyone; an ``official`` invites people of
their own organization and of its partner organization. Invitations are merged by e-mail: an
address that is already a participant is matched, never duplicated.

Each participant gets one invitation mail, the first time they are invited (``invited_at``),
unless they have answered already; after that, reminders (at most one per
:data:`REMINDER_GAP`) go to those who have not answered.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import BadRequest, Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import ATTENDANCE, PARTICIPANT_ROLES, Event, Participant, User, utcnow
from . import access
from .access import Actor
from .common import LANGUAGES
from .mail import queue_mail

log = logging.getLogger(__name__)

#: The most invitees one request may carry (the API answers 422 above it, at once): a batch is
#: one transaction, and 500 keeps it well under a second on SQLite.
BATCH_MAX = 500
MESSAGE_MAX = 2000  # characters of the organizer's or official's personal note
#: A participant is reminded at most once in this time, so a second click sends nothing.
REMINDER_GAP = timedelta(hours=1)
ANSWERS = ("accepted", "declined")
CSV_COLUMNS = ("name", "email", "organization", "partner_organization", "country", "role",
               "attendance", "language")
# The language an invitee's mail is in when the entry names none: from their country.
COUNTRY_LANGUAGES = {"RU": "ru", "BY": "ru", "KZ": "ru", "KG": "ru",
                     "DE": "de", "AT": "de", "CH": "de", "LI": "de", "LU": "de"}
TEXT_MAX = {"name": 200, "organization": 200, "partner_organization": 200}


@dataclass(frozen=True)
class Rejected:
    """An invitee that was not invited: its place in the batch, its address, the field at
    fault (``email``, ``name``, ... or ``participant`` for someone of another delegation) and
    why, in English (pages translate by ``field``)."""

    index: int
    email: str
    error: str
    field: str = "email"


class EntryError(ValueError):
    """One invitee's field is wrong: ``field`` names it, the message says how."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass
class InvitationReport:
    """What one invitation request did.

    ``invited``: participants it created; ``merged``: existing participants matched by e-mail;
    ``mailed``: invitation mails queued (new people and people never invited before).
    """

    invited: list[Participant] = field(default_factory=list)
    merged: list[Participant] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    mailed: int = 0


@dataclass
class Delegation:
    """One organization's answers; ``in_person``/``remote`` count those who accepted, and
    ``not_sent`` those whose invitation mail has not gone out yet."""

    organization: str
    partner_organization: str
    invited: int = 0
    accepted: int = 0
    declined: int = 0
    no_answer: int = 0
    in_person: int = 0
    remote: int = 0
    not_sent: int = 0

    def counts(self) -> dict[str, int]:
        """The numbers, in the column order of the table and the CSV."""
        return {"invited": self.invited, "accepted": self.accepted, "declined": self.declined,
                "no_answer": self.no_answer, "in_person": self.in_person, "remote": self.remote,
                "not_sent": self.not_sent}


def _key(name: str) -> str:
    """Organizations compare without case and surrounding spaces ("Kaluga" = " kaluga")."""
    return name.strip().casefold()


# -- who may invite whom ----------------------------------------------------------------------


def is_official(actor: Actor, event: Event) -> bool:
    """True for an ``official`` participant of this event with an organization."""
    return (isinstance(actor, Participant) and actor.event_id == event.id
            and actor.role == "official" and bool(actor.organization.strip()))


def delegation_names(official: Participant) -> tuple[str, ...]:
    """The organizations an official may invite people of: their own, then its partner."""
    names = [official.organization.strip()]
    if official.partner_organization.strip() and \
            _key(official.partner_organization) != _key(official.organization):
        names.append(official.partner_organization.strip())
    return tuple(names)


def require_inviter(actor: Actor, event: Event) -> None:
    """401 anonymous, 404 an event the actor may not see, 403 anyone but an organizer or one
    of the event's officials."""
    access.require_authenticated(actor)
    access.require_view_event(actor, event)
    if not (access.is_organizer(actor) or is_official(actor, event)):
        raise Forbidden("only organizers and the event's officials may invite people")


def _place_in_delegation(official: Participant, entries: list[dict[str, Any]]) -> None:
    """Put each entry of an official's batch in their delegation, or refuse the batch (403).

    An entry without an organization joins the official's own; its partner organization is
    always the other half of the pair, whatever the entry said.
    """
    own, *partner = delegation_names(official)
    allowed = {_key(own): (own, partner[0] if partner else ""),
               **({_key(partner[0]): (partner[0], own)} if partner else {})}
    outside = {}
    for index, entry in enumerate(entries):
        organization = str(entry.get("organization") or "").strip() or own
        if _key(organization) not in allowed:
            outside[f"invitees.{index}.organization"] = "outside your delegation"
            continue
        entry["organization"], entry["partner_organization"] = allowed[_key(organization)]
    if outside:
        raise Forbidden(f"you may invite people of {' and '.join(delegation_names(official))} "
                        "only", fields=outside)


# -- one invitee ------------------------------------------------------------------------------


def normalize_email(value: str) -> str:
    """An address as EventHub stores it (lower case), or EntryError saying what is wrong."""
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise EntryError("email", f"not a valid e-mail address: {exc}") from exc


def check_entry(entry: dict[str, Any]) -> dict[str, str]:
    """An invitee's fields, cleaned and completed with defaults; EntryError naming a bad one."""
    values: dict[str, str] = {}
    for name in CSV_COLUMNS:
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            raise EntryError(name, f"{name} must be text")
        value = (value or "").strip()
        if "\x00" in value:
            raise EntryError(name, f"{name} may not contain NUL characters")
        if len(value) > TEXT_MAX.get(name, 254):
            raise EntryError(name, f"{name} is longer than {TEXT_MAX.get(name, 254)} characters")
        values[name] = value
    values["email"] = normalize_email(values["email"])
    if not values["name"]:
        raise EntryError("name", "a name is required")
    values["country"] = values["country"].upper()
    if values["country"] and not re.fullmatch(r"[A-Z]{2}", values["country"]):
        raise EntryError("country", "country must be a two-letter code (ISO 3166)")
    if not values["language"]:
        values["language"] = COUNTRY_LANGUAGES.get(values["country"], "en")
    if values["language"] not in LANGUAGES:
        raise EntryError("language", f"language must be one of {', '.join(LANGUAGES)}")
    if not values["role"]:
        values["role"] = "delegate" if values["organization"] else "guest"
    if values["role"] not in PARTICIPANT_ROLES:
        raise EntryError("role", f"role must be one of {', '.join(PARTICIPANT_ROLES)}")
    if not values["attendance"]:
        values["attendance"] = "in_person"
    if values["attendance"] not in ATTENDANCE:
        raise EntryError("attendance", f"attendance must be one of {', '.join(ATTENDANCE)}")
    return values


def _inviter_name(actor: Actor) -> str:
    """Who the invitation comes from, as the mail names them."""
    if isinstance(actor, Participant):
        return f"{actor.name} ({actor.organization})" if actor.organization else actor.name
    if isinstance(actor, User):
        return actor.name or ""
    return ""


def _owes_invitation(participant: Participant) -> bool:
    """True for someone never sent the invitation who has not answered it either (a person
    added as already accepted, e.g. by an import, is not invited after the fact)."""
    return participant.invited_at is None and participant.invitation_status == "invited"


def _mail_invitation(actor: Actor, participant: Participant, message: str | None,
                     now: datetime) -> None:
    """Mark the participant invited; their invitation mail goes out with the commit."""
    participant.invited_at = now
    queue_mail(participant, "invitation",
               context={"message": message or "", "inviter": _inviter_name(actor)})


# -- inviting ---------------------------------------------------------------------------------


def invite(actor: Actor, event: Event, invitees: list[dict[str, Any]],
           message: str | None = None) -> InvitationReport:
    """Invite people to ``event``, merging by e-mail; each new invitee gets their link by mail.

    An entry with a bad e-mail address (or another bad field) is rejected naming it, and the
    rest of the batch still goes; when no entry is left, nothing changes (422). An official's
    batch naming an organization outside their delegation is refused as a whole (403).
    """
    require_inviter(actor, event)
    if len(invitees) > BATCH_MAX:
        raise Invalid(f"at most {BATCH_MAX} invitees per request",
                      fields={"invitees": f"at most {BATCH_MAX} items"})
    message = (message or "").strip() or None
    if message and len(message) > MESSAGE_MAX:
        raise Invalid("the message is too long", fields={"message": f"at most {MESSAGE_MAX}"})
    entries = [dict(entry) for entry in invitees]
    if isinstance(actor, Participant):
        _place_in_delegation(actor, entries)
    checked: list[tuple[int, dict[str, str]]] = []
    rejected: list[Rejected] = []
    for index, entry in enumerate(entries):
        try:
            checked.append((index, check_entry(entry)))
        except EntryError as exc:
            rejected.append(Rejected(index, str(entry.get("email") or ""), str(exc), exc.field))
    if not checked:
        raise Invalid("no invitee could be invited",
                      fields={f"invitees.{r.index}": r.error for r in rejected})
    try:
        report = _invite_checked(actor, event, checked, message)
    except IntegrityError:
        # Another request created one of these addresses between our read and our commit:
        # once more, and this time it is merged.
        db.session.rollback()
        try:
            report = _invite_checked(actor, event, checked, message)
        except IntegrityError as exc:
            db.session.rollback()
            raise Conflict("the same people are being invited by another request; "
                           "send the invitation again") from exc
    report.rejected = sorted(rejected + report.rejected, key=lambda r: r.index)
    log.info("event %s: %d invited, %d merged, %d rejected, %d mailed", event.id,
             len(report.invited), len(report.merged), len(report.rejected), report.mailed)
    return report


def find_participants(event: Event, emails: set[str]) -> dict[str, Participant]:
    """The event's participants with these (normalized) addresses, by address."""
    return {p.email: p for p in db.session.scalars(select(Participant).where(
        Participant.event_id == event.id, Participant.email.in_(emails)))}


def _invite_checked(actor: Actor, event: Event, checked: list[tuple[int, dict[str, str]]],
                    message: str | None) -> InvitationReport:
    """Create or merge the checked entries and commit (IntegrityError on a concurrent twin)."""
    report = InvitationReport()
    existing = find_participants(event, {values["email"] for _index, values in checked})
    official = actor if isinstance(actor, Participant) else None
    delegation = {_key(name) for name in delegation_names(official)} if official else set()
    now = utcnow()
    seen: set[str] = set()
    to_mail: list[Participant] = []
    for index, values in checked:
        email = values["email"]
        if email in seen:
            continue  # the same address twice in one batch is one invitee
        seen.add(email)
        participant = existing.get(email)
        if participant is not None:
            if official and _key(participant.organization) not in delegation:
                report.rejected.append(Rejected(
                    index, email, "already a participant of another delegation", "participant"))
                continue
            for name in ("organization", "partner_organization", "country"):
                if not getattr(participant, name) and values[name]:
                    setattr(participant, name, values[name])
            report.merged.append(participant)
        else:
            participant = Participant(event=event, invitation_status="invited",
                                      **{name: values[name] for name in CSV_COLUMNS})
            db.session.add(participant)
            report.invited.append(participant)
        if _owes_invitation(participant) and participant not in to_mail:
            to_mail.append(participant)
    db.session.flush()  # one INSERT round for the new people: their mails refer to their ids
    for participant in report.invited:
        access.issue_participant_token(participant)  # derived from the id, known now
    for participant in to_mail:
        _mail_invitation(actor, participant, message, now)
    report.mailed = len(to_mail)
    db.session.commit()
    return report


def delegation_members(actor: Actor, event: Event, organization: str) -> list[Participant]:
    """The participants of ``organization`` and of its partner organization, by name."""
    require_inviter(actor, event)
    rows = {row.organization: row for row in _delegation_rows(event)}
    match = next((row for key, row in rows.items() if _key(key) == _key(organization)), None)
    if match is None:
        raise NotFound(f"no delegation {organization!r} at this event")
    if isinstance(actor, Participant) and _key(match.organization) not in {
            _key(name) for name in delegation_names(actor)}:
        raise Forbidden("you may see your own delegation only")
    keys = {_key(match.organization)}
    if match.partner_organization:
        keys.add(_key(match.partner_organization))
    people = db.session.scalars(select(Participant).where(Participant.event_id == event.id)
                                .order_by(Participant.organization, Participant.name,
                                          Participant.id))
    return [p for p in people if _key(p.organization) in keys]


def invite_delegation(actor: Actor, event: Event, organization: str,
                      message: str | None = None) -> InvitationReport:
    """Send the invitation to every participant of a delegation pair not invited yet
    (organizers only): ``organization``'s people and its partner organization's."""
    access.require_organizer(actor)
    members = delegation_members(actor, event, organization)
    if not members:
        raise NotFound(f"nobody of {organization!r} or its partner is a participant yet")
    report = InvitationReport(merged=members)
    now = utcnow()
    message = (message or "").strip() or None
    if message and len(message) > MESSAGE_MAX:
        raise Invalid("the message is too long", fields={"message": f"at most {MESSAGE_MAX}"})
    for participant in members:
        if _owes_invitation(participant):
            _mail_invitation(actor, participant, message, now)
            report.mailed += 1
    db.session.commit()
    log.info("event %s: delegation invited, %d mailed", event.id, report.mailed)
    return report


# -- answering --------------------------------------------------------------------------------


def answer_invitation(actor: Actor, participant: Participant, status: str,
                      attendance: str | None = None) -> Participant:
    """Accept or decline the invitation, and choose in person or remote (the participant or an
    organizer). Accepting sends a confirmation mail; answering the same again changes nothing.
    """
    access.require_participant_access(actor, participant)
    fields = {}
    if status not in ANSWERS:
        fields["status"] = f"one of {', '.join(ANSWERS)}"
    if attendance is not None and attendance not in ATTENDANCE:
        fields["attendance"] = f"one of {', '.join(ATTENDANCE)}"
    if fields:
        raise Invalid(f"invalid fields: {', '.join(sorted(fields))}", fields=fields)
    accepting = status == "accepted" and participant.invitation_status != "accepted"
    changed = participant.invitation_status != status or (
        attendance is not None and participant.attendance != attendance)
    participant.invitation_status = status
    if attendance is not None:
        participant.attendance = attendance
    if accepting:
        queue_mail(participant, "confirmation")
    if changed:
        db.session.commit()
    return participant


# -- reminders --------------------------------------------------------------------------------


def _due_reminders_query(event: Event, now: datetime):
    """Invited by mail, no answer, not unsubscribed, and not reminded within REMINDER_GAP."""
    return select(Participant).where(
        Participant.event_id == event.id, Participant.invitation_status == "invited",
        Participant.invited_at.is_not(None), Participant.mail_opt_out.is_(False),
        (Participant.reminded_at.is_(None)) | (Participant.reminded_at <= now - REMINDER_GAP),
    ).order_by(Participant.id)


def count_due_reminders(actor: Actor, event: Event) -> int:
    """How many participants a reminder would reach now (organizers only)."""
    access.require_organizer(actor)
    query = _due_reminders_query(event, utcnow())
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def send_reminders(actor: Actor, event: Event) -> int:
    """Remind everyone invited who has not answered (organizers only); returns how many.

    Nobody is reminded twice within :data:`REMINDER_GAP` (the invitation itself does not
    count: the organizer decides when to remind), so a double click or a second organizer
    sends nothing more.
    """
    access.require_organizer(actor)
    now = utcnow()
    due = list(db.session.scalars(_due_reminders_query(event, now)))
    for participant in due:
        participant.reminded_at = now
        queue_mail(participant, "reminder")
    if due:
        db.session.commit()
    log.info("event %s: %d reminded", event.id, len(due))
    return len(due)


# -- the delegations table --------------------------------------------------------------------


def _delegation_rows(event: Event) -> list[Delegation]:
    """Every organization of the event (and every partner named), pairs side by side."""
    not_sent = Participant.invited_at.is_(None) & (Participant.invitation_status == "invited")
    columns = (Participant.organization, Participant.partner_organization, Participant.role,
               Participant.invitation_status, Participant.attendance, not_sent)
    counts = db.session.execute(
        select(*columns, func.count()).where(Participant.event_id == event.id)
        .group_by(*columns)
    ).all()
    names: dict[str, Counter] = defaultdict(Counter)  # key -> spellings seen
    partners: dict[str, Counter] = defaultdict(Counter)  # key -> partner spellings (officials x10)
    rows: dict[str, Delegation] = {}
    for organization, partner, role, status, attendance, unsent, number in counts:
        key = _key(organization)
        names[key][organization.strip()] += number
        if partner.strip():
            partners[key][partner.strip()] += number * (10 if role == "official" else 1)
            names[_key(partner)][partner.strip()] += 0
        row = rows.setdefault(key, Delegation("", ""))
        row.invited += number
        row.not_sent += number if unsent else 0
        if status == "accepted":
            row.accepted += number
            row.in_person += number if attendance == "in_person" else 0
            row.remote += number if attendance == "remote" else 0
        elif status == "declined":
            row.declined += number
        else:
            row.no_answer += number
    result = []
    for key, spellings in names.items():
        row = rows.get(key) or Delegation("", "")
        row.organization = spellings.most_common(1)[0][0] if spellings else ""
        if partners[key]:
            row.partner_organization = partners[key].most_common(1)[0][0]
        else:  # named only as someone else's partner: that one is its partner too
            row.partner_organization = next(
                (names[other].most_common(1)[0][0] for other, seen in partners.items()
                 if any(_key(p) == key for p in seen)), "")
        result.append(row)

    def order(row: Delegation) -> tuple:
        pair = sorted([_key(row.organization), _key(row.partner_organization)])
        return (row.organization == "", pair if row.partner_organization else [pair[-1]],
                _key(row.organization))

    return sorted(result, key=order)


def list_delegations(actor: Actor, event: Event) -> list[Delegation]:
    """Per organization and its partner: invited, accepted, declined, no answer, in person,
    remote (organizers only). People without an organization are the row with an empty name."""
    access.require_organizer(actor)
    return _delegation_rows(event)


def _cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP "CSV injection")."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def delegations_csv(rows: list[Delegation]) -> str:
    """The delegations table as CSV (UTF-8, comma-separated, header first)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["organization", "partner_organization", *Delegation("", "").counts()])
    for row in rows:
        writer.writerow([_cell(row.organization), _cell(row.partner_organization),
                         *row.counts().values()])
    return out.getvalue()


# -- CSV of invitees --------------------------------------------------------------------------


def read_invitees_csv(data: bytes | str) -> list[tuple[int, dict[str, str]]]:
    """Invitees from CSV text (UTF-8 with or without a BOM; comma or semicolon), with DESIGN.md's
    participant header (name and email required, the other columns optional, any order).

    Returns (line number, row) pairs, values as they are (checked when invited); blank lines are
    skipped. BadRequest for text that is not such a CSV (``fields`` names ``file`` or
    ``header``), Invalid for more than :data:`BATCH_MAX` rows.
    """
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadRequest("the file is not UTF-8 text", fields={"file": "not UTF-8"}) from exc
    data = data.removeprefix("\ufeff")
    header_line = data.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(data), delimiter=delimiter)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        unknown = [name for name in header if name not in CSV_COLUMNS]
        if "name" not in header or "email" not in header or unknown:
            raise BadRequest("the first line must be the header "
                             f"{','.join(CSV_COLUMNS)} (name and email required)",
                             fields={"header": ", ".join(unknown) or "name, email missing"})
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= BATCH_MAX:
                raise Invalid(f"at most {BATCH_MAX} rows per file",
                              fields={"file": f"at most {BATCH_MAX} rows"})
            rows.append((reader.line_num, {name: cell for name, cell
                                           in zip(header, cells, strict=False) if cell.strip()}))
    except csv.Error as exc:
        raise BadRequest(f"not a readable CSV file: {exc}", fields={"file": str(exc)}) from exc
    return rows
