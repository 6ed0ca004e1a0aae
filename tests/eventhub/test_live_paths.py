"""``session.updated`` reaches real clients whoever makes the change: a CLI command and a provider
webhook publish through the same after-commit hook as REST and Socket.IO."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import live_support
import pytest
from icalendar import Calendar
from icalendar import Event as VEvent
from lifecycle_support import room_of, sandbox_settings, wait_jobs

from eventhub import webhooks
from eventhub.extensions import csrf
from eventhub.services import switching

live_server, sio = live_support.live_server, live_support.sio


@pytest.fixture
def app_config(app_config, sandbox):
    """Short live periods, and the providers (Zoom's webhook secret) pointed at the sandbox."""
    return {**app_config, "LIVE_JOIN_SCAN_SECONDS": 0.2, "LIVE_PRESENCE_SECONDS": 0.1,
            **sandbox_settings(sandbox)}


@pytest.fixture
def app(app):
    """The app with the webhook blueprint, as create_app wires it (idempotent)."""
    if "webhooks" not in app.blueprints:
        csrf.exempt(webhooks.bp)
        app.register_blueprint(webhooks.bp)
    return app


def programme(uid: str, start: datetime, end: datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//EventHub tests//")
    calendar.add("version", "2.0")
    item = VEvent()
    item.add("uid", uid)
    item.add("summary", "Imported talk")
    item.add("dtstart", start)
    item.add("dtend", end)
    item.add("dtstamp", datetime(2030, 1, 1, tzinfo=UTC))
    calendar.add_component(item)
    return calendar.to_ical()


def test_cli_import_publishes_new_and_moved_sessions(sio, app, runner, create_user,
                                                     create_event, tmp_path):
    create_user("organizer")
    event = create_event(slug="cli")
    event_id = event.id
    watcher = sio()
    watcher.subscribe(event_id)
    path = tmp_path / "programme.ics"
    path.write_bytes(programme("talk-1@test", datetime(2030, 6, 28, 9, tzinfo=UTC),
                               datetime(2030, 6, 28, 10, tzinfo=UTC)))
    result = runner.invoke(args=["eventhub", "import-programme", str(path), "--event", "cli"])
    assert result.exit_code == 0, result.output
    created = watcher.wait_for("session.updated")
    assert created["starts_at"] == "2030-06-28T09:00:00+00:00"

    path.write_bytes(programme("talk-1@test", datetime(2030, 6, 28, 11, tzinfo=UTC),
                               datetime(2030, 6, 28, 12, tzinfo=UTC)))
    result = runner.invoke(args=["eventhub", "import-programme", str(path), "--event", "cli"])
    assert result.exit_code == 0, result.output
    moved = watcher.wait_for("session.updated",
                             lambda p: p["starts_at"] == "2030-06-28T11:00:00+00:00")
    assert moved["session_id"] == created["session_id"]
    assert moved["sequence"] > created["sequence"]


def test_zoom_webhook_drives_the_status_seen_live(sio, app, client, sandbox, create_user,
                                                  create_event, create_session):
    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="zoom"))
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    meeting_id = room_of(event_session).external_id
    watcher = sio()
    watcher.subscribe(event_session.event_id)

    secret = sandbox.env()["ZOOM_WEBHOOK_SECRET"]
    body = json.dumps({"event": "meeting.started", "event_ts": int(time.time() * 1000),
                       "payload": {"account_id": "sandbox-account",
                                   "object": {"id": int(meeting_id), "uuid": "abc==",
                                              "topic": "Talk"}}}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body,
                      hashlib.sha256).hexdigest()
    response = client.post("/integrations/zoom/webhook", data=body, headers={
        "x-zm-request-timestamp": stamp, "x-zm-signature": f"v0={digest}",
        "Content-Type": "application/json"})
    assert response.status_code == 200
    update = watcher.wait_for("session.updated", lambda p: p["status"] == "live")
    assert update["session_id"] == event_session.id and update["provider"] == "zoom"
    live_support.assert_clean(watcher, {secret})
