"""Zoom's webhook: signed over the raw body, fresh timestamps only, the URL validation
challenge, and ``meeting.started`` / ``meeting.ended`` driving the session status."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import live_support
import pytest
from api_support import post_chunked
from lifecycle_support import room_of, sandbox_settings, wait_jobs

from eventhub import publish, webhooks
from eventhub.extensions import csrf, db
from eventhub.models import Session
from eventhub.services import provider_events, switching

live_server = live_support.live_server


@pytest.fixture
def app_config(app_config, sandbox):
    """The test app talks to the sandbox (and knows Zoom's webhook secret)."""
    return {**app_config, **sandbox_settings(sandbox)}


@pytest.fixture
def app(app):
    """The app with the webhook blueprint, as create_app wires it (idempotent)."""
    if "webhooks" not in app.blueprints:
        csrf.exempt(webhooks.bp)
        app.register_blueprint(webhooks.bp)
    return app


@pytest.fixture
def secret(sandbox) -> str:
    """Zoom's webhook secret token."""
    return sandbox.env()["ZOOM_WEBHOOK_SECRET"]


@pytest.fixture
def send(client, secret):
    """POST a Zoom event, signed as Zoom signs it (or with the given headers)."""

    def post(body: dict | bytes, *, timestamp: int | None = None, signature: str | None = None,
             provider: str = "zoom"):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw,
                          hashlib.sha256).hexdigest()
        headers = {"x-zm-request-timestamp": stamp,
                   "x-zm-signature": signature if signature is not None else f"v0={digest}",
                   "Content-Type": "application/json"}
        return client.post(f"/integrations/{provider}/webhook", data=raw, headers=headers)

    return post


@pytest.fixture
def zoom_session(create_user, create_event, create_session):
    """A session with a ready Zoom room in the sandbox; returns (session, meeting id)."""
    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="zoom"))
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    room = room_of(event_session)
    assert room.state == "ready"
    return event_session, room.external_id


def meeting_event(name: str, meeting_id: str) -> dict:
    """A Zoom meeting event body (the fields Zoom sends that we read, plus some we don't)."""
    return {"event": name, "event_ts": int(time.time() * 1000),
            "payload": {"account_id": "sandbox-account",
                        "object": {"id": int(meeting_id), "uuid": "abc==", "topic": "Talk"}}}


def status_of(event_session: Session) -> str:
    """The session's status in the database now."""
    db.session.expire_all()
    return db.session.get(Session, event_session.id).status


def test_url_validation_challenge(send, secret):
    """``endpoint.url_validation`` is answered with the HMAC of the plain token."""
    response = send({"event": "endpoint.url_validation",
                     "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})
    assert response.status_code == 200
    expected = hmac.new(secret.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert response.json == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}


def test_meeting_started_then_ended_drive_status(app, send, zoom_session):
    """started -> live, ended -> ended, each published once after its commit."""
    event_session, meeting_id = zoom_session
    seen: list[dict] = []
    publish.add_listener(app, seen.append)  # the app is this test's own
    response = send(meeting_event("meeting.started", meeting_id))
    assert response.status_code == 200 and response.json == {"status": "applied"}
    assert status_of(event_session) == "live"
    assert [p["status"] for p in seen] == ["live"]
    again = send(meeting_event("meeting.started", meeting_id))  # Zoom retried: no change
    assert again.status_code == 200 and again.json == {"status": "ignored"}
    assert send(meeting_event("meeting.ended", meeting_id)).json == {"status": "applied"}
    assert status_of(event_session) == "ended"
    assert [p["status"] for p in seen] == ["live", "ended"]


@pytest.mark.parametrize(("before", "event", "after"), [
    ("delayed", "meeting.started", "live"),
    ("paused", "meeting.started", "paused"),  # a moderator's pause wins
    ("paused", "meeting.ended", "ended"),
    ("scheduled", "meeting.ended", "scheduled"),  # never started here: ignored
    ("cancelled", "meeting.started", "cancelled"),  # a moderator's cancellation wins
    ("ended", "meeting.started", "ended"),
])
def test_status_machine_is_respected(before, event, after, send, zoom_session):
    """Only legal transitions happen; anything else is ignored with 200."""
    event_session, meeting_id = zoom_session
    event_session.status = before
    db.session.commit()
    response = send(meeting_event(event, meeting_id))
    assert response.status_code == 200
    assert status_of(event_session) == after


def test_bad_signature_is_401(send, zoom_session):
    """A wrong signature changes nothing."""
    event_session, meeting_id = zoom_session
    response = send(meeting_event("meeting.started", meeting_id), signature="v0=deadbeef")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"
    assert status_of(event_session) == "scheduled"


def test_signature_is_over_the_raw_body(client, secret, zoom_session):
    """The same JSON re-serialized differently no longer matches the signature."""
    event_session, meeting_id = zoom_session
    raw = json.dumps(meeting_event("meeting.started", meeting_id), indent=2).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw,
                                 hashlib.sha256).hexdigest()
    compact = json.dumps(json.loads(raw)).encode()
    headers = {"x-zm-request-timestamp": stamp, "x-zm-signature": signature}
    assert client.post("/integrations/zoom/webhook", data=compact,
                       headers=headers).status_code == 401
    assert client.post("/integrations/zoom/webhook", data=raw,
                       headers=headers).status_code == 200
    assert status_of(event_session) == "live"


@pytest.mark.parametrize("skew", [-305, 305, -3600])
def test_stale_or_future_timestamp_is_401(skew, send, zoom_session):
    """A correctly signed request more than 5 minutes off the clock is refused. (Five seconds
    past the bound: the stamp is whole seconds, and a loaded machine may take a while to send.)"""
    event_session, meeting_id = zoom_session
    response = send(meeting_event("meeting.started", meeting_id),
                    timestamp=int(time.time()) + skew)
    assert response.status_code == 401
    assert status_of(event_session) == "scheduled"


def test_missing_headers_are_401(client, zoom_session):
    """No signature headers at all: 401."""
    response = client.post("/integrations/zoom/webhook", json={"event": "meeting.started"})
    assert response.status_code == 401


def test_unknown_provider_is_404(send):
    """Providers without a webhook have no endpoint."""
    assert send({"event": "x"}, provider="skype").status_code == 404
    assert send({"event": "x"}, provider="daily").status_code == 404


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_bad_json_is_400(raw, send):
    """A signed body that is not a JSON object is a 400."""
    response = send(raw)
    assert response.status_code == 400
    assert "error" in response.json


def test_unknown_meeting_is_200_ignored(send, zoom_session):
    """Zoom retries anything but 2xx: an unknown meeting is acknowledged and ignored."""
    event_session, _meeting_id = zoom_session
    response = send(meeting_event("meeting.started", "99999999999"))
    assert response.status_code == 200 and response.json == {"status": "ignored"}
    assert status_of(event_session) == "scheduled"


def test_other_events_are_200_ignored(send):
    """Events we do not use are acknowledged."""
    response = send({"event": "meeting.sharing_started", "payload": {"object": {"id": 1}}})
    assert response.status_code == 200 and response.json == {"status": "ignored"}


def test_service_ignores_rooms_that_are_not_ready(zoom_session, create_user):
    """A meeting of a room switched back in person no longer drives the session."""
    event_session, meeting_id = zoom_session
    switching.switch_session(event_session, "in_person", actor=create_user("organizer"))
    wait_jobs()
    assert provider_events.apply_provider_event("zoom", meeting_id, "started") is None
    assert status_of(event_session) == "scheduled"


# -- replays and hostile bodies -------------------------------------------------------------


def test_a_replayed_delivery_is_not_applied_again(send, zoom_session):
    """The same signed request again (an attacker's replay within the 5 minutes, or Zoom's
    retry of a delivery) changes nothing, even where the status machine would allow it."""
    event_session, meeting_id = zoom_session
    body = json.dumps(meeting_event("meeting.started", meeting_id)).encode()
    stamp = int(time.time())
    assert send(body, timestamp=stamp).json == {"status": "applied"}
    event_session.status = "scheduled"  # as if reinstated meanwhile
    db.session.commit()
    again = send(body, timestamp=stamp)
    assert again.status_code == 200 and again.json == {"status": "ignored"}
    retried = send(body, timestamp=stamp + 30)  # Zoom's retry: same body, new timestamp
    assert retried.json == {"status": "ignored"}
    assert status_of(event_session) == "scheduled"
    later = meeting_event("meeting.started", meeting_id)
    later["event_ts"] += 1000  # a new delivery is applied
    assert send(later).json == {"status": "applied"}
    assert status_of(event_session) == "live"


def test_meeting_started_never_undoes_a_pause(send, zoom_session, create_user):
    from eventhub.services import sessions as session_service

    event_session, meeting_id = zoom_session
    organizer = create_user("organizer", email="boss@example.org")
    body = json.dumps(meeting_event("meeting.started", meeting_id)).encode()
    assert send(body).json == {"status": "applied"}
    session_service.set_session_status(organizer, event_session, "paused")
    assert send(body).json == {"status": "ignored"}
    fresh = meeting_event("meeting.started", meeting_id)
    fresh["event_ts"] += 1000
    assert send(fresh).json == {"status": "ignored"}
    assert status_of(event_session) == "paused"


def test_deeply_nested_signed_json_is_400(send, zoom_session):
    depth = 100_000
    response = send(b"[" * depth + b"]" * depth)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "bad_request"


def test_a_signed_chunked_body_over_1_mib_is_413(live_server, secret):
    raw = json.dumps({"event": "meeting.started", "pad": "x" * (1024 * 1024 + 10)}).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw,
                      hashlib.sha256).hexdigest()
    port = int(live_server.url.rsplit(":", 1)[1])
    status = post_chunked(port, "/integrations/zoom/webhook",
                          {"x-zm-request-timestamp": stamp, "x-zm-signature": f"v0={digest}",
                           "Content-Type": "application/json"}, raw)
    assert status == 413
