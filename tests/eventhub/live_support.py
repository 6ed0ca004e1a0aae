"""Fixtures for the Socket.IO tests: a real server on 127.0.0.1:0 and real python-socketio clients.

``live_server`` serves the test app with werkzeug (threaded) in the app's async mode
("threading"), in a thread that ``shutdown()`` stops; ``sio`` makes connected clients that
record every message and ack, and checks at teardown that none carried a URL or someone's token.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import socketio
import websocket
from flask import Flask
from werkzeug.serving import make_server

from eventhub import live

NS = "/live"


@dataclass
class LiveServer:
    """A running server: its app and base URL."""

    app: Flask
    url: str


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test app served for real on 127.0.0.1 with a free port, stopped after the test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="live-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}"
    app.config["EVENTHUB_BASE_URL"] = url  # its pages' origin: the one /live accepts
    try:
        yield LiveServer(app, url)
    finally:
        live.shutdown(app)
        server.shutdown()
        server.server_close()
        thread.join(5)


class LiveClient:
    """A python-socketio client on ``/live`` that records what it receives."""

    def __init__(self, url: str, token: str | None = None, *, reconnection: bool = False,
                 transports: tuple[str, ...] = ("websocket",)):
        self.url = url
        self.token = token
        self.transports = list(transports)
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.1,
                                   reconnection_delay_max=0.3, randomization_factor=0.1)
        self.messages: list[tuple[str, Any]] = []
        self.acks: list[tuple[str, Any]] = []
        self.cond = threading.Condition()
        self.sio.on("*", self._record, namespace=NS)

    def _record(self, event: str, data: Any = None) -> None:
        with self.cond:
            self.messages.append((event, data))
            self.cond.notify_all()

    def connect(self) -> LiveClient:
        """Connect (raises socketio.exceptions.ConnectionError when refused)."""
        auth = {"token": self.token} if self.token is not None else None
        self.sio.connect(self.url, namespaces=[NS], auth=auth, transports=self.transports,
                         wait_timeout=5)
        return self

    def call(self, event: str, data: Any, timeout: float = 10) -> Any:
        """Emit with an ack and return the ack."""
        ack = self.sio.call(event, data, namespace=NS, timeout=timeout)
        with self.cond:
            self.acks.append((event, ack))
        return ack

    def subscribe(self, event_id: int) -> dict[str, Any]:
        """``subscribe`` and return the ack."""
        return self.call("subscribe", {"event_id": event_id})

    def received(self, event: str) -> list[Any]:
        """The payloads of ``event`` received so far."""
        with self.cond:
            return [data for name, data in self.messages if name == event]

    def wait_for(self, event: str, predicate: Callable[[Any], bool] = lambda _: True,
                 timeout: float = 10) -> Any:
        """The first ``event`` payload satisfying ``predicate``; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for name, data in self.messages:
                    if name == event and predicate(data):
                        return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {event} matching after {timeout}s; got "
                                         f"{self.messages!r}")
                self.cond.wait(left)

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 10) -> None:
        """Wait until ``predicate()`` holds, re-checked on every message; fail after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"condition not met after {timeout}s; got "
                                         f"{self.messages!r}")
                self.cond.wait(left)

    def close(self) -> None:
        """Disconnect and wait for the client's tasks to end."""
        self.sio.shutdown()
        if self.sio.eio.state != "disconnected":
            self.sio.eio.disconnect()


def websocket_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """Close client websockets without waiting 3 s for the server's close frame, which the
    threaded werkzeug server does not send once engine.io has closed the socket."""
    close = websocket.WebSocket.close

    def quick(self: websocket.WebSocket, *args: Any, **kwargs: Any) -> None:
        close(self, *args, **{**kwargs, "timeout": 0.05})

    monkeypatch.setattr(websocket.WebSocket, "close", quick)


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Short background-task periods, so join notices and presence arrive within a test."""
    return {**app_config, "LIVE_JOIN_SCAN_SECONDS": 0.2, "LIVE_PRESENCE_SECONDS": 0.1}


@pytest.fixture
def sio(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[Callable[..., LiveClient]]:
    """``sio(token=None, **options)`` returns a connected client; all are checked and closed."""
    clients: list[LiveClient] = []
    websocket_close(monkeypatch)

    def make(token: str | None = None, *, connect: bool = True, **options: Any) -> LiveClient:
        client = LiveClient(live_server.url, token, **options)
        clients.append(client)
        return client.connect() if connect else client

    yield make
    try:
        tokens = {c.token for c in clients if c.token}
        for client in clients:
            assert_clean(client, tokens)
    finally:
        for client in clients:
            client.close()


def assert_clean(client: LiveClient, tokens: set[str]) -> None:
    """No message or ack carries a URL or a token, but a participant's own join link."""
    for name, original in client.messages + client.acks:
        data = json.loads(json.dumps(original))
        own_links = []
        if name == "join.open":
            own_links.append(data.pop("join_url"))
        if name == "subscribe" and isinstance(data, dict):
            for item in data.get("sessions", []):
                if "join_url" in item:
                    own_links.append(item.pop("join_url"))
        text = json.dumps(data)
        assert "http" not in text and "://" not in text, (name, data)
        for token in tokens:
            assert token not in text, (name, "carries a token")
        for link in own_links:
            assert link.startswith("/join/") and link.endswith(f"?t={client.token}"), link


def wait_scans(app: Flask, count: int = 2, timeout: float = 10.0) -> None:
    """Wait until the live task has finished ``count`` more full scans: after that, whatever it
    would have sent has been sent, so "nothing arrived" means something (a fixed sleep
    proves nothing when the scanner is late)."""
    scanner = app.extensions[live.EXTENSION].scanner
    target = scanner.scans + count
    deadline = time.monotonic() + timeout
    while scanner.scans < target:
        assert time.monotonic() < deadline, f"the live task did no {count} scans in {timeout} s"
        time.sleep(0.02)
