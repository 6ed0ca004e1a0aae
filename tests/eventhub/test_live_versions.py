"""Published states have an order: ``version`` rises with every change of a session or its room,
and nothing older ever replaces something newer, on the default single-process stack."""

from __future__ import annotations

import live_support
import pytest
import requests
from lifecycle_support import make_sessions, sandbox_settings

from eventhub.extensions import db
from eventhub.models import Session
from eventhub.services import provisioning
from tests.conftest import bearer

app_config, live_server, sio = live_support.app_config, live_support.live_server, live_support.sio


@pytest.fixture
def app_config(app_config, sandbox):  # noqa: F811 - the live settings, plus the sandbox
    return {**app_config, **sandbox_settings(sandbox)}


def shown(client: live_support.LiveClient) -> dict[int, dict]:
    """What a page shows per session: the newest version it received (as live.js keeps it)."""
    state: dict[int, dict] = {}
    for payload in client.received("session.updated"):
        current = state.get(payload["session_id"])
        if current is None or payload["version"] > current["version"]:
            state[payload["session_id"]] = payload
    return state


def database_state(app, ids: list[int]) -> dict[int, tuple]:
    with app.app_context():
        sessions = db.session.scalars(db.select(Session).where(Session.id.in_(ids)))
        return {s.id: (s.mode, s.video_room.state if s.video_room else None, s.version)
                for s in sessions}


def test_a_whole_event_switch_leaves_every_client_with_the_database_state(
        app, live_server, sio, create_user, create_event, create_session, api_token):
    """The request's held ``pending`` payloads used to go out after its jobs' ``ready``."""
    organizer = create_user("organizer")
    event = create_event()  # Jitsi: rooms are ready in a moment, before the request is done
    ids = [s.id for s in make_sessions(create_session, event, 32)]
    token, event_id = api_token(organizer), event.id
    clients = [sio(), sio(token)]
    for client in clients:
        client.subscribe(event_id)

    response = requests.post(f"{live_server.url}/api/v1/events/{event_id}/switch",
                             json={"mode": "online"}, headers=bearer(token), timeout=10)
    assert response.status_code == 200, response.text
    with app.app_context():
        assert provisioning.dispatcher().wait(30)
    expected = database_state(app, ids)
    assert {room for _, room, _ in expected.values()} == {"ready"}

    def current(client) -> bool:
        state = shown(client)
        return all(sid in state and (state[sid]["mode"], state[sid]["room_state"],
                                     state[sid]["version"]) == expected[sid] for sid in ids)

    for client in clients:
        client.wait_until(lambda c=client: current(c), timeout=10)
        # One process can know the order of what it sends: never older after newer.
        seen: dict[int, int] = {}
        for payload in client.received("session.updated"):
            assert payload["version"] > seen.get(payload["session_id"], -1), payload
            seen[payload["session_id"]] = payload["version"]
    ack = clients[0].subscribe(event_id)
    assert {s["session_id"]: s["version"] for s in ack["sessions"]} == {
        sid: version for sid, (_, _, version) in expected.items()}


def test_every_write_of_a_session_or_its_room_raises_its_version(
        app, ctx, create_user, create_event, create_session):
    from eventhub.services import sessions as session_service
    from eventhub.services import switching

    organizer = create_user("organizer")
    event_session = create_session(create_event(default_provider="whereby"))
    versions = [event_session.version]
    switching.switch_session(event_session, "online", actor=organizer)
    versions.append(database_state(app, [event_session.id])[event_session.id][2])
    assert provisioning.dispatcher().wait(30)
    versions.append(database_state(app, [event_session.id])[event_session.id][2])
    db.session.expire_all()
    session_service.set_session_status(organizer, event_session, "live")
    versions.append(database_state(app, [event_session.id])[event_session.id][2])
    assert versions == sorted(set(versions)), versions
