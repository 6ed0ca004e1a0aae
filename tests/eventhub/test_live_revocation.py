"""Who may hold a /live socket: a credential that stops working ends its open sockets and
nothing is pushed to it again; a page of another origin cannot connect at all.

DESIGN.md: a connection whose token is rotated or revoked, whose participant is deleted, or
which is anonymous on an event that was unpublished, is disconnected.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta

import live_support
import pytest
import requests
import websocket

from eventhub.extensions import db
from eventhub.models import Participant, utcnow
from eventhub.services import provisioning
from tests.conftest import bearer

app_config, live_server, sio = live_support.app_config, live_support.live_server, live_support.sio


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for ``condition()`` to hold; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def disconnected(client: live_support.LiveClient) -> Callable[[], bool]:
    return lambda: live_support.NS not in client.sio.namespaces or not client.sio.connected


@pytest.fixture
def today(create_user, create_event, create_session, create_participant, api_token):
    """A published event today with a session inside its join window, and a remote attendee."""
    now = utcnow()
    organizer = create_user("organizer")
    event = create_event(start_date=(now - timedelta(days=1)).date(),
                         end_date=(now + timedelta(days=1)).date())
    soon = create_session(event, start=now + timedelta(minutes=5))
    participant = create_participant(event, "Anna", attendance="remote")
    return {"event": event.id, "soon": soon.id, "participant": participant.id,
            "token": participant.token, "organizer": api_token(organizer)}


def _switch_online(client, app, today) -> None:
    response = client.post(f"/api/v1/sessions/{today['soon']}/switch", json={"mode": "online"},
                           headers=bearer(today["organizer"]))
    assert response.status_code == 200
    with app.app_context():
        provisioning.dispatcher().wait(10)


def test_rotating_a_link_disconnects_its_sockets_and_pushes_nothing_to_them(
        sio, today, client, app):
    old = sio(today["token"])
    old.subscribe(today["event"])
    response = client.post(f"/api/v1/participants/{today['participant']}/token",
                           headers=bearer(today["organizer"]))
    assert response.status_code == 200
    wait_until(disconnected(old))
    fresh = sio(response.get_json()["access_url"].rsplit("/", 1)[1])
    fresh.subscribe(today["event"])
    _switch_online(client, app, today)

    fresh.wait_for("join.open")  # the new link is told; the old socket heard nothing since
    assert old.received("join.open") == []
    assert old.received("session.updated") == []
    with pytest.raises(Exception):  # noqa: B017 - the old token cannot reconnect
        sio(today["token"])


def test_deleting_a_participant_disconnects_their_sockets(sio, today, client, app):
    gone = sio(today["token"])
    gone.subscribe(today["event"])
    response = client.delete(f"/api/v1/participants/{today['participant']}",
                             headers=bearer(today["organizer"]))
    assert response.status_code == 204
    wait_until(disconnected(gone))
    _switch_online(client, app, today)
    assert gone.received("session.updated") == gone.received("join.open") == []


def test_unpublishing_an_event_disconnects_its_anonymous_sockets(sio, today, client, app):
    anonymous, organizer = sio(), sio(today["organizer"])
    anonymous.subscribe(today["event"])
    organizer.subscribe(today["event"])
    response = client.patch(f"/api/v1/events/{today['event']}", json={"published": False},
                            headers=bearer(today["organizer"]))
    assert response.status_code == 200
    wait_until(disconnected(anonymous))
    _switch_online(client, app, today)
    organizer.wait_for("session.updated")  # the organizer still sees the event
    assert anonymous.received("session.updated") == []
    assert organizer.sio.connected


def test_a_credential_changed_by_another_process_is_dropped_at_the_next_scan(
        sio, today, app):
    """A change that no listener in this process heard (another worker, a script writing the
    database) is found by the background task's periodic check."""
    old = sio(today["token"])
    old.subscribe(today["event"])
    with app.app_context():
        participant = db.session.get(Participant, today["participant"])
        participant.token_digest = "0" * 64  # as if rotated elsewhere; no signal here
        db.session.commit()
    wait_until(disconnected(old))


def test_a_revoked_api_token_disconnects_its_socket(sio, today, client):
    organizer = sio(today["organizer"])
    response = client.delete("/api/v1/tokens/current", headers=bearer(today["organizer"]))
    assert response.status_code in (200, 204)
    wait_until(disconnected(organizer))


# -- the Origin check ---------------------------------------------------------------------------


def _moderator_cookie(live_server, create_user) -> str:
    create_user("moderator", email="mod@example.org")
    with requests.Session() as http:
        page = http.get(f"{live_server.url}/login")
        csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
        signed_in = http.post(f"{live_server.url}/login", allow_redirects=False,
                              data={"email": "mod@example.org", "password": "secret-pw-1",
                                    "csrf_token": csrf})
        assert signed_in.status_code in (302, 303)
        return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


def test_a_websocket_from_another_origin_is_refused_even_with_a_moderators_cookie(
        live_server, create_user):
    cookie = _moderator_cookie(live_server, create_user)
    url = live_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, origin="https://evil.example", cookie=cookie, timeout=5)
    assert refused.value.status_code == 400
    own = websocket.create_connection(url, origin=live_server.url, cookie=cookie, timeout=5)
    try:
        assert own.recv().startswith("0{")  # engine.io's open packet: accepted
    finally:
        own.close(timeout=0.05)


def test_polling_from_another_origin_is_refused(live_server, create_user):
    cookie = _moderator_cookie(live_server, create_user)
    url = f"{live_server.url}/socket.io/?EIO=4&transport=polling"
    evil = requests.get(url, headers={"Origin": "https://evil.example", "Cookie": cookie},
                        timeout=5)
    assert evil.status_code == 400
    assert "Access-Control-Allow-Origin" not in evil.headers
    own = requests.get(url, headers={"Origin": live_server.url, "Cookie": cookie}, timeout=5)
    assert own.status_code == 200 and own.text.startswith("0{")
