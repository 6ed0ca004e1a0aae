"""Mail: throughput of the outbox to a local SMTP server, and a whole-event switch's mails.

Run ``python -m bench.bench_mail`` (or through ``python -m bench``). It serves aiosmtpd on
127.0.0.1, builds an app on a temporary SQLite file with ``SMTP_URL`` pointing at it, and
measures in the same run:

- throughput: 1,000 invitations queued in one transaction and committed, until the server
  has accepted the last one (mails per second through the outbox: compose, commit, lease,
  send, mark sent), next to a baseline of raw ``smtplib`` sends of the same 1,000 messages
  over one connection from one thread, and their ratio;
- a whole-event switch of 200 sessions followed by 1,000 remote attendees (5 sessions each):
  the time from ``switch_event`` until the server has accepted the last change notice (one
  per attendee, with 5 iTIP attachments). The burst window (``MAIL_BURST_SECONDS``, 60 s in
  production) is set to 0 here: in production add that minute, during which the changes are
  gathered into one mail.

Figures are printed, never asserted.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

MAILS = 1000
SESSIONS = 200
ATTENDEES = 1000
PER_ATTENDEE = 5


class Sink:
    """aiosmtpd on 127.0.0.1 that counts what it accepts and when it accepted the last."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.lock = threading.Lock()
        self.count = 0
        self.last = 0.0
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            self.last = time.perf_counter()
        return "250 OK"

    def reset(self) -> None:
        with self.lock:
            self.count, self.last = 0, 0.0

    def wait_for(self, count: int, timeout: float = 600.0) -> float:
        """Block until ``count`` messages arrived; the perf_counter of the last one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.count >= count:
                    return self.last
            time.sleep(0.01)
        raise RuntimeError(f"only {self.count} of {count} mails arrived")


def _seed(db, models, access, *, sessions: int, attendees: int, per_attendee: int):
    """An event far ahead (no join window open), its sessions, and remote attendees."""
    event = models.Event(slug=f"bench-{sessions}-{attendees}", title={"en": "Bench"},
                         timezone="Europe/Moscow", published=True, start_date=date(2030, 6, 28),
                         end_date=date(2030, 7, 10), default_provider="jitsi")
    db.session.add(event)
    hall = models.Room(event=event, name="Hall")
    db.session.add(hall)
    start = datetime(2030, 6, 28, 6, tzinfo=UTC)
    rows = [models.Session(event=event, room=hall, title={"en": f"Session {i}"},
                           starts_at=start + timedelta(minutes=30 * i),
                           ends_at=start + timedelta(minutes=30 * i + 25))
            for i in range(sessions)]
    db.session.add_all(rows)
    people = []
    for i in range(attendees):
        people.append(models.Participant(
            event=event, name=f"Attendee {i}", email=f"a{i}@example.org", attendance="remote",
            language=("ru", "de", "en")[i % 3]))
    db.session.add_all(people)
    db.session.flush()
    for person in people:  # ids are known now: no flush per person
        access.issue_participant_token(person)
    for i, person in enumerate(people):
        for k in range(per_attendee):
            db.session.add(models.AgendaItem(participant=person,
                                             session=rows[(i + k * 37) % sessions]))
    db.session.commit()
    return event, people


def _raw_smtplib(port: int, messages: list[str]) -> float:
    """Seconds to send ``messages`` with plain smtplib over one connection."""
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
        for message in messages:
            connection.sendmail("bench@example.org", ["rcpt@example.org"], message)
    return time.perf_counter() - started


def main(quick: bool = False) -> list:
    """Run the benchmark, print the figures and return them (``quick``: a tiny size)."""
    global MAILS, SESSIONS, ATTENDEES, PER_ATTENDEE
    if quick:
        MAILS, SESSIONS, ATTENDEES, PER_ATTENDEE = 10, 4, 10, 2
    from bench.report import Figure

    logging.basicConfig(level=logging.WARNING)
    from eventhub import create_app, models, shutdown
    from eventhub.extensions import db
    from eventhub.services import access, jobs, mail, switching

    sink = Sink()
    sink.controller.start()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'bench.db'}",
            "SECRET_KEY": "bench", "SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
            "MAIL_BURST_SECONDS": 0, "MAIL_OUTBOX_DIR": str(Path(tmp) / "outbox"),
        })
        workers, batch = app.config["PROVISIONING_WORKERS"], app.config["MAIL_BATCH"]
        try:
            with app.app_context():
                db.create_all()
                organizer = models.User(email="bench@example.org", role="organizer",
                                        password_hash="-")  # noqa: S106 - no login
                db.session.add(organizer)
                db.session.commit()

                # 1. Throughput: queue, commit, send.
                _event, people = _seed(db, models, access, sessions=1, attendees=MAILS,
                                       per_attendee=0)
                started = time.perf_counter()
                for person in people:
                    mail.queue_mail(person, "invitation")
                composed = time.perf_counter()
                db.session.commit()
                last = sink.wait_for(MAILS)
                outbox_s = last - started
                send_s = last - composed
                jobs.dispatcher().wait(60)
                messages = list(db.session.scalars(
                    db.select(models.OutboxMail.message).order_by(models.OutboxMail.id)))
                sink.reset()
                raw_s = _raw_smtplib(sink.port, messages)

                # 2. A whole-event switch: one change notice per attendee.
                event, _people = _seed(db, models, access, sessions=SESSIONS,
                                       attendees=ATTENDEES, per_attendee=PER_ATTENDEE)
                sink.reset()
                started = time.perf_counter()
                switching.switch_event(event, "online", actor=organizer)
                switched = time.perf_counter()
                result = mail.scan()
                scanned = time.perf_counter()
                last = sink.wait_for(ATTENDEES)
                switch_total = last - started
                jobs.dispatcher().wait(120)
                size = db.session.scalar(db.select(db.func.avg(db.func.length(
                    models.OutboxMail.message))).where(models.OutboxMail.kind == "change"))
        finally:
            with app.app_context():
                shutdown(app)
                db.engine.dispose()
            sink.controller.stop()

    print(f"aiosmtpd on 127.0.0.1; job runner: thread pool of {workers}, {batch} mails per "
          f"SMTP connection; SQLite")
    print()
    print("| what | mails | time | mails/s |")
    print("|---|---:|---:|---:|")
    print(f"| outbox: queue_mail + commit + send | {MAILS} | {outbox_s:.2f} s | "
          f"{MAILS / outbox_s:.0f} |")
    print(f"| outbox: commit to last accepted (sending only) | {MAILS} | {send_s:.2f} s | "
          f"{MAILS / send_s:.0f} |")
    print(f"| baseline: raw smtplib, one connection, same messages | {MAILS} | {raw_s:.2f} s | "
          f"{MAILS / raw_s:.0f} |")
    print(f"\nratio outbox (sending only) / raw smtplib: {raw_s / send_s:.2f}x the baseline's "
          f"rate; end to end: {raw_s / outbox_s:.2f}x")
    print(f"\nwhole-event switch: {SESSIONS} sessions, {ATTENDEES} remote attendees with "
          f"{PER_ATTENDEE} sessions each -> {result['composed']} change notices "
          f"(avg {size / 1024:.0f} KiB, {PER_ATTENDEE} iTIP attachments each)")
    print(f"  switch_event (commit, notices written by the flush hook): "
          f"{switched - started:.2f} s")
    print(f"  scan (compose {result['composed']} mails): {scanned - switched:.2f} s")
    print(f"  switch to last mail accepted: {switch_total:.2f} s "
          f"(+ MAIL_BURST_SECONDS, 60 s in production)")
    print(f"  compare: the baseline would send {ATTENDEES} already-composed mails in "
          f"{ATTENDEES * raw_s / MAILS:.2f} s (of smaller size)")
    return [
        Figure("mail", "mails per second through the outbox (sending only)", MAILS / send_s,
               "mails/s", baseline=MAILS / raw_s,
               baseline_name="raw smtplib, one connection, same messages"),
        Figure("mail", f"whole-event switch of {SESSIONS} sessions, {ATTENDEES} remote "
               "attendees: to the last mail accepted", switch_total, "s",
               baseline=ATTENDEES * raw_s / MAILS,
               baseline_name="raw smtplib sending as many composed mails"),
    ]


if __name__ == "__main__":
    main()
