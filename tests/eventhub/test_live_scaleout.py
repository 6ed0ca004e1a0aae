"""Scale-out as the README runs it: two ``gunicorn -k gevent -w 1`` web processes and two
``flask eventhub worker`` processes on PostgreSQL and one Redis, Socket.IO clients on both web
processes, the provider sandbox shared by every process (``EVENTHUB_SANDBOX=<url>``).

The commands are read from README.md's systemd units, so the README stays what works. Checked:
an update through one web process (or a worker) reaches the clients of both; after a
whole-event switch every client's newest state equals the database; a worker killed in the
middle of a switch leaves no room pending beyond the documented bound (lease + recovery
period) and nobody starts another worker; two installations on one Redis server hear nothing
of each other. Without PostgreSQL or Redis the tests skip, saying why; with
``EVENTHUB_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import live_support
import pytest
import requests
from scaleout_support import (
    LATENCY,
    LEASE,
    RECOVER,
    REDIS_URL,
    SESSIONS,
    Installation,
    Stack,
    services,
    wait_for,
)

LiveClient = live_support.LiveClient


__all__ = ["services"]  # the fixture: PostgreSQL and Redis there, or skip (fail in CI)


@pytest.fixture(scope="module")
def first(services) -> Iterator[Installation]:
    installation = Installation()
    yield installation
    installation.drop()


@pytest.fixture(scope="module")
def stack(first, sandbox_server, tmp_path_factory) -> Iterator[Stack]:
    """README's layout: two gevent web processes and two workers, for the whole module."""
    started = Stack(first, sandbox_server.url, tmp_path_factory.mktemp("stack"))
    yield started
    started.stop()


@pytest.fixture
def clients(monkeypatch) -> Iterator[list[LiveClient]]:
    made: list[LiveClient] = []
    live_support.websocket_close(monkeypatch)
    yield made
    for client in made:
        client.close()


def connect(clients: list[LiveClient], url: str, event_id: int,
            token: str | None = None) -> tuple[LiveClient, dict]:
    client = LiveClient(url, token)
    clients.append(client.connect())
    ack = client.subscribe(event_id)
    assert ack["ok"] is True, ack
    return client, ack


def post(url: str, token: str, body: dict) -> requests.Response:
    response = requests.post(url, json=body, headers={"Authorization": f"Bearer {token}"},
                             timeout=30)
    assert response.status_code == 200, response.text
    return response


def shown(client: LiveClient, ack: dict) -> dict[int, tuple]:
    """What a page shows: per session the payload of the highest version (as live.js keeps)."""
    best: dict[int, dict] = {p["session_id"]: p for p in ack["sessions"]}
    for payload in client.received("session.updated"):
        if payload["version"] > best[payload["session_id"]]["version"]:
            best[payload["session_id"]] = payload
    return {sid: (p["mode"], p["room_state"], p["version"]) for sid, p in best.items()}


def in_order(client: LiveClient) -> bool:
    """A web process never delivers an older version of a session after a newer one."""
    seen: dict[int, int] = {}
    for payload in client.received("session.updated"):
        if payload["version"] <= seen.get(payload["session_id"], -1):
            return False
        seen[payload["session_id"]] = payload["version"]
    return True


def switch_event(stack: Stack, web: int, mode: str) -> None:
    installation = stack.installation
    post(f"{stack.webs[web].url}/api/v1/events/{installation.event_id}/switch",
         installation.token, {"mode": mode})


# -- the tests (in this order: the last one kills a worker of the shared stack) --------------


def test_an_update_through_one_web_process_reaches_the_clients_of_both(stack, clients):
    installation, (a, b) = stack.installation, stack.webs
    watchers = [connect(clients, url, installation.event_id)[0] for url in (a.url, b.url)]
    moderator, _ = connect(clients, b.url, installation.event_id, installation.token)
    first_id = installation.session_ids[0]

    post(f"{a.url}/api/v1/sessions/{first_id}/switch", installation.token, {"mode": "online"})
    for client in [*watchers, moderator]:  # a worker made it ready and published via Redis
        client.wait_for("session.updated",
                        lambda p: p["session_id"] == first_id and p["room_state"] == "ready",
                        timeout=20)
    ack = moderator.call("session.status", {"session_id": first_id, "status": "live"})
    assert ack["status"] == "live", ack
    for client in watchers:
        client.wait_for("session.updated",
                        lambda p: p["session_id"] == first_id and p["status"] == "live")
    # Presence is global: the organizer on B counts the client on A as well.
    moderator.wait_for("presence", lambda p: p["clients"] == 3)
    for client in clients:
        live_support.assert_clean(client, {installation.token})
    post(f"{a.url}/api/v1/sessions/{first_id}/switch", installation.token, {"mode": "in_person"})


def test_the_web_processes_tuned_their_garbage_collector(stack):
    """README's gunicorn command reads gunicorn.conf.py from the working directory, whose
    post_worker_init hook tunes the collector of each EventHub worker (eventhub/gctune.py)."""
    for web in stack.webs:
        assert b"start-up objects frozen" in web.log.read_bytes(), web.log.read_text()[-2000:]


def test_after_a_whole_event_switch_every_client_shows_the_database(stack, clients,
                                                                    sandbox_server):
    installation, (a, b) = stack.installation, stack.webs
    pages = [connect(clients, url, installation.event_id, token)
             for url, token in ((a.url, None), (a.url, installation.token), (b.url, None),
                                (b.url, installation.token))]
    switch_event(stack, 0, "online")
    wait_for(lambda: {room for _, room, _ in installation.state().values()} == {"ready"},
             timeout=60, what="every room ready")
    expected = installation.state()
    for client, ack in pages:
        client.wait_until(lambda c=client, a=ack: shown(c, a) == expected, timeout=20)
        assert in_order(client)
    # A client that (re)subscribes now is current at once, with the same versions.
    _, ack = connect(clients, b.url, installation.event_id)
    assert {p["session_id"]: (p["mode"], p["room_state"], p["version"])
            for p in ack["sessions"]} == expected
    switch_event(stack, 1, "in_person")
    wait_for(lambda: {room for _, room, _ in installation.state().values()} == {"deleted"},
             timeout=30, what="every room deleted")


def test_two_installations_on_one_redis_hear_nothing_of_each_other(
        stack, clients, services, sandbox_server, tmp_path):
    one = stack.installation
    two = Installation()
    other = None
    try:
        other = Stack(two, sandbox_server.url, tmp_path, webs=1, workers=1)
        # Same event and session ids in both databases, the same Redis server and db number.
        assert (two.event_id, two.session_ids) == (one.event_id, one.session_ids)
        listener, _ = connect(clients, other.webs[0].url, two.event_id)
        mine, _ = connect(clients, stack.webs[0].url, one.event_id)
        organizer_one, _ = connect(clients, stack.webs[1].url, one.event_id, one.token)
        # Presence keys are the installation's own: installation 2's organizer counts 2.
        _, ack = connect(clients, other.webs[0].url, two.event_id, two.token)
        assert ack["presence"]["clients"] == 2, ack

        session_id = one.session_ids[1]
        post(f"{stack.webs[0].url}/api/v1/sessions/{session_id}/switch", one.token,
             {"mode": "online"})
        mine.wait_for("session.updated", lambda p: p["session_id"] == session_id
                      and p["room_state"] == "ready", timeout=20)
        # Installation 2's own update: once it arrives, anything crossed would have, too.
        post(f"{other.webs[0].url}/api/v1/sessions/{session_id}/status", two.token,
             {"status": "live"})
        listener.wait_for("session.updated", lambda p: p["status"] == "live")
        assert [p["mode"] for p in listener.received("session.updated")] == ["in_person"]
        # Installation 1's jobs ran on its own workers, against its own database.
        assert set(two.state().values()) == {("in_person", None, 0)} | {
            ("in_person", None, 1)}
        assert one.state()[session_id][:2] == ("online", "ready")
        assert organizer_one.received("session.updated")[-1]["mode"] == "online"
    finally:
        if other is not None:
            other.stop()
        two.drop()
        post(f"{stack.webs[0].url}/api/v1/sessions/{one.session_ids[1]}/switch", one.token,
             {"mode": "in_person"})


def test_a_worker_killed_mid_switch_leaves_no_room_pending(stack, clients, sandbox_server):
    """Nobody starts another worker: the survivor takes the dead one's room up by itself."""
    from rq import Worker

    installation = stack.installation
    sandbox_server.faults.latency("daily", LATENCY, times=10_000)
    page, ack = connect(clients, stack.webs[1].url, installation.event_id)
    victim = stack.workers[0]
    import redis

    connection = redis.Redis.from_url(REDIS_URL)

    def victim_job() -> list:
        for worker in Worker.all(connection=connection):
            if worker.pid == victim.process.pid and worker.get_current_job_id():
                job = worker.get_current_job()
                return list(job.args) if job is not None else []
        return []

    try:
        switch_event(stack, 0, "online")
        wait_for(lambda: victim_job(), timeout=30, what="the first worker in a job")
        held = victim_job()
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(10)
        killed_at = time.monotonic()
        assert held[0] == "provision_room", held
        # Documented bound: lease + recovery period, plus the rooms queued ahead of it on the
        # one worker left (each a provider call of LATENCY), plus start-up slack.
        bound = LEASE + RECOVER + SESSIONS * LATENCY + 10
        wait_for(lambda: {room for _, room, _ in installation.state().values()} == {"ready"},
                 timeout=bound, what="every room ready with one worker left")
        assert time.monotonic() - killed_at <= bound
        assert stack.workers[1].process.poll() is None
        expected = installation.state()
        page.wait_until(lambda: shown(page, ack) == expected, timeout=20)
        assert in_order(page)
        # One provider room per session: the dead worker's room was found again by its key.
        rooms = installation.external_ids()
        assert len(set(rooms)) == SESSIONS and set(rooms) <= set(sandbox_server.rooms("daily"))
    finally:
        sandbox_server.faults.clear()
        connection.close()
