"""Mail through a transactional outbox: written with the change, sent after the commit.

:func:`queue_mail` composes a mail for a participant (in their language, plain text and HTML,
from ``templates/mail/<kind>.txt`` and ``.html``) and adds it to the outbox in the caller's
transaction, without committing. Once that transaction commits, the mail's id goes to the
background job runner (:mod:`.jobs`), which sends it; a rollback drops it with the change.

Sending (:func:`send_mails`): a worker takes each row with one conditional UPDATE (a lease, as
provisioning leases rooms), hands it to the mail server (or writes an ``.eml`` file), and marks
it ``sent``. The ``Message-ID`` was fixed when the row was made and the message is stored whole,
so every attempt sends the same bytes. A server that is down leaves the row ``pending`` with
the next attempt backed off (exponentially, with jitter, capped): mail is delayed, never lost.
:func:`scan` (run periodically by :mod:`.mail_pump`, and at start-up) picks up retries that are
due and rows a crashed worker left, closes the bursts of change notices, and queues join links
for remote attendees whose join window has opened.

Change notices are detected by a session hook (:mod:`eventhub.models.notices`), which gathers
the changes of one burst per participant in a ``collecting`` row; :func:`scan` composes it
when the burst is over, with one iTIP attachment per changed session (:mod:`calendars.itip`).
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from email import encoders
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import event as sa_event
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from calendars.build import session_uid
from calendars.itip import build_itip
from calendars.model import FeedSession

from ..extensions import db
from ..models import (
    FINISHED,
    VIDEO_MODES,
    AgendaItem,
    OutboxMail,
    Participant,
    Session,
    utcnow,
)
from ..models.outbox import MAIL_KINDS
from .common import LANGUAGES, pick_text
from .jobs import job, submit
from .mail_transport import (
    FileTransport,
    MailError,
    PermanentMailError,
    SmtpTransport,
    smtp_settings,
)

log = logging.getLogger(__name__)

#: Mails that carry List-Unsubscribe and that an unsubscribed participant no longer gets. The
#: invitation and the confirmation answer the participant's own business and always go.
OPTIONAL_KINDS = frozenset({"reminder", "change", "join"})
LEASE = timedelta(seconds=120)  # longer than one SMTP hand-over with its timeouts
#: A new row is sent by the job submitted at its commit; the scan leaves it alone this long.
FRESH = timedelta(seconds=30)
SCAN_LIMIT = 2000  # rows one scan step handles; the next scan takes the rest
SUBMITTED = "eventhub.mail_submit"

CHANGE_LABELS = {
    "time": _l("new time"),
    "delay": _l("delayed"),
    "cancelled": _l("cancelled"),
    "reinstated": _l("reinstated"),
    "online": _l("moved online"),
    "in_person": _l("back in the hall"),
    "mode": _l("new format"),
    "deleted": _l("removed from the programme"),
}


# -- links ------------------------------------------------------------------------------------


def base_url() -> str:
    """EventHub's public base URL, without a trailing slash."""
    return current_app.config["EVENTHUB_BASE_URL"].rstrip("/")


def personal_url(participant: Participant) -> str:
    """The participant's page: agenda, invitation answer, join links."""
    return f"{base_url()}/p/{quote(participant.token, safe='')}"


def feed_url(participant: Participant) -> str:
    """The participant's personal calendar feed."""
    return f"{base_url()}/calendars/p/{quote(participant.token, safe='')}.ics"


def unsubscribe_url(participant: Participant) -> str:
    """The page (and RFC 8058 one-click POST target) that stops optional mails."""
    return f"{personal_url(participant)}/unsubscribe"


def join_url(event_session: Session, participant: Participant) -> str:
    """The participant's EventHub join link (never the provider's URL)."""
    return f"{base_url()}/join/{event_session.id}?t={quote(participant.token, safe='')}"


# -- composing --------------------------------------------------------------------------------


def _language(participant: Participant) -> str:
    return participant.language if participant.language in LANGUAGES else "en"


def _sender() -> str:
    return current_app.config["MAIL_FROM"]


def _new_message_id() -> str:
    domain = base_url().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "eventhub"
    return make_msgid("eventhub", domain=domain)


def session_view(event_session: Session, participant: Participant, language: str,
                 changes: Iterable[str] = ()) -> dict[str, Any]:
    """What a mail says about one session, formatted in the event's zone and ``language``."""
    zone = ZoneInfo(event_session.event.timezone)
    starts, ends = event_session.expected_starts_at, event_session.expected_ends_at
    video = event_session.mode in VIDEO_MODES and event_session.status not in FINISHED
    return {
        "id": event_session.id,
        "title": pick_text(event_session.title, language),
        "day": format_date(starts.astimezone(zone).date(), "full", locale=language),
        "starts": format_time(starts, "short", tzinfo=zone, locale=language),
        "ends": format_time(ends, "short", tzinfo=zone, locale=language),
        "hall": event_session.room.name if event_session.room else "",
        "mode": event_session.mode,
        "status": event_session.status,
        "delay": event_session.delay_minutes or 0,
        "cancelled": event_session.status == "cancelled",
        "join_url": join_url(event_session, participant) if video else None,
        "changes": [str(CHANGE_LABELS[c]) for c in changes if c in CHANGE_LABELS],
    }


def _render(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    """The text and HTML bodies of ``kind`` (rendered without a request: no web context)."""
    env = current_app.extensions.get("eventhub.mail_jinja")
    if env is None:  # the app's environment, but a block tag takes its line with it
        env = current_app.jinja_env.overlay(trim_blocks=True, lstrip_blocks=True)
        current_app.extensions["eventhub.mail_jinja"] = env
    text = env.get_template(f"mail/{kind}.txt").render(**context)
    html = env.get_template(f"mail/{kind}.html").render(**context)
    return text, html


def _subject(kind: str, event_title: str, context: dict[str, Any]) -> str:
    if kind == "invitation":
        return _("Invitation: %(event)s", event=event_title)
    if kind == "reminder":
        return _("Reminder: please answer the invitation to %(event)s", event=event_title)
    if kind == "confirmation":
        return _("Your participation in %(event)s", event=event_title)
    if kind == "join":
        return _("Join now: %(session)s", session=context["session"]["title"])
    sessions = context.get("sessions") or []
    if len(sessions) == 1:
        return _("Change in your programme: %(session)s", session=sessions[0]["title"])
    return _("Changes in your programme: %(event)s", event=event_title)


def compose(participant: Participant, kind: str, context: dict[str, Any], message_id: str,
            attachments: Iterable[tuple[str, bytes, str]] = ()) -> tuple[str, str]:
    """The whole message (ASCII) and its subject, in the participant's language.

    ``attachments`` are (filename, bytes, iTIP method) calendar parts.
    """
    language = _language(participant)
    event = participant.event
    with force_locale(language):
        event_title = pick_text(event.title, language)
        values = {
            "participant": participant, "event": event, "event_title": event_title,
            "personal_url": personal_url(participant), "feed_url": feed_url(participant),
            "unsubscribe_url": unsubscribe_url(participant) if kind in OPTIONAL_KINDS else None,
            "message": "", "inviter": "", **context,
        }
        subject = _subject(kind, event_title, values)
        text, html = _render(kind, values)
    # The classic MIME classes (policy compat32): several times faster than EmailMessage's
    # header parsing, which a 1,000-mail burst notices. Non-ASCII headers: RFC 2047.
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(text, "plain", "utf-8"))
    body.attach(MIMEText(html, "html", "utf-8"))
    message = body
    if attachments:
        message = MIMEMultipart("mixed")
        message.attach(body)
        for filename, content, method in attachments:
            part = MIMEBase("text", "calendar", method=method, charset="utf-8")
            part.set_payload(content)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=filename)
            message.attach(part)
    message["Subject"] = Header(subject, "utf-8")
    sender_name, sender_address = parseaddr(_sender())
    message["From"] = formataddr((sender_name, sender_address), charset="utf-8")
    message["To"] = formataddr((participant.name, participant.email), charset="utf-8")
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id
    message["Content-Language"] = language
    if kind != "invitation":
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    if kind in OPTIONAL_KINDS:
        # RFC 2369 and RFC 8058 (one click, no confirmation page, POST only).
        message["List-Unsubscribe"] = f"<{unsubscribe_url(participant)}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message.as_string(), subject


def _row(participant: Participant, kind: str, **values: Any) -> OutboxMail:
    return OutboxMail(message_id=_new_message_id(), event_id=participant.event_id,
                      participant_id=participant.id, kind=kind, recipient=participant.email,
                      next_attempt_at=utcnow(), **values)


def queue_mail(participant: Participant, kind: str, *, context: dict | None = None) -> None:
    """Write a mail of ``kind`` for ``participant`` into the current transaction (no commit);
    the job runner sends it after the commit.

    Kinds: ``invitation`` (the personal link to accept or decline and to choose in person or
    remote; ``context`` may carry ``message``, the organizer's or official's text, and
    ``inviter``, a name), ``reminder`` (the same, for those who have not answered),
    ``confirmation`` (the agenda and calendar feed links), ``join`` (``context["session_id"]``:
    the join link of a session whose window opened). An unsubscribed participant gets no
    reminder or join mail (nothing is written).
    """
    if kind not in MAIL_KINDS or kind == "change":
        raise ValueError(f"unknown mail kind {kind!r}")
    if participant.mail_opt_out and kind in OPTIONAL_KINDS:
        return
    context = dict(context or {})
    if participant.id is None:
        db.session.flush()  # the row refers to the participant by id
    values: dict[str, Any] = {}
    payload = {k: v for k, v in context.items() if isinstance(v, str | int | float | bool)}
    if kind == "join":
        event_session = db.session.get(Session, int(context["session_id"]))
        context["session"] = session_view(event_session, participant, _language(participant))
        values["dedupe_key"] = join_key(event_session.id, participant.id)
    row = _row(participant, kind, payload=payload, **values)
    row.message, row.subject = compose(participant, kind, context, row.message_id)
    db.session.add(row)


def join_key(session_id: int, participant_id: int) -> str:
    """The once-only key of a session's join-link mail to one participant."""
    return f"join:{session_id}:{participant_id}"


def _itip(event_session: Session, participant: Participant, language: str) -> tuple[str, bytes,
                                                                                     str]:
    """The iTIP attachment of one changed session: the feed's UID and SEQUENCE."""
    from . import feeds

    feed_session = feeds.feed_session(event_session, language, participant)
    # The expected times (planned + delay) are what the calendar entry should show.
    feed_session = replace(feed_session, starts_at=event_session.expected_starts_at,
                           ends_at=event_session.expected_ends_at)
    method = "CANCEL" if event_session.status == "cancelled" else "REQUEST"
    body = build_itip(
        method, feed_session, event_session.event.timezone,
        organizer=parseaddr(_sender()), attendee=(participant.name, participant.email),
        stamp=utcnow(), online_label=feeds.labels(language)["online"],
    )
    return f"session-{event_session.id}.ics", body, method


def _deleted_view(session_id: int, snapshot: dict[str, Any], participant: Participant,
                  language: str) -> tuple[dict[str, Any], FeedSession]:
    """What a mail and its CANCEL say about a session deleted since (from the snapshot the
    session hook kept, :mod:`eventhub.models.notices`): the feed's UID, a higher SEQUENCE."""
    from . import feeds

    zone = ZoneInfo(snapshot["timezone"])
    starts = datetime.fromisoformat(snapshot["starts_at"])
    ends = datetime.fromisoformat(snapshot["ends_at"])
    created = snapshot.get("created_at")
    title = pick_text(snapshot["title"], language)
    view = {
        "id": session_id, "title": title,
        "day": format_date(starts.astimezone(zone).date(), "full", locale=language),
        "starts": format_time(starts, "short", tzinfo=zone, locale=language),
        "ends": format_time(ends, "short", tzinfo=zone, locale=language),
        "hall": snapshot["hall"], "mode": snapshot["mode"], "status": "cancelled", "delay": 0,
        "cancelled": True, "join_url": None, "changes": [str(CHANGE_LABELS["deleted"])],
    }
    feed_session = FeedSession(
        id=session_id, uid=session_uid(session_id, feeds.uid_domain()), title=title,
        description=pick_text(snapshot["description"], language), starts_at=starts,
        ends_at=ends, sequence=int(snapshot["sequence"]), status="cancelled",
        mode=snapshot["mode"], location=snapshot["hall"], track=snapshot["track"],
        last_modified=utcnow(), created=datetime.fromisoformat(created) if created else None)
    return view, feed_session


def _compose_change(row: OutboxMail, participant: Participant) -> bool:
    """Turn a ``collecting`` row into its message; False when nothing is left to say."""
    payload = row.payload or {}
    changes: dict[str, list[str]] = payload.get("changes", {})
    ids = sorted(int(k) for k in changes)
    on_agenda = set(db.session.scalars(select(AgendaItem.session_id).where(
        AgendaItem.participant_id == participant.id, AgendaItem.session_id.in_(ids))))
    sessions = [s for s in db.session.scalars(select(Session).where(Session.id.in_(on_agenda))
                                              .order_by(Session.starts_at, Session.id))]
    existing = set(db.session.scalars(select(Session.id).where(Session.id.in_(ids))))
    # Sessions deleted since (a snapshot, and no row any more): a CANCEL each.
    gone = {int(k): v for k, v in payload.get("deleted", {}).items() if int(k) not in existing}
    if not (sessions or gone) or participant.mail_opt_out:
        return False
    language = _language(participant)
    entries: list[tuple[datetime, int, dict[str, Any], tuple[str, bytes, str]]] = []
    with force_locale(language):
        for s in sessions:
            entries.append((s.expected_starts_at, s.id,
                            session_view(s, participant, language, changes.get(str(s.id), ())),
                            _itip(s, participant, language)))
        for session_id, snapshot in gone.items():
            view, feed_session = _deleted_view(session_id, snapshot, participant, language)
            entries.append((feed_session.starts_at, session_id, view, _cancel_itip(
                feed_session, snapshot["timezone"], participant, language)))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    row.message, row.subject = compose(participant, "change",
                                       {"sessions": [entry[2] for entry in entries]},
                                       row.message_id, [entry[3] for entry in entries])
    row.recipient = participant.email
    return True


def _cancel_itip(feed_session: FeedSession, timezone: str, participant: Participant,
                 language: str) -> tuple[str, bytes, str]:
    """The CANCEL attachment of a deleted session."""
    from . import feeds

    body = build_itip(
        "CANCEL", feed_session, timezone, organizer=parseaddr(_sender()),
        attendee=(participant.name, participant.email), stamp=utcnow(),
        online_label=feeds.labels(language)["online"])
    return f"session-{feed_session.id}.ics", body, "CANCEL"


# -- sending ----------------------------------------------------------------------------------


def _transport() -> SmtpTransport | FileTransport:
    url = current_app.config.get("SMTP_URL")
    if url:
        return SmtpTransport(smtp_settings(url), current_app.config["MAIL_SMTP_TIMEOUT"])
    return FileTransport(current_app.config["MAIL_OUTBOX_DIR"])


def eml_name(row: OutboxMail) -> str:
    """The ``.eml`` file name of a row: sortable by creation, unique by id."""
    return f"{row.created_at:%Y%m%dT%H%M%S}-{row.id:08d}-{row.kind}"


def _claim(mail_ids: list[int]) -> list[tuple[int, int, str, str, str]]:
    """Take these rows for this worker where they are pending, due, and nobody holds them:
    (id, attempts, recipient, message, .eml name) of each row taken, in ``mail_ids`` order.

    One conditional UPDATE: of two workers racing for the same row, the database lets exactly
    one match it; each marks what it took with a token of its own.
    """
    now = utcnow()
    owner = secrets.token_hex(16)
    db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id.in_(mail_ids), OutboxMail.state == "pending",
               OutboxMail.next_attempt_at <= now,
               or_(OutboxMail.lease_until.is_(None), OutboxMail.lease_until < now))
        .values(lease_until=now + LEASE, lease_owner=owner, attempts=OutboxMail.attempts + 1)
    )
    db.session.commit()
    rows = {row.id: row for row in db.session.execute(
        select(OutboxMail.id, OutboxMail.attempts, OutboxMail.recipient, OutboxMail.message,
               OutboxMail.created_at, OutboxMail.kind)
        .where(OutboxMail.id.in_(mail_ids), OutboxMail.lease_owner == owner))}
    db.session.commit()  # no transaction held open while talking to the server
    return [(r.id, r.attempts, r.recipient, r.message or "", eml_name(r))
            for i in mail_ids if (r := rows.get(i)) is not None]


def backoff(attempt: int) -> float:
    """Seconds before retry ``attempt`` (1-based): exponential, equal jitter, capped."""
    base = current_app.config["MAIL_BACKOFF"]
    cap = current_app.config["MAIL_BACKOFF_MAX"]
    delay = min(cap, base * (2 ** min(attempt - 1, 30)))
    return delay * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret


def _finish(mail_id: int, **values: Any) -> None:
    db.session.execute(update(OutboxMail).where(OutboxMail.id == mail_id)
                       .values(lease_until=None, **values))
    db.session.commit()


@job
def send_mails(mail_ids: list[int]) -> None:
    """Send these outbox rows over one connection; a server fault stops the batch.

    Rows that are sent, failed, not yet due or held by another worker are left alone. The rows
    a fault leaves unsent stay ``pending``: the faulty one with its next attempt backed off,
    the untried rest due with it.
    """
    claimed = _claim(list(mail_ids))
    if not claimed:
        return
    transport = _transport()
    sender = parseaddr(_sender())[1]
    try:
        for index, (mail_id, attempts, recipient, message, name) in enumerate(claimed):
            try:
                if isinstance(transport, FileTransport):
                    transport.send(sender, recipient, message, name=name)
                else:
                    transport.send(sender, recipient, message)
            except PermanentMailError as exc:
                log.warning("mail %s refused for good: %s", mail_id, exc.message)
                _finish(mail_id, state="failed", last_error=exc.message)
            except MailError as exc:
                delay = backoff(attempts)
                log.warning("mail %s not sent (attempt %d, next in %.0f s): %s", mail_id,
                            attempts, delay, exc.message)
                retry_at = utcnow() + timedelta(seconds=delay)
                _finish(mail_id, last_error=exc.message, next_attempt_at=retry_at)
                _defer([c[0] for c in claimed[index + 1:]], exc.message, retry_at)
                return
            else:
                _finish(mail_id, state="sent", sent_at=utcnow(), last_error=None)
    finally:
        transport.close()


def _defer(mail_ids: list[int], reason: str, retry_at: datetime) -> None:
    """The rest of a batch a server fault stopped: released untried, due with the faulty one."""
    if mail_ids:
        db.session.execute(
            update(OutboxMail)
            .where(OutboxMail.id.in_(mail_ids), OutboxMail.state == "pending")
            .values(last_error=f"not tried: {reason}", next_attempt_at=retry_at,
                    lease_until=None, attempts=OutboxMail.attempts - 1))
        db.session.commit()


def submit_sends(mail_ids: Iterable[int]) -> None:
    """Queue the sending of these rows, in batches (one SMTP connection per batch)."""
    ids = sorted(set(mail_ids))
    size = max(1, current_app.config["MAIL_BATCH"])
    for start in range(0, len(ids), size):
        submit(send_mails, ids[start:start + size])


# -- after the commit -------------------------------------------------------------------------


def _after_flush(session: Any, _context: Any) -> None:
    ids = [obj.id for obj in session.new
           if isinstance(obj, OutboxMail) and obj.state == "pending"]
    if ids:
        session.info.setdefault(SUBMITTED, []).extend(ids)


def _after_commit(session: Any) -> None:
    ids = session.info.pop(SUBMITTED, None)
    if ids:
        submit_sends(ids)


def _after_rollback(session: Any, previous: Any) -> None:
    if previous.parent is None:  # the whole transaction, not a savepoint
        session.info.pop(SUBMITTED, None)


def _register_hooks() -> None:
    """Hook ``db.session`` once per process (every app shares it)."""
    if not sa_event.contains(db.session, "after_flush", _after_flush):
        sa_event.listen(db.session, "after_flush", _after_flush)
        sa_event.listen(db.session, "after_commit", _after_commit)
        sa_event.listen(db.session, "after_soft_rollback", _after_rollback)


def init_app(app: Flask) -> None:
    """Send queued mails after each commit; the periodic scan starts with the server."""
    from . import mail_pump

    _register_hooks()
    mail_pump.init_app(app)


# -- the periodic scan ------------------------------------------------------------------------


def compose_due_notices(now: datetime | None = None, *, send: bool = False) -> list[int]:
    """Compose the change notices whose burst is over; returns the ids now pending.

    The session hook writes one ``collecting`` row per participant and flush (insert only, so
    concurrent transactions never overwrite each other); all of a participant's collecting rows
    become one mail here, when the first of them is due. Commits every ``MAIL_BATCH``
    participants, so no write lock is held for the whole burst; with ``send`` each committed
    batch goes to the job runner at once, and sending overlaps composing.
    """
    now = now or utcnow()
    due = list(db.session.scalars(
        select(OutboxMail.participant_id).where(OutboxMail.state == "collecting",
                                                OutboxMail.next_attempt_at <= now)
        .distinct().limit(SCAN_LIMIT)))
    db.session.commit()
    size = max(1, current_app.config["MAIL_BATCH"])
    ready: list[int] = []
    for start in range(0, len(due), size):
        batch = _compose_batch(due[start:start + size])
        if send:
            submit_sends(batch)
        ready.extend(batch)
    return ready


def _compose_batch(participant_ids: list[int]) -> list[int]:
    """Compose and commit the notices of these participants; the ids now pending.

    Each participant is locked (PostgreSQL: FOR NO KEY UPDATE SKIP LOCKED, which the session
    hook's inserts do not wait for), so of two scans at once exactly one takes all of a
    participant's rows; the other skips them.
    """
    mine = list(db.session.scalars(
        select(Participant.id).where(Participant.id.in_(participant_ids))
        .with_for_update(skip_locked=True, key_share=True)))
    rows = list(db.session.scalars(
        select(OutboxMail).where(OutboxMail.state == "collecting",
                                 OutboxMail.participant_id.in_(mine))
        .order_by(OutboxMail.id)))
    by_participant: dict[int, list[OutboxMail]] = {}
    for row in rows:
        by_participant.setdefault(row.participant_id, []).append(row)
    participants = {p.id: p for p in db.session.scalars(
        select(Participant).where(Participant.id.in_(list(by_participant))))}
    ready: list[int] = []
    for participant_id, group in by_participant.items():
        keep, *others = group
        changes: dict[str, set[str]] = {}
        deleted: dict[str, Any] = {}
        for row in group:
            for session_id, kinds in (row.payload or {}).get("changes", {}).items():
                changes.setdefault(session_id, set()).update(kinds)
            deleted.update((row.payload or {}).get("deleted", {}))
        for row in others:
            row.state, row.last_error = "skipped", f"merged into mail {keep.id}"
        keep.payload = {"changes": {k: sorted(v) for k, v in sorted(changes.items())}}
        if deleted:
            keep.payload["deleted"] = dict(sorted(deleted.items()))
        participant = participants.get(participant_id)
        if participant is not None and _compose_change(keep, participant):
            keep.state, keep.next_attempt_at = "pending", utcnow()
            ready.append(keep.id)
        else:
            keep.state = "skipped"
    db.session.commit()
    return ready


def queue_join_links(now: datetime | None = None) -> int:
    """Queue the join-link mail of every session whose join window has opened, once per
    session and remote attendee with it on their agenda; returns how many were queued."""
    from .joining import window_open

    now = now or utcnow()
    horizon = timedelta(days=1)  # coarse SQL bound; the window itself is checked per session
    candidates = [s for s in db.session.scalars(
        select(Session).where(
            Session.mode.in_([m.value for m in VIDEO_MODES]),
            Session.status.not_in([s.value for s in FINISHED]),
            Session.starts_at <= now + horizon, Session.ends_at >= now - horizon))
        if window_open(s, now) and s.expected_ends_at > now]
    queued = 0
    for event_session in candidates:
        attendees = list(db.session.scalars(
            select(Participant).join(AgendaItem, AgendaItem.participant_id == Participant.id)
            .where(AgendaItem.session_id == event_session.id,
                   Participant.attendance == "remote",
                   Participant.invitation_status != "declined",
                   Participant.mail_opt_out.is_(False))))
        keys = {join_key(event_session.id, p.id): p for p in attendees}
        done = set(db.session.scalars(select(OutboxMail.dedupe_key).where(
            OutboxMail.dedupe_key.in_(list(keys))))) if keys else set()
        todo = [(key, p) for key, p in keys.items() if key not in done]
        for participant in [p for _key, p in todo]:
            queue_mail(participant, "join", context={"session_id": event_session.id})
        try:
            db.session.commit()
            queued += len(todo)
        except IntegrityError:
            # Another scanner queued some of them first: one by one, skipping those.
            # (No savepoints: SQLite refuses a savepoint's write after another commit.)
            db.session.rollback()
            for _key, participant in todo:
                queue_mail(participant, "join", context={"session_id": event_session.id})
                try:
                    db.session.commit()
                    queued += 1
                except IntegrityError:
                    db.session.rollback()
    return queued


def retry_due(now: datetime | None = None, *, take_over: bool = False) -> int:
    """Submit the pending rows that are due and free; returns how many.

    A row made in the last :data:`FRESH` seconds and never tried is left to the job its
    commit submitted. ``take_over`` (a single-process start-up) takes every pending row and
    frees their leases: whoever held them is gone.
    """
    now = now or utcnow()
    if take_over and current_app.extensions.get("eventhub.rq") is not None:
        take_over = False  # live RQ workers may hold leases
    if take_over:
        db.session.execute(update(OutboxMail).where(OutboxMail.state == "pending")
                           .values(lease_until=None))
        db.session.commit()
    query = select(OutboxMail.id).where(
        OutboxMail.state == "pending", OutboxMail.next_attempt_at <= now,
        or_(OutboxMail.lease_until.is_(None), OutboxMail.lease_until < now))
    if not take_over:
        query = query.where(or_(OutboxMail.attempts > 0, OutboxMail.last_error.is_not(None),
                                OutboxMail.created_at <= now - FRESH))
    ids = list(db.session.scalars(query.order_by(OutboxMail.id).limit(SCAN_LIMIT)))
    db.session.commit()
    submit_sends(ids)
    return len(ids)


def scan(*, take_over: bool = False) -> dict[str, int]:
    """One pass of the periodic mail work: bursts, join windows, retries."""
    composed = compose_due_notices(send=True)
    joins = queue_join_links()
    retried = retry_due(take_over=take_over)
    return {"composed": len(composed), "joins": joins, "retried": retried}


# -- the participant's choice -----------------------------------------------------------------


def set_mail_opt_out(participant: Participant, opt_out: bool) -> Participant:
    """Stop (or resume) reminders, change notices and join-link mails; commits.

    The participant's page, feed and join links are unaffected.
    """
    if participant.mail_opt_out != opt_out:
        participant.mail_opt_out = opt_out
        db.session.commit()
    return participant


# -- reading the outbox (organizers) ----------------------------------------------------------


def list_outbox(actor: Any, limit: int = 50, offset: int = 0,
                state: str | None = None) -> tuple[list[OutboxMail], int]:
    """The outbox, newest first (organizers only: mails carry personal links)."""
    from .access import require_organizer
    from .common import paginate

    require_organizer(actor)
    query = select(OutboxMail).order_by(OutboxMail.id.desc())
    if state:
        query = query.where(OutboxMail.state == state)
    return paginate(query, limit, offset)


def get_outbox_mail(actor: Any, mail_id: int) -> OutboxMail:
    """One outbox row (organizers only); NotFound for an unknown id."""
    from .access import require_organizer
    from .common import get_or_404

    require_organizer(actor)
    return get_or_404(OutboxMail, mail_id, "mail")
