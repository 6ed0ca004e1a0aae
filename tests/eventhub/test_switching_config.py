"""Provider configuration mistakes: an unknown or unconfigured provider is a 422 that names the
available ones, missing credentials are named (never their values) at switch time and in the
start-up log, and nothing is written."""

from __future__ import annotations

import logging

import pytest
from lifecycle_support import room_of, sandbox_settings, wait_jobs

from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import Session, VideoRoom
from eventhub.services import provisioning
from tests.conftest import bearer


@pytest.fixture
def app_config(app_config, sandbox):
    """The sandbox configuration without Zoom's client secret."""
    settings = sandbox_settings(sandbox)
    settings["PROVIDERS"] = {k: v for k, v in settings["PROVIDERS"].items()
                             if k != "ZOOM_CLIENT_SECRET"}
    return {**app_config, **settings}


@pytest.fixture
def organizer_token(create_user, api_token):
    """An organizer's API token."""
    return api_token(create_user("organizer"))


def test_unknown_provider_is_422_naming_available(client, create_event, create_session,
                                                  organizer_token):
    """``provider: "skype"`` is refused with the configured providers listed."""
    event_session = create_session(create_event())
    response = client.post(f"/api/v1/sessions/{event_session.id}/switch",
                           json={"mode": "online", "provider": "skype"},
                           headers=bearer(organizer_token))
    assert response.status_code == 422
    error = response.json["error"]
    assert "skype" in error["message"]
    for name in ("jitsi", "bigbluebutton", "whereby", "daily", "teams"):
        assert name in error["message"]
    assert "zoom" not in error["fields"]["provider"]
    assert "Traceback" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Session, event_session.id).mode == "in_person"


def test_missing_credentials_named_at_switch_time(client, sandbox, create_event,
                                                  create_session, organizer_token):
    """The event's default provider lacks a variable: 422 naming it, nothing written."""
    event_session = create_session(create_event(default_provider="zoom"))
    response = client.post(f"/api/v1/sessions/{event_session.id}/switch",
                           json={"mode": "online"}, headers=bearer(organizer_token))
    assert response.status_code == 422
    message = response.json["error"]["message"]
    assert "zoom" in message and "ZOOM_CLIENT_SECRET" in message
    assert sandbox.env()["ZOOM_CLIENT_SECRET"] not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Session, event_session.id).mode == "in_person"
    assert db.session.query(VideoRoom).count() == 0


def test_missing_credentials_fail_event_switch_without_writes(client, create_event,
                                                              create_session, organizer_token):
    """A whole-event switch to an unconfigured default provider changes nothing."""
    event = create_event(default_provider="zoom")
    create_session(event)
    response = client.post(f"/api/v1/events/{event.id}/switch", json={"mode": "online"},
                           headers=bearer(organizer_token))
    assert response.status_code == 422
    assert "ZOOM_CLIENT_SECRET" in response.json["error"]["message"]
    assert db.session.query(VideoRoom).count() == 0


def test_pending_room_on_unconfigured_provider_fails_readably(create_event, create_session):
    """A room left pending on a provider whose credentials were removed since fails with
    the missing variable named (and no retries)."""
    event_session = create_session(create_event(default_provider="zoom"))
    db.session.add(VideoRoom(session=event_session, provider="zoom", data={}, host_data={}))
    db.session.commit()
    provisioning.recover()
    wait_jobs()
    room = room_of(event_session)
    assert room.state == "failed"
    assert room.last_error == "zoom: not configured (missing ZOOM_CLIENT_SECRET)"


def test_start_up_logs_partial_provider_config_by_name(app_config, sandbox, caplog):
    """create_app warns which variables a partly configured provider lacks, never values."""
    caplog.set_level(logging.INFO)
    app = create_app(app_config)
    try:
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert any("zoom" in m and "ZOOM_CLIENT_SECRET" in m for m in warnings), warnings
        for value in app_config["PROVIDERS"].values():
            if len(value) > 8 and not value.startswith("http"):
                assert value not in caplog.text
    finally:
        with app.app_context():
            provisioning.dispatcher().shutdown()
            db.engine.dispose()
