"""Redis gone in scale-out mode, and back: pages and the API keep serving, a switch gets a
clear answer at once, and live updates reach the clients again once Redis returns.

The shared Redis server is never stopped: the installation (one gevent web process and one
worker, README's commands, as in test_live_scaleout.py) reaches it through a TCP proxy on
127.0.0.1 that the test cuts (every connection closed, new ones refused at once) and restores.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import live_support
import pytest
import requests
from scaleout_support import REDIS_URL, Installation, Stack, services, wait_for

from tests.conftest import bearer


class RedisProxy:
    """Forwards 127.0.0.1:<port> to the Redis server until cut; restored, it forwards again."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.closing = False
        self.thread = threading.Thread(target=self._accept, name="redis-proxy", daemon=True)
        self.thread.start()

    def url(self, redis_url: str) -> str:
        """``redis_url`` with the proxy's address."""
        parts = urlsplit(redis_url)
        return urlunsplit(parts._replace(netloc=f"127.0.0.1:{self.port}"))

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()  # Redis is "down": the connection ends at once
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.pairs.append((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        self.open.clear()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def restore(self) -> None:
        self.open.set()

    def close(self) -> None:
        self.closing = True
        self.cut()
        self.listener.close()


@pytest.fixture(scope="module")
def proxy() -> Iterator[RedisProxy]:
    parts = urlsplit(REDIS_URL)
    started = RedisProxy((parts.hostname or "127.0.0.1", parts.port or 6379))
    yield started
    started.close()


@pytest.fixture(scope="module")
def outage_stack(services, proxy, sandbox_server, tmp_path_factory) -> Iterator[Stack]:
    installation = Installation()
    started = Stack(installation, sandbox_server.url, tmp_path_factory.mktemp("outage"),
                    webs=2, workers=1, redis_url=proxy.url(REDIS_URL))
    yield started
    started.stop()
    installation.drop()


__all__ = ["services"]  # the fixture: PostgreSQL and Redis there, or skip (fail in CI)


def test_pages_and_api_serve_through_a_redis_outage_and_live_updates_resume(
        outage_stack, proxy, monkeypatch):
    installation, web = outage_stack.installation, outage_stack.webs[0]
    live_support.websocket_close(monkeypatch)
    headers = bearer(installation.token)
    first, second = installation.session_ids[:2]
    client = live_support.LiveClient(web.url).connect()
    try:
        assert client.subscribe(installation.event_id)["ok"] is True
        proxy.cut()
        for path in ("/events/scale", f"/sessions/{first}", f"/api/v1/sessions/{first}",
                     f"/api/v1/events/{installation.event_id}/sessions",
                     f"/calendars/events/{installation.event_id}.ics"):
            response = requests.get(web.url + path, headers=headers, timeout=30)
            assert response.status_code == 200, (path, response.text[:300])
        # A page opened now still follows the event (presence counts live in Redis).
        late = live_support.LiveClient(web.url, installation.token).connect()
        try:
            assert late.subscribe(installation.event_id)["ok"] is True
        finally:
            late.close()
        # Sign-in limits count in Redis: with it gone a sign-in is still answered.
        response = requests.post(f"{web.url}/api/v1/tokens", timeout=30,
                                 json={"email": "org@example.org", "password": "wrong-pass"})
        assert response.status_code == 401, response.text
        # A switch is committed and answered at once: the session online, its room pending;
        # the job could not be queued, and the worker's scan takes the room up once Redis is
        # back.
        response = requests.post(f"{web.url}/api/v1/sessions/{first}/switch", timeout=30,
                                 json={"mode": "online"}, headers=headers)
        assert response.status_code == 200, response.text
        assert (response.json()["mode"], response.json()["room"]["state"]) == ("online",
                                                                               "pending")
        health = requests.get(f"{web.url}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["checks"]["queue"] == "unavailable"
        assert installation.state()[first][1] == "pending"

        proxy.restore()
        # Updates from another process (the worker's) reach this web process's clients again.
        client.wait_for("session.updated", lambda p: p["session_id"] == first
                        and p["room_state"] == "ready", timeout=60)
        response = requests.post(f"{web.url}/api/v1/sessions/{second}/switch", timeout=30,
                                 json={"mode": "online"}, headers=headers)
        assert response.status_code == 200, response.text
        client.wait_for("session.updated", lambda p: p["session_id"] == second
                        and p["room_state"] == "ready", timeout=60)
        assert requests.get(f"{web.url}/healthz", timeout=30).status_code == 200
    finally:
        proxy.restore()
        client.close()
    assert {installation.state()[i][1] for i in (first, second)} == {"ready"}


def listener_failures(web) -> int:
    """How often the web process's Socket.IO listener found Redis unreachable."""
    return web.log.read_text().count("socketio.server: Cannot receive from redis")


def test_an_update_made_elsewhere_while_the_listener_waits_still_arrives(outage_stack, proxy,
                                                                          monkeypatch):
    """Redis channels keep nothing: an update published by another web process while this
    one's listener still waits to try again would be lost. Once subscribed again, the listener
    sends its clients their events' sessions as the database has them."""
    installation, (here, elsewhere) = outage_stack.installation, outage_stack.webs
    live_support.websocket_close(monkeypatch)
    third = installation.session_ids[2]
    client = live_support.LiveClient(here.url).connect()
    try:
        assert client.subscribe(installation.event_id)["ok"] is True
        failures = listener_failures(here)
        proxy.cut()
        wait_for(lambda: listener_failures(here) >= failures + 3, 30,
                 "the listener to fail three times")
        proxy.restore()
        # Going live queues no job: this update is the other web process's alone.
        response = requests.post(f"{elsewhere.url}/api/v1/sessions/{third}/status", timeout=30,
                                 json={"status": "live"}, headers=bearer(installation.token))
        assert response.status_code == 200, response.text
        client.wait_for("session.updated", lambda p: p["session_id"] == third
                        and p["status"] == "live", timeout=30)
    finally:
        proxy.restore()
        client.close()
