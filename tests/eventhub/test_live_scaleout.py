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

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import db_support
import live_support
import pytest
import requests

from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import Event, Session, User
from eventhub.services import access

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS_URL = os.environ.get("EVENTHUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SESSIONS = 12
#: Short lease and scan period, so that the bound (lease + period) fits a test.
LEASE, RECOVER = 3.0, 1.0
#: Each provider create takes this long in the sandbox: a switch is still running when a
#: worker is killed.
LATENCY = 0.3

LiveClient = live_support.LiveClient


@pytest.fixture(scope="module")
def services() -> tuple[str, str]:
    """PostgreSQL and Redis as CI runs them on 127.0.0.1, checked before anything starts."""
    db_support.require_redis(REDIS_URL)
    db_support.require_postgres()
    return db_support.DATABASE_URL, REDIS_URL


class Installation:
    """One EventHub installation: a schema of its own in the test database, seeded."""

    def __init__(self):
        self.schema, self.url = db_support.create_schema()
        # No REDIS_URL in this process's app: Flask-SocketIO keeps a message queue once
        # configured, and later tests in this process must not inherit it.
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": self.url, "SECRET_KEY": "scale-out",
                               "TESTING": True, "REDIS_URL": None})
        from tests.conftest import START, at

        with self.app.app_context():
            db.create_all()
            organizer = User(email="org@example.org", role="organizer", password_hash="x")
            event = Event(slug="scale", title={"en": "Scale"}, timezone="Europe/Moscow",
                          start_date=START, end_date=START, published=True,
                          default_provider="daily")
            sessions = [Session(event=event, title={"en": f"S{i}"},
                                starts_at=at(9) + timedelta(minutes=20 * i),
                                ends_at=at(9) + timedelta(minutes=20 * i + 15))
                        for i in range(SESSIONS)]
            self.token = access.new_token()
            from eventhub.models import ApiToken

            db.session.add_all([organizer, event, *sessions,
                                ApiToken(user=organizer, digest=access.digest(self.token))])
            db.session.commit()
            self.event_id, self.session_ids = event.id, [s.id for s in sessions]
            db.session.remove()

    def state(self) -> dict[int, tuple]:
        """Per session: (mode, room state, version), as committed."""
        with self.app.app_context():
            rows = db.session.scalars(db.select(Session).where(Session.event_id == self.event_id))
            state = {s.id: (s.mode, s.video_room.state if s.video_room else None, s.version)
                     for s in rows}
            db.session.remove()
            return state

    def external_ids(self) -> list[str]:
        """The provider ids of the event's ready rooms."""
        with self.app.app_context():
            rows = db.session.scalars(db.select(Session).where(Session.event_id == self.event_id))
            ids = [s.video_room.external_id for s in rows
                   if s.video_room is not None and s.video_room.state == "ready"]
            db.session.remove()
            return ids

    def drop(self) -> None:
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()
        db_support.drop_schema(self.schema)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readme_command(unit: str, instance: str, run_dir: Path) -> list[str]:
    """The ``ExecStart`` of README.md's systemd unit ``unit``, for ``instance``, run here."""
    readme = (ROOT / "README.md").read_text()
    at = readme.index(f"`{unit}`")
    block = re.search(r"```ini\n(.*?)```", readme[at:], re.S).group(1)
    line = re.search(r"^ExecStart=(.*)$", block.replace("\\\n", " "), re.M).group(1)
    line = line.replace("/srv/eventhub/.venv/bin/", f"{BIN}/").replace("%i", instance)
    line = line.replace("/run/", f"{run_dir}/")
    for path in re.findall(rf"{re.escape(str(run_dir))}/\S+", line):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return shlex.split(line)


class Process:
    """A server or worker process on 127.0.0.1, its output in a file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path,
                 port: int | None = None):
        self.name, self.port, self.log = name, port, log
        self.url = f"http://127.0.0.1:{port}" if port else ""
        self.output = log.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.output,
                                        stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            if not self.port:
                if b"worker on queue" in self.log.read_bytes():
                    return
            else:
                try:
                    if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                        return
                except requests.RequestException:
                    pass
            time.sleep(0.1)
        pytest.fail(f"{self.name} not ready after {timeout}s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.output.close()


def process_env(installation: Installation, sandbox_url: str,
                redis_url: str = REDIS_URL) -> dict[str, str]:
    """The one environment every process of an installation gets (README: /etc/eventhub.env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "EVENTHUB_"))}
    env.update(DATABASE_URL=installation.url, REDIS_URL=redis_url, SECRET_KEY="scale-out",
               EVENTHUB_BASE_URL="http://127.0.0.1", EVENTHUB_ASYNC_MODE="gevent",
               EVENTHUB_SANDBOX=sandbox_url, PYTHONUNBUFFERED="1",
               EVENTHUB_PROVISIONING_LEASE_SECONDS=str(LEASE),
               EVENTHUB_PROVISIONING_RECOVER_SECONDS=str(RECOVER),
               EVENTHUB_PROVIDER_READ_TIMEOUT="5")
    return env


class Stack:
    """An installation's web processes and workers, started with README's commands."""

    def __init__(self, installation: Installation, sandbox_url: str, tmp: Path, *,
                 webs: int = 2, workers: int = 2, redis_url: str = REDIS_URL):
        self.installation = installation
        env = process_env(installation, sandbox_url, redis_url)
        # README's /run/...: a short directory (not pytest's deep tmp_path), as a Unix
        # socket's path (the control socket) has at most 107 bytes.
        self.run_dir = Path(tempfile.mkdtemp(prefix="eh-"))
        self.webs: list[Process] = []
        self.workers: list[Process] = []
        for _ in range(webs):
            port = free_port()
            # Reached directly here (no nginx in front): its own address is its pages' origin,
            # the only one its Socket.IO accepts.
            self.webs.append(Process(
                f"web {port}", readme_command("eventhub-web@.service", str(port), self.run_dir),
                {**env, "EVENTHUB_BASE_URL": f"http://127.0.0.1:{port}"},
                tmp / f"web-{port}.log", port))
        for i in range(1, workers + 1):
            self.workers.append(Process(
                f"worker {i}", readme_command("eventhub-worker@.service", str(i), self.run_dir),
                env, tmp / f"worker-{i}-{installation.schema}.log"))
        try:
            for process in self.webs + self.workers:
                process.wait_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in self.webs + self.workers:
            process.stop()
        shutil.rmtree(self.run_dir, ignore_errors=True)


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


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s: {what}"
        time.sleep(0.05)


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
