"""The scale-out harness: an installation in a PostgreSQL schema of its own, and its web
processes and workers started with README.md's systemd commands (test_live_scaleout.py,
test_redis_outage.py)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import db_support
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


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s: {what}"
        time.sleep(0.05)
