"""Scale-out: two real server processes on PostgreSQL and one Redis; an update made through one
(or by a background worker process) reaches the clients of both.

Server A is ``flask eventhub serve`` (threading), server B is production's
``gunicorn -k gevent -w 1`` with ``EVENTHUB_ASYNC_MODE=gevent``. Without PostgreSQL or Redis the
tests skip, saying why; with ``EVENTHUB_REQUIRE_SERVICES=1`` (CI) they fail instead.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import live_support
import pytest
import requests

from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import Event, Session, User
from eventhub.services import access

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("EVENTHUB_TEST_DATABASE_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("EVENTHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

LiveClient = live_support.LiveClient
websocket_close = live_support.websocket_close


def unavailable(message: str) -> None:
    """Skip, or fail where the services must be there (CI sets EVENTHUB_REQUIRE_SERVICES=1)."""
    if os.environ.get("EVENTHUB_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def services() -> tuple[str, str]:
    """PostgreSQL and Redis as CI runs them on 127.0.0.1, checked before anything starts."""
    import psycopg
    import redis

    try:
        # The test database of Redis is this module's own: no presence counts or RQ jobs left
        # by earlier runs (a stopped server's counts would linger until they expire).
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL} is not reachable: {exc}")
    plain = DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(plain, connect_timeout=3).close()
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL at {plain} is not reachable: {exc}")
    return DATABASE_URL, REDIS_URL


@pytest.fixture
def database(services) -> Iterator[str]:
    """A schema of its own in the shared ``test`` database, dropped afterwards."""
    import psycopg

    database_url, _ = services
    schema = f"eventhub_{uuid.uuid4().hex[:12]}"
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{database_url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def world(database, tmp_path):
    """Tables, an organizer with an API token, a published event with two sessions.

    This process's app has no REDIS_URL: Flask-SocketIO keeps a message queue once configured,
    and later tests in this process must not inherit it.
    """
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "scale-out",
                      "TESTING": True, "REDIS_URL": None})
    from tests.conftest import START, at

    with app.app_context():
        db.create_all()
        organizer = User(email="org@example.org", role="organizer", password_hash="x")
        event = Event(slug="scale", title={"en": "Scale"}, timezone="Europe/Moscow",
                      start_date=START, end_date=START, published=True)
        sessions = [Session(event=event, title={"en": f"S{i}"}, starts_at=at(10 + i),
                            ends_at=at(11 + i)) for i in range(2)]
        token = access.new_token()
        from eventhub.models import ApiToken

        db.session.add_all([organizer, event, *sessions,
                            ApiToken(user=organizer, digest=access.digest(token))])
        db.session.commit()
        ids = {"event": event.id, "sessions": [s.id for s in sessions], "token": token}
        db.session.remove()
        db.engine.dispose()
    return ids


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server process on 127.0.0.1, its output in a file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], port: int,
                 log: Path):
        self.name, self.port, self.log = name, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.output = log.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.output,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        pytest.fail(f"{self.name} not ready after {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.output.close()


def server_env(database: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "EVENTHUB_"))}
    env.update(DATABASE_URL=database, REDIS_URL=REDIS_URL, SECRET_KEY="scale-out",
               EVENTHUB_BASE_URL="http://127.0.0.1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


@pytest.fixture
def servers(world, database, tmp_path) -> Iterator[list[Server]]:
    """Server A (flask serve, threading) and server B (gunicorn, gevent), both on Redis."""
    port_a, port_b = free_port(), free_port()
    started = [
        Server("flask serve", [str(BIN / "flask"), "--app", "wsgi", "eventhub", "serve",
                               "--port", str(port_a)],
               # Each is reached directly here: its own address is its pages' origin.
               server_env(database, EVENTHUB_BASE_URL=f"http://127.0.0.1:{port_a}"), port_a,
               tmp_path / "a.log"),
        Server("gunicorn gevent", [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1",
                                   "-b", f"127.0.0.1:{port_b}", "--graceful-timeout", "2",
                                   "wsgi:app"],
               server_env(database, EVENTHUB_ASYNC_MODE="gevent",
                          EVENTHUB_BASE_URL=f"http://127.0.0.1:{port_b}"), port_b,
               tmp_path / "b.log"),
    ]
    try:
        for server in started:
            server.wait_ready()
        yield started
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def clients(monkeypatch) -> Iterator[list[LiveClient]]:
    made: list[LiveClient] = []
    websocket_close(monkeypatch)
    yield made
    for client in made:
        client.close()


def run_worker(database: str) -> None:
    """Another process's commits, as a background worker makes them: provision the rooms."""
    script = (
        "from wsgi import app\n"
        "with app.app_context():\n"
        "    queue = app.extensions.get('eventhub.rq')\n"
        "    if queue is not None:\n"
        "        from rq import SimpleWorker\n"
        "        SimpleWorker([queue], connection=queue.connection).work(burst=True)\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=server_env(database),
                   check=True, timeout=60, capture_output=True)


def test_an_update_through_one_server_reaches_the_clients_of_both(
        world, database, servers, clients):
    a, b = servers
    for url, token in ((a.url, None), (a.url, None), (b.url, None), (b.url, world["token"])):
        client = LiveClient(url, token)
        clients.append(client.connect())
        assert client.subscribe(world["event"])["ok"] is True
    first, second = world["sessions"]

    response = requests.post(f"{a.url}/api/v1/sessions/{first}/switch", json={"mode": "online"},
                             headers={"Authorization": f"Bearer {world['token']}"}, timeout=10)
    assert response.status_code == 200, response.text
    for client in clients:
        update = client.wait_for("session.updated", lambda p: p["session_id"] == first)
        assert update["mode"] == "online" and update["room_state"] == "pending"

    run_worker(database)  # RQ mode: the worker process provisions and publishes via Redis
    for client in clients:
        client.wait_for("session.updated",
                        lambda p: p["session_id"] == first and p["room_state"] == "ready")

    moderator = clients[-1]  # on the gevent server; its change reaches server A's clients
    ack = moderator.call("session.status", {"session_id": second, "status": "live"})
    assert ack["status"] == "live", ack
    for client in clients:
        client.wait_for("session.updated",
                        lambda p: p["session_id"] == second and p["status"] == "live")

    # A REST request on the gevent server: its broadcast goes out once its response is sent.
    response = requests.post(f"{b.url}/api/v1/sessions/{second}/status",
                             json={"status": "paused"}, timeout=10,
                             headers={"Authorization": f"Bearer {world['token']}"})
    assert response.status_code == 200, response.text
    for client in clients:
        client.wait_for("session.updated",
                        lambda p: p["session_id"] == second and p["status"] == "paused")

    # Presence is global: the organizer on B counts the two clients of A as well.
    moderator.wait_for("presence", lambda p: p["clients"] == 4)
    tokens = {world["token"]}
    for client in clients:
        live_support.assert_clean(client, tokens)


def test_a_client_of_the_gevent_server_reconnects_to_the_other(world, servers, clients):
    a, b = servers
    client = LiveClient(b.url)
    clients.append(client.connect())
    client.subscribe(world["event"])
    client.close()
    again = LiveClient(a.url)  # a load balancer may send a new connection elsewhere
    clients.append(again.connect())
    ack = again.subscribe(world["event"])
    assert [s["session_id"] for s in ack["sessions"]] == world["sessions"]
