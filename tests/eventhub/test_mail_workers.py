"""Who sends the outbox: the embedded pump after a restart and periodically, and RQ workers
(``flask eventhub worker``) in scale-out mode."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import db_support
import pytest
from mail_support import outbox, settle, states, wait_for

from eventhub.cli.worker import worker
from eventhub.extensions import db
from eventhub.models import OutboxMail, utcnow
from eventhub.services import jobs, mail, mail_pump

REDIS_URL = os.environ.get("EVENTHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def guests(create_event, create_participant):
    event = create_event()
    return [create_participant(event, name=f"Guest {i}") for i in range(6)]


class TestEmbeddedPump:
    @pytest.fixture
    def app_config(self, app_config, smtp):
        return {**app_config, "SMTP_URL": smtp.url, "MAIL_SCAN_SECONDS": 0.05,
                "MAIL_BACKOFF": 0.01, "MAIL_BACKOFF_MAX": 0.05, "MAIL_BURST_SECONDS": 0}

    def test_mail_left_pending_by_a_stopped_process_goes_after_the_restart(
            self, app, ctx, smtp, guests):
        for participant in guests:
            mail.queue_mail(participant, "invitation")
        # The process stops before its jobs ran: rows committed, nothing sent, no job left.
        app.extensions["eventhub.dispatcher"].submit = lambda *args: None
        db.session.commit()
        assert states() == {"pending": len(guests)} and smtp.count() == 0
        del app.extensions["eventhub.dispatcher"].submit
        pump = mail_pump.start(app, take_over=True)  # what `flask eventhub serve` does
        try:
            wait_for(lambda: states() == {"sent": len(guests)}, what="every mail sent")
        finally:
            pump.stop()
        assert smtp.count() == len(guests)

    def test_the_pump_retries_periodically_while_the_server_is_down(self, app, ctx, smtp,
                                                                    guests):
        smtp.stop()
        mail.queue_mail(guests[0], "reminder")
        db.session.commit()
        settle()
        pump = mail_pump.start(app)
        try:
            wait_for(lambda: outbox()[0].attempts >= 3, what="several attempts")
            assert states() == {"pending": 1}
            smtp.start()
            wait_for(lambda: states() == {"sent": 1}, what="sent once the server is back")
        finally:
            pump.stop()
        assert smtp.count() == 1

    def test_testing_apps_start_no_pump_of_their_own(self, app, client):
        client.get("/")
        assert mail_pump.EXTENSION not in app.extensions


class TestRqWorkers:
    @pytest.fixture
    def app_config(self, app_config, smtp):
        db_support.require_redis(REDIS_URL)
        return {**app_config, "SMTP_URL": smtp.url, "REDIS_URL": REDIS_URL,
                "RQ_QUEUE": f"eventhub-mail-test-{uuid.uuid4().hex}", "MAIL_BURST_SECONDS": 0}

    @pytest.fixture
    def queue(self, app):
        rq_queue = app.extensions["eventhub.rq"]
        yield rq_queue
        rq_queue.delete(delete_jobs=True)

    def test_mail_goes_through_the_queue_to_a_worker(self, app, ctx, queue, runner, smtp,
                                                     guests):
        for participant in guests:
            mail.queue_mail(participant, "invitation")
        db.session.commit()
        assert queue.count >= 1 and not jobs.dispatcher().futures
        assert smtp.count() == 0
        with app.app_context():  # the CLI's context, apart from this test's
            result = runner.invoke(worker, ["--burst"])
        assert result.exit_code == 0, result.output
        assert states() == {"sent": len(guests)} and smtp.count() == len(guests)

    def test_a_worker_takes_up_mail_whose_job_was_lost(self, app, ctx, queue, runner, smtp,
                                                       guests):
        mail.queue_mail(guests[0], "confirmation")
        db.session.commit()
        queue.empty()  # e.g. Redis flushed: the row is all that is left
        db.session.execute(db.update(OutboxMail).values(
            created_at=utcnow() - timedelta(minutes=5)))
        db.session.commit()
        with app.app_context():
            result = runner.invoke(worker, ["--burst"])
        assert result.exit_code == 0, result.output
        assert "1 pending" in result.output
        assert states() == {"sent": 1} and smtp.count() == 1


@pytest.fixture
def postgres_schema():
    """A schema of its own in the PostgreSQL test database, dropped afterwards."""
    with db_support.postgres_schema("mail") as url:
        yield url


class TestPostgres:
    """Several workers at once, where the database really runs them at once."""

    @pytest.fixture
    def app_config(self, app_config, smtp, postgres_schema):
        return {**app_config, "SMTP_URL": smtp.url, "SQLALCHEMY_DATABASE_URI": postgres_schema,
                "MAIL_BURST_SECONDS": 0, "MAIL_BATCH": 4}

    def test_workers_racing_over_overlapping_batches_send_each_mail_once(self, app, ctx, smtp,
                                                                         guests):
        import threading

        for participant in guests:
            mail.queue_mail(participant, "invitation")
        app.extensions["eventhub.dispatcher"].submit = lambda *args: None  # no jobs: we race
        db.session.commit()
        ids = [row.id for row in outbox()]
        start = threading.Barrier(6)

        def worker(batch):
            with app.app_context():
                start.wait()
                mail.send_mails(batch)
                db.session.remove()

        batches = [ids, ids[::-1], ids[:3], ids[2:], ids[::2], ids[1::2]]
        threads = [threading.Thread(target=worker, args=(b,)) for b in batches]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert states() == {"sent": len(guests)}
        ids_seen = [m["Message-ID"] for m in smtp.parsed()]
        assert len(ids_seen) == len(set(ids_seen)) == len(guests)

    def test_two_scans_closing_the_same_bursts_compose_one_mail_each(
            self, app, ctx, create_session, guests):
        import threading

        from eventhub.models import AgendaItem

        event_session = create_session(guests[0].event)
        for participant in guests:
            db.session.add(AgendaItem(participant=participant, session=event_session))
        db.session.commit()
        for minutes in (5, 10, 15):  # three flushes: three collecting rows per follower
            event_session.delay_minutes = minutes
            db.session.commit()
        app.extensions["eventhub.dispatcher"].submit = lambda *args: None
        start = threading.Barrier(2)
        composed: list[list[int]] = []

        def scan():
            with app.app_context():
                start.wait()
                composed.append(mail.compose_due_notices())
                db.session.remove()

        threads = [threading.Thread(target=scan) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        pending = [row for row in outbox("change") if row.state == "pending"]
        assert sorted(row.participant_id for row in pending) == sorted(g.id for g in guests)
        assert sum(len(ids) for ids in composed) == len(guests)
        assert {row.state for row in outbox("change")} <= {"pending", "skipped"}
