"""Provisioning against the provider sandbox over real HTTP: one room per session, whatever
happens (retries, lost answers, double clicks, two workers, a crash before the commit)."""

from __future__ import annotations

import threading
import time

import pytest
from lifecycle_support import (
    API_PROVIDERS,
    creates,
    room_of,
    sandbox_settings,
    wait_jobs,
)
from sqlalchemy import event as sa_event

from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import Session, VideoRoom
from eventhub.services import jobs, provisioning, switching
from tests.conftest import bearer

#: method and path fragment of each provider's create call, for fault matching.
CREATE_CALL = {"bigbluebutton": ("GET", "/api/create"), "zoom": ("POST", "/meetings"),
               "whereby": ("POST", "/meetings"), "daily": ("POST", "/rooms"),
               "teams": ("POST", "/createOrGet")}


@pytest.fixture
def app_config(app_config, sandbox):
    """The test app talks to the sandbox."""
    return {**app_config, **sandbox_settings(sandbox)}


@pytest.fixture
def organizer(create_user):
    """An organizer account."""
    return create_user("organizer")


@pytest.fixture
def online_session(create_event, create_session):
    """A session of an event whose default provider the test chooses."""

    def make(provider: str, fallback: str | None = None) -> Session:
        event = create_event(default_provider=provider, fallback_provider=fallback)
        return create_session(event)

    return make


def switch_online(event_session: Session, actor, provider: str | None = None) -> VideoRoom:
    """Switch the session online and wait for provisioning to end."""
    switching.switch_session(event_session, "online", provider, actor=actor)
    wait_jobs()
    return room_of(event_session)


@pytest.mark.parametrize("name", API_PROVIDERS)
def test_retries_after_5xx_and_reset_create_one_room(name, sandbox, organizer, online_session):
    """A 503 then a dropped connection are retried; the third call creates the only room."""
    method, path = CREATE_CALL[name]
    sandbox.faults.status(name, 503, method=method, path=path)
    sandbox.faults.reset(name, method=method, path=path)
    room = switch_online(online_session(name), organizer)
    assert room.state == "ready", room.last_error
    assert sandbox.created(name) == 1
    assert list(sandbox.rooms(name)) == [room.external_id]
    assert room.attempts == 1  # one provider tried (its retries are counted in the log)


@pytest.mark.parametrize("name", API_PROVIDERS)
def test_lost_create_answer_finds_the_same_room(name, app, sandbox, organizer, online_session):
    """A create whose answer is lost to a timeout still happened; the retry finds that room."""
    app.config["PROVIDER_TIMEOUT"] = (2.0, 0.3)
    method, path = CREATE_CALL[name]
    sandbox.faults.latency(name, 0.5, method=method, path=path)  # > the 0.3 s read timeout
    room = switch_online(online_session(name), organizer)
    assert room.state == "ready", room.last_error
    assert any(r.fault == "latency" for r in creates(sandbox, name))
    assert sandbox.created(name) == 1
    assert list(sandbox.rooms(name)) == [room.external_id]


def test_double_click_creates_one_room(app, sandbox, organizer, online_session, api_token):
    """Two switch requests at the same instant: both succeed, one provider room exists."""
    event_session = online_session("zoom")
    session_id, token = event_session.id, api_token(organizer)
    sandbox.faults.latency("zoom", 0.2, method="POST", path="/meetings")
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def click() -> None:
        """One browser tab's click."""
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/sessions/{session_id}/switch", json={"mode": "online"},
                               headers=bearer(token))
        answers.append(response.status_code)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert answers == [200, 200]
    wait_jobs()
    assert db.session.query(VideoRoom).count() == 1
    room = room_of(event_session)
    assert room.state == "ready"
    assert len(creates(sandbox, "zoom")) == 1
    assert sandbox.created("zoom") == 1


def test_two_workers_lease_the_room_once(app, app_config, sandbox, online_session):
    """Two apps (two processes' worth of workers) on one database: one provisions, one skips."""
    event_session = online_session("whereby")
    room = VideoRoom(session=event_session, provider="whereby", data={}, host_data={})
    db.session.add(room)
    db.session.commit()
    room_id = room.id
    sandbox.faults.latency("whereby", 0.3, times=2, method="POST", path="/meetings")
    other = create_app(app_config)
    try:
        barrier = threading.Barrier(2)

        def run(flask_app) -> None:
            """One worker of one app."""
            with flask_app.app_context():
                barrier.wait()
                jobs.run_job("provision_room", room_id)

        threads = [threading.Thread(target=run, args=(a,)) for a in (app, other)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        with other.app_context():
            provisioning.dispatcher().shutdown()
            db.engine.dispose()
    assert room_of(event_session).state == "ready"
    assert len(creates(sandbox, "whereby")) == 1
    assert sandbox.created("whereby") == 1


@pytest.mark.parametrize("name", ["zoom", "whereby", "daily", "teams", "bigbluebutton"])
def test_crash_before_commit_recovers_same_room(name, sandbox, organizer, online_session):
    """The provider answered but the commit of ``ready`` failed: recover() completes the room
    with the same key, and the provider still holds exactly one room."""
    failed: list[bool] = []

    def fail_once(session, _context) -> None:
        """Fail the first flush that marks a room ready."""
        ready = [o for o in session.dirty if isinstance(o, VideoRoom) and o.state == "ready"]
        if ready and not failed:
            failed.append(True)
            raise RuntimeError("simulated crash between the provider's answer and the commit")

    sa_event.listen(db.session, "after_flush", fail_once)
    try:
        room = switch_online(online_session(name), organizer)
    finally:
        sa_event.remove(db.session, "after_flush", fail_once)
    assert failed and room.state == "pending" and room.external_id is None
    assert sandbox.created(name) == 1
    assert provisioning.recover(take_over=True) == 1
    wait_jobs()
    room = room_of(room.session)
    assert room.state == "ready"
    assert sandbox.created(name) == 1
    assert list(sandbox.rooms(name)) == [room.external_id]


def test_recover_without_take_over_leaves_leased_rooms(sandbox, organizer, online_session):
    """A room another live worker holds is not taken from it (only expired leases are)."""
    event_session = online_session("whereby")
    room = VideoRoom(session=event_session, provider="whereby", data={}, host_data={})
    db.session.add(room)
    db.session.commit()
    assert provisioning._lease(room.id)
    assert provisioning.recover() == 0
    assert provisioning.recover(take_over=True) == 1
    wait_jobs()
    assert room_of(event_session).state == "ready"


@pytest.mark.parametrize("name", API_PROVIDERS)
def test_online_in_person_online_keeps_one_live_room(name, sandbox, organizer, online_session):
    """Back in person deletes the provider room; online again makes a new generation's room."""
    event_session = online_session(name)
    first = switch_online(event_session, organizer)
    first_id, first_generation = first.external_id, first.generation
    assert first.state == "ready" and len(sandbox.rooms(name)) == 1
    switching.switch_session(event_session, "in_person", actor=organizer)
    wait_jobs()
    assert room_of(event_session).state == "deleted"
    assert len(sandbox.rooms(name)) == 0
    second = switch_online(event_session, organizer)
    assert second.state == "ready" and second.generation == first_generation + 1
    assert second.external_id != first_id
    assert list(sandbox.rooms(name)) == [second.external_id]
    assert sandbox.created(name) == 2


def test_in_person_while_pending_deletes_the_late_room(sandbox, organizer, online_session):
    """Switched back while the provider was still creating: the late room is deleted."""
    event_session = online_session("daily")
    sandbox.faults.latency("daily", 0.3, method="POST", path="/rooms")
    switching.switch_session(event_session, "online", actor=organizer)
    deadline = time.monotonic() + 5
    while not creates(sandbox, "daily") and time.monotonic() < deadline:
        time.sleep(0.01)  # the provider has the create request: now switch back
    switching.switch_session(event_session, "in_person", actor=organizer)
    wait_jobs()
    assert room_of(event_session).state == "deleted"
    assert sandbox.created("daily") == 1
    assert len(sandbox.rooms("daily")) == 0


def test_run_job_without_app_context_uses_the_worker_app(app, monkeypatch, sandbox,
                                                         online_session):
    """A plain ``rq worker`` has no app context: the job pushes the process's app."""
    event_session = online_session("whereby")
    room = VideoRoom(session=event_session, provider="whereby", data={}, host_data={})
    db.session.add(room)
    db.session.commit()
    monkeypatch.setattr(jobs, "_app", app)
    worker = threading.Thread(target=jobs.run_job, args=("provision_room", room.id))
    worker.start()  # a new thread has no app context
    worker.join(10)
    assert room_of(event_session).state == "ready"


def test_room_keys_are_stable_but_not_guessable(app, create_event, create_session):
    """The same session and generation give the same key; another SECRET_KEY another one, so
    a Jitsi room without JWT cannot be found from a session id, nor shared between installs."""
    from eventhub.models import VideoRoom

    event_session = create_session(create_event())
    room = VideoRoom(session_id=event_session.id, generation=1, provider="jitsi")
    first = provisioning.room_key(room)
    assert first == provisioning.room_key(room)
    assert first.startswith(f"eventhub-s{event_session.id}-g1-") and len(first) > 30
    room.generation = 2
    assert provisioning.room_key(room) != first
    room.generation = 1
    app.config["SECRET_KEY"] = "another installation"
    assert provisioning.room_key(room) != first
