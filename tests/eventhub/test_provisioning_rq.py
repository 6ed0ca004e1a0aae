"""RQ mode: with ``REDIS_URL`` set, provisioning jobs go to an RQ queue that
``flask eventhub worker`` processes. Needs Redis on 127.0.0.1:6379: skipped when it is not
reachable, failed instead when ``EVENTHUB_REQUIRE_SERVICES=1``."""

from __future__ import annotations

import os
import uuid

import db_support
import pytest
from lifecycle_support import room_of, sandbox_settings

from eventhub.cli.worker import worker
from eventhub.extensions import db
from eventhub.services import provisioning, switching

REDIS_URL = os.environ.get("EVENTHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def app_config(app_config, sandbox):
    """RQ mode on a queue of this test's own, against the sandbox."""
    db_support.require_redis(REDIS_URL)
    return {**app_config, **sandbox_settings(sandbox), "REDIS_URL": REDIS_URL,
            "RQ_QUEUE": f"eventhub-test-{uuid.uuid4().hex}"}


@pytest.fixture
def queue(app):
    """The app's RQ queue, emptied and deleted after the test."""
    rq_queue = app.extensions["eventhub.rq"]
    yield rq_queue
    rq_queue.delete(delete_jobs=True)


def test_jobs_go_to_rq_and_a_worker_runs_them(app, queue, sandbox, create_user, create_event,
                                              create_session):
    """The switch enqueues on RQ (not the thread pool); a burst worker makes the room ready."""
    from rq import SimpleWorker

    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="whereby"))
    switching.switch_session(event_session, "online", actor=organizer)
    assert queue.count == 1
    assert not provisioning.dispatcher().futures
    assert room_of(event_session).state == "pending"
    with app.app_context():  # the worker's own context, as `flask eventhub worker` has
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert room_of(event_session).state == "ready"
    assert sandbox.created("whereby") == 1
    assert queue.count == 0


def test_worker_command_recovers_and_drains(app, queue, runner, sandbox, create_user,
                                            create_event, create_session):
    """``flask eventhub worker --burst`` takes up an expired-lease room and provisions it; a
    deletion queued by a switch back in person runs there too."""
    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="daily"))
    switching.switch_session(event_session, "online", actor=organizer)
    queue.empty()  # the job is lost (e.g. Redis flushed): the room stays pending
    assert room_of(event_session).state == "pending"
    with app.app_context():  # the CLI's context, apart from this test's
        result = runner.invoke(worker, ["--burst"])
    assert result.exit_code == 0, result.output
    assert "queued 1 video rooms left pending" in result.output
    assert room_of(event_session).state == "ready"
    switching.switch_session(event_session, "in_person", actor=organizer)
    assert queue.count == 1
    with app.app_context():
        assert runner.invoke(worker, ["--burst"]).exit_code == 0
    assert len(sandbox.rooms("daily")) == 0


def test_worker_without_redis_says_so(app_config):
    """Without REDIS_URL there is nothing for a worker to do: a clear message, exit 1."""
    from eventhub import create_app

    config = {**app_config, "REDIS_URL": None}
    app = create_app(config)
    try:
        result = app.test_cli_runner().invoke(worker, ["--burst"])
        assert result.exit_code == 1
        assert "REDIS_URL is not set" in result.output
    finally:
        with app.app_context():
            provisioning.dispatcher().shutdown()
            db.engine.dispose()


def test_a_whole_event_switch_queues_its_jobs_in_one_round_trip(
        app, queue, sandbox, monkeypatch, create_user, create_event, create_session):
    """32 rooms, one Redis round trip (a pipeline) for all their jobs; a worker runs them all."""
    import redis
    from lifecycle_support import make_sessions
    from rq import SimpleWorker

    organizer = create_user("organizer")
    event = create_event(default_provider="daily")
    sessions = make_sessions(create_session, event, 32)
    sent: list[int] = []  # per send to Redis that names RQ keys: how many job keys
    real = redis.connection.Connection.send_packed_command

    def counting(self, command, *args, **kwargs):
        """Count what goes to Redis, then send it for real."""
        packed = command if isinstance(command, bytes) else b"".join(command)
        if b"rq:" in packed:  # RQ's keys (not the fan-out, not a connection's handshake)
            sent.append(packed.count(b"rq:job:"))
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)
    moved = switching.switch_event(event, "online", actor=organizer)
    monkeypatch.undo()
    assert len(moved) == 32 and {s.video_room.state for s in moved} == {"pending"}
    assert len(sent) == 1, f"one pipeline for every job of the switch, not {len(sent)} sends"
    assert queue.count == 32
    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    assert {room_of(s).state for s in sessions} == {"ready"}
    assert len(sandbox.rooms("daily")) == 32
