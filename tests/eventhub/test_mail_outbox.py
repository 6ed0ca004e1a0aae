"""The outbox: written with the change, sent after the commit, exactly once, through outages."""

from __future__ import annotations

import gc
import logging
import threading
import warnings
from collections import Counter

import pytest
from mail_support import outbox, scan_and_settle, settle, states, wait_for

from eventhub.extensions import db
from eventhub.models import OutboxMail
from eventhub.services import mail
from eventhub.services.mail_transport import SmtpTransport, TransientMailError, smtp_settings


@pytest.fixture
def app_config(app_config, smtp):
    app_config["SMTP_URL"] = smtp.url
    app_config["MAIL_BACKOFF"] = 0.01
    app_config["MAIL_BACKOFF_MAX"] = 0.05
    app_config["MAIL_BATCH"] = 5
    return app_config


@pytest.fixture
def guests(create_event, create_participant):
    event = create_event()
    return [create_participant(event, name=f"Гость {i}", language=("ru", "de", "en")[i % 3])
            for i in range(12)]


def all_sent(count: int) -> bool:
    scan_and_settle()
    return states() == {"sent": count}


def message_ids(smtp) -> Counter:
    return Counter(m["Message-ID"] for m in smtp.parsed())


def test_invitation_goes_out_after_the_commit_in_the_participants_language(ctx, smtp, guests):
    anna = guests[0]  # ru
    mail.queue_mail(anna, "invitation", context={"message": "Добро пожаловать", "inviter": "Bob"})
    assert smtp.count() == 0  # nothing before the commit
    db.session.commit()
    settle()
    [message] = smtp.parsed()
    assert message["To"].addresses[0].addr_spec == anna.email
    assert message["Subject"] == "Приглашение: Конференция"
    assert message["List-Unsubscribe"] is None  # not on the invitation
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"http://eventhub.test/p/{anna.token}" in text and "Добро пожаловать" in text
    assert f'href="http://eventhub.test/p/{anna.token}"' in html
    [row] = outbox()
    assert row.state == "sent" and row.message_id == message["Message-ID"] and row.attempts == 1


def test_a_rolled_back_change_sends_nothing(ctx, smtp, guests):
    mail.queue_mail(guests[0], "invitation")
    db.session.rollback()
    settle()
    assert outbox() == [] and smtp.count() == 0


def test_reminders_carry_list_unsubscribe_and_stop_after_unsubscribing(ctx, smtp, guests):
    first, second = guests[:2]
    mail.set_mail_opt_out(second, True)
    for participant in (first, second):
        mail.queue_mail(participant, "reminder")
        mail.queue_mail(participant, "confirmation")
    db.session.commit()
    settle()
    by_kind = {(m["To"].addresses[0].addr_spec, m["Subject"]): m for m in smtp.parsed()}
    assert len(by_kind) == 3  # the unsubscribed participant still gets the confirmation
    reminder = next(m for m in smtp.parsed() if m["List-Unsubscribe"])
    assert reminder["List-Unsubscribe"] == f"<http://eventhub.test/p/{first.token}/unsubscribe>"
    assert reminder["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    confirmation = [m for m in smtp.parsed() if m["To"].addresses[0].addr_spec == second.email]
    assert len(confirmation) == 1 and confirmation[0]["List-Unsubscribe"] is None
    assert f"/calendars/p/{second.token}.ics" in confirmation[0].get_body(("plain",)).get_content()


def test_a_server_that_is_down_delays_mail_and_loses_none(ctx, smtp, guests, caplog):
    smtp.stop()
    for participant in guests:
        mail.queue_mail(participant, "invitation")
    db.session.commit()
    settle()
    assert states() == {"pending": len(guests)}
    assert all("connection refused" in (row.last_error or "") for row in outbox()[:1])
    smtp.start()
    wait_for(lambda: all_sent(len(guests)), what="every mail sent after the restart")
    assert sorted(message_ids(smtp).values()) == [1] * len(guests)
    assert set(message_ids(smtp)) == {row.message_id for row in outbox()}


def test_server_stopped_in_the_middle_of_a_burst_every_mail_arrives_once(ctx, smtp, guests):
    for participant in guests:
        mail.queue_mail(participant, "invitation")
    # Freeze the server as soon as it has four mails: later transactions hang, unanswered.
    original = smtp.handle_DATA

    async def freeze_after_four(server, session, envelope):
        answer = await original(server, session, envelope)
        if smtp.count() >= 4:
            smtp.freeze()
        return answer

    smtp.handle_DATA = freeze_after_four
    db.session.commit()
    wait_for(lambda: smtp.frozen, what="the server froze")
    # Once the mails it answered are marked sent, kill it mid-transaction.
    wait_for(lambda: sum(r.state == "sent" for r in outbox()) >= smtp.count(),
             what="answered mails recorded")
    smtp.stop()
    settle()
    delivered = smtp.count()
    seen = f"{delivered} delivered, outbox {states()}, errors {[r.last_error for r in outbox()]}"
    assert 4 <= delivered < len(guests), seen
    assert states().get("pending") == len(guests) - delivered, seen
    smtp.handle_DATA = original
    smtp.start()
    wait_for(lambda: all_sent(len(guests)), what="the rest sent after the restart")
    counts = message_ids(smtp)
    assert set(counts) == {row.message_id for row in outbox()}
    assert set(counts.values()) == {1}


def test_two_workers_racing_for_a_mail_send_it_once(app, smtp, guests):
    with app.app_context():
        mail.queue_mail(guests[0], "invitation")
        db.session.commit()
        settle()
        smtp.messages.clear()
        db.session.execute(db.update(OutboxMail).values(state="pending", lease_until=None))
        db.session.commit()
        [mail_id] = [row.id for row in outbox()]
    start = threading.Barrier(4)

    def worker():
        with app.app_context():
            start.wait()
            mail.send_mails([mail_id])
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert smtp.count() == 1


def test_a_refused_recipient_fails_for_good_and_the_rest_still_go(ctx, smtp, guests):
    smtp.refuse.add(guests[1].email)
    for participant in guests[:3]:
        mail.queue_mail(participant, "invitation")
    db.session.commit()
    settle()
    scan_and_settle(take_over=True)  # the batch stopped at the refusal? the scan takes the rest
    rows = {row.recipient: row for row in outbox()}
    assert rows[guests[1].email].state == "failed"
    assert "550" in rows[guests[1].email].last_error
    assert {rows[g.email].state for g in (guests[0], guests[2])} == {"sent"}
    assert smtp.count() == 2


def test_smtp_password_never_reaches_logs_or_the_outbox(app_config, ctx, smtp, guests, caplog):
    from flask import current_app

    caplog.set_level(logging.DEBUG)
    current_app.config["SMTP_URL"] = f"smtps://mailer:Pa55-w0rd-XYZ@127.0.0.1:{smtp.port}"
    mail.queue_mail(guests[0], "invitation")
    db.session.commit()
    settle()
    [row] = outbox()
    assert row.state == "pending" and row.last_error  # TLS to a plain server fails
    assert "Pa55-w0rd-XYZ" not in caplog.text and "Pa55-w0rd-XYZ" not in row.last_error
    assert "Pa55-w0rd-XYZ" not in repr(smtp_settings(current_app.config["SMTP_URL"]))


@pytest.mark.parametrize("url", ["smtp://user:pw@127.0.0.1:{port}",  # no AUTH offered
                                 "smtp://127.0.0.1:{port}?starttls=true"])  # no STARTTLS
def test_a_connection_that_fails_before_it_is_ready_is_closed(smtp, url):
    transport = SmtpTransport(smtp_settings(url.format(port=smtp.port)), timeout=5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        try:
            transport.send("chair@example.org", "guest@example.org", "Subject: x\n\nx")
        except TransientMailError as exc:
            refused = exc.message
        gc.collect()
    assert refused and transport.connection is None
    assert [str(w.message) for w in caught if w.category is ResourceWarning] == []


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://user:p%40ss@mail.example.org:587",
     dict(host="mail.example.org", port=587, tls=False, starttls=True, username="user",
          password="p@ss")),
    ("smtps://user:pw@mail.example.org", dict(port=465, tls=True, starttls=False)),
    ("smtp://relay.example.org:25", dict(port=25, tls=False, starttls=False, username="")),
    ("smtp://relay.example.org", dict(port=25, starttls=False)),
    ("smtp://u:pw@relay.example.org:2525?starttls=true", dict(port=2525, starttls=True)),
    ("smtp://u:pw@localhost:1025", dict(port=1025, starttls=False, username="u")),
])
def test_smtp_url_forms(url, expected):
    settings = smtp_settings(url)
    for name, value in expected.items():
        assert getattr(settings, name) == value


@pytest.mark.parametrize("url", [
    "http://mail.example.org", "smtp://", "smtp://u:secret@mail.example.org:25",
    "smtp://mail.example.org:99999",
])
def test_bad_smtp_urls_are_refused_without_echoing_them(url):
    with pytest.raises(ValueError) as error:
        smtp_settings(url)
    assert "secret" not in str(error.value)
