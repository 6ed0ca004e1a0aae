"""Soak: the `make run` server under mixed load for a long while, then checked for leftovers.

``make soak`` (``python -m bench.soak``): 10 minutes at 50 requests/s (pages, API reads,
calendar feeds) beside 500 Socket.IO clients subscribed to the demo event, with a session
switched online or back every few seconds through the API. The server is the `make run` one
(``flask eventhub init-db``, ``seed-demo``, ``serve`` on 127.0.0.1, threading mode) on a
temporary SQLite file; nothing leaves 127.0.0.1 (the demo's rooms are Jitsi URLs).

Checked at the end, and the run fails (exit 1) otherwise: no error response (every answer
below 400, no request failed), the server's threads and open file descriptors back to their
start once the clients have gone, and every client's view of every session (mode, status,
room state, sequence) equal to the server's. Reported: the server's memory (RSS) curve.

The clients run in processes of 100 each (``Clients``), which the run asks for their views
all at once and closes all at once: a single process of 500 python-socketio clients (four
threads each) took 3 s per close, one after another, and its read loops fell behind. A client
keeps a payload only when its ``version`` is newer, as the pages do.

``--duration 60 --clients 50 --rate 20`` is the form tests/eventhub/test_soak.py runs in the
suite (``run(...)`` returns the figures).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NS = "/live"
FIELDS = ("mode", "status", "room_state", "sequence")


@dataclass
class Figures:
    """What a soak measured."""

    duration: float = 0.0
    requests: int = 0
    errors: list[str] = field(default_factory=list)
    switches: int = 0
    clients: int = 0
    diverged: list[str] = field(default_factory=list)
    threads: tuple[int, int] = (0, 0)  # server threads at the start and after the clients left
    fds: tuple[int, int] = (0, 0)
    rss_mib: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MiB)
    fds_left: list[str] = field(default_factory=list)  # what the extra fds at the end are

    @property
    def ok(self) -> bool:
        return (not self.errors and not self.diverged and self.threads[1] <= self.threads[0]
                and self.fds[1] <= self.fds[0])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proc(pid: int) -> tuple[int, int, float]:
    """The process's threads, open file descriptors and RSS in MiB (Linux /proc)."""
    threads = len(os.listdir(f"/proc/{pid}/task"))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
    return threads, fds, rss


def _fd_targets(pid: int) -> list[str]:
    """What the process's file descriptors point at (files, sockets, pipes)."""
    targets = []
    for name in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{name}"))
        except OSError:  # closed meanwhile
            pass
    return sorted(targets)


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


class Server:
    """`make run`'s three commands on a temporary database."""

    def __init__(self, workdir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("FLASK_", "EVENTHUB_", "DATABASE_", "REDIS_"))}
        self.env.update(DATABASE_URL=f"sqlite:///{workdir / 'soak.db'}", SECRET_KEY="soak",  # noqa: S106
                        EVENTHUB_BASE_URL=self.url, PYTHONUNBUFFERED="1",
                        EVENTHUB_SIGN_IN_LIMIT="1000 per minute")
        self.log = open(workdir / "server.log", "w")  # noqa: SIM115 - closed in stop()
        flask = [str(BIN / "flask"), "--app", "wsgi", "eventhub"]
        for command in (["init-db"], ["seed-demo", "--if-empty"],
                        ["create-user", "soak@example.org", "--role", "organizer",
                         "--password", "soak-pass-1"]):
            subprocess.run(flask + command, cwd=ROOT, env=self.env, check=True,
                           stdout=self.log, stderr=subprocess.STDOUT)
        self.process = subprocess.Popen(flask + ["serve", "--host", "127.0.0.1", "--port",
                                                 str(self.port)],
                                        cwd=ROOT, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        import requests

        if not _wait(lambda: self._up(requests), 60):
            raise RuntimeError(f"server did not start; see {workdir / 'server.log'}")

    def _up(self, requests: Any) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


class Watcher:
    """One Socket.IO client that keeps the latest view of every session of the event: a
    payload replaces what it holds only when its ``version`` is newer (as the pages do), since
    updates made in different threads may arrive in either order."""

    def __init__(self, url: str, event_id: int):
        import socketio

        self.sio = socketio.Client(reconnection=False)
        self.view: dict[int, dict[str, Any]] = {}
        self.versions: dict[int, int] = {}
        self.lock = threading.Lock()
        self.sio.on("session.updated", self._update, namespace=NS)
        self.sio.connect(url, namespaces=[NS], transports=["websocket"], wait_timeout=20)
        ack = self.sio.call("subscribe", {"event_id": event_id}, namespace=NS, timeout=30)
        for item in ack["sessions"]:
            self._update(item)

    def _update(self, payload: dict[str, Any]) -> None:
        with self.lock:
            session_id = payload["session_id"]
            if payload.get("version", 0) >= self.versions.get(session_id, -1):
                self.versions[session_id] = payload.get("version", 0)
                self.view[session_id] = _pick(payload)

    def snapshot(self) -> dict[int, dict[str, Any]]:
        with self.lock:
            return dict(self.view)

    def close(self) -> None:
        self.sio.shutdown()


def _pick(payload: dict[str, Any]) -> dict[str, Any]:
    return {name: payload.get(name) for name in FIELDS}


def _watch(url: str, event_id: int, count: int, pipe: Any) -> None:
    """A client process: ``count`` watchers, then answers the parent's requests on ``pipe``:
    "views" (every watcher's view), "close" (disconnect all, at once, within a bound)."""
    with ThreadPoolExecutor(16) as pool:
        watchers = list(pool.map(lambda _: Watcher(url, event_id), range(count)))
    pipe.send(len(watchers))
    while True:
        request = pipe.recv()
        if request == "views":
            pipe.send([watcher.snapshot() for watcher in watchers])
        elif request == "close":
            # Each close waits up to 3 s for a close frame the server does not send: all at
            # once, so a process of clients closes in seconds, not count x 3 s.
            closing = [threading.Thread(target=watcher.close, daemon=True)
                       for watcher in watchers]
            for thread in closing:
                thread.start()
            deadline = time.monotonic() + 30
            for thread in closing:
                thread.join(max(0.0, deadline - time.monotonic()))
            pipe.send(sum(not thread.is_alive() for thread in closing))
            return


class Clients:
    """``count`` watchers spread over processes of at most ``per_process`` clients each: one
    process of 500 python-socketio clients (four threads each) starves its own read loops."""

    def __init__(self, url: str, event_id: int, count: int, per_process: int = 100):
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.pipes: list[Any] = []
        self.processes: list[Any] = []
        sizes = [per_process] * (count // per_process) + ([count % per_process]
                                                           if count % per_process else [])
        for size in sizes:
            parent, child = context.Pipe()
            process = context.Process(target=_watch, args=(url, event_id, size, child),
                                      daemon=True)
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)
        self.connected = sum(self._answer(pipe, 120) for pipe in self.pipes)

    @staticmethod
    def _answer(pipe: Any, timeout: float) -> Any:
        if not pipe.poll(timeout):
            raise TimeoutError(f"a client process did not answer within {timeout:.0f} s")
        return pipe.recv()

    def views(self, timeout: float = 60) -> list[dict[int, dict[str, Any]]]:
        """Every client's view, asked of all processes at once."""
        for pipe in self.pipes:
            pipe.send("views")
        return [view for pipe in self.pipes for view in self._answer(pipe, timeout)]

    def close(self, timeout: float = 60) -> int:
        """Disconnect every client; how many closed within the bound."""
        for pipe in self.pipes:
            pipe.send("close")
        closed = 0
        for pipe in self.pipes:
            try:
                closed += self._answer(pipe, timeout)
            except (TimeoutError, EOFError):
                pass
        self.stop()
        return closed

    def stop(self) -> None:
        """End the client processes (those still running after 10 s are killed)."""
        for process in self.processes:
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join(5)


def _server_view(http: Any, url: str, event_id: int, token: str) -> dict[int, dict[str, Any]]:
    items = http.get(f"{url}/api/v1/events/{event_id}/sessions?limit=500",
                     headers={"Authorization": f"Bearer {token}"}, timeout=30).json()["items"]
    return {s["id"]: {"mode": s["mode"], "status": s["status"],
                      "room_state": (s["room"] or {}).get("state"), "sequence": s["sequence"]}
            for s in items}


def run(duration: float = 600, clients: int = 500, rate: float = 50,
        switch_every: float = 3.0, report: Callable[[str], None] = print) -> Figures:
    """Soak the `make run` server; return what was measured (see the module's docstring)."""
    import requests

    figures = Figures(clients=clients)
    with tempfile.TemporaryDirectory(prefix="eventhub-soak-") as tmp:
        server = Server(Path(tmp))
        http = requests.Session()
        watching: Clients | None = None
        try:
            token = http.post(f"{server.url}/api/v1/tokens", timeout=30, json={
                "email": "soak@example.org", "password": "soak-pass-1"}).json()["token"]
            event = http.get(f"{server.url}/api/v1/events", timeout=30).json()["items"][0]
            sessions = _server_view(http, server.url, event["id"], token)
            _warm_up(server, http, event, token)
            start = _proc(server.process.pid)
            opened = _fd_targets(server.process.pid)
            figures.threads, figures.fds = (start[0], 0), (start[1], 0)
            report(f"server up: {start[0]} threads, {start[1]} fds, {start[2]:.1f} MiB; "
                   f"connecting {clients} clients")
            watching = Clients(server.url, event["id"], clients)
            report(f"{watching.connected} clients connected in "
                   f"{len(watching.processes)} processes")
            figures.errors += _load(server, http, event, token, sessions, duration, rate,
                                    switch_every, figures, report)
            # Quiet now: every client must come to the server's state.
            wanted = _server_view(http, server.url, event["id"], token)
            views: list[dict[int, dict[str, Any]]] = []

            def converged() -> bool:
                nonlocal wanted, views
                wanted = _server_view(http, server.url, event["id"], token)
                views = watching.views()
                return all(view == wanted for view in views)

            _wait(converged, 30)
            for number, view in enumerate(views):
                for session_id, state in wanted.items():
                    if view.get(session_id) != state:
                        figures.diverged.append(f"client {number} session {session_id}: "
                                                f"{view.get(session_id)} != {state}")
            closed = watching.close()
            if closed != clients:
                figures.errors.append(f"{clients - closed} clients did not close in time")
            report(f"{closed} clients closed; waiting for the server's threads and fds")
            _wait(lambda: _proc(server.process.pid)[0] <= start[0]
                  and _proc(server.process.pid)[1] <= start[1], 30)
            end = _proc(server.process.pid)
            figures.threads, figures.fds = (start[0], end[0]), (start[1], end[1])
            left = _fd_targets(server.process.pid)
            for target in opened:
                if target in left:
                    left.remove(target)
            figures.fds_left = left
        finally:
            if watching is not None:
                for process in watching.processes:
                    process.kill()
                watching.stop()
            http.close()
            server.stop()
    report(summary(figures))
    return figures


def _warm_up(server: Server, http: Any, event: dict, token: str) -> None:
    """Bring the server's pools to their working size before counting threads and fds:
    a whole-event switch there and back fills the provisioning pool, a burst of parallel
    requests the database connection pool, a client starts the live task; then wait until
    the counts stand still."""
    headers = {"Authorization": f"Bearer {token}"}
    for mode in ("online", "as_planned"):
        http.post(f"{server.url}/api/v1/events/{event['id']}/switch", json={"mode": mode},
                  headers=headers, timeout=60)
    import requests

    def burst(path: str) -> None:  # concurrent requests fill the database connection pool
        with requests.Session() as session:
            session.get(server.url + path, timeout=60)

    paths = [f"/events/{event['slug']}", f"/calendars/events/{event['id']}.ics",
             f"/api/v1/events/{event['id']}/sessions"] * 16
    with ThreadPoolExecutor(len(paths)) as pool:
        list(pool.map(burst, paths))
    Watcher(server.url, event["id"]).close()
    last: list[tuple[int, int]] = []

    def still() -> bool:
        threads, fds, _ = _proc(server.process.pid)
        last.append((threads, fds))
        return len(last) > 10 and len(set(last[-10:])) == 1

    _wait(still, 30)


def _load(server: Server, http: Any, event: dict, token: str, sessions: dict[int, Any],
          duration: float, rate: float, switch_every: float, figures: Figures,
          report: Callable[[str], None]) -> list[str]:
    """Paced mixed requests and periodic switches for ``duration`` seconds; the errors."""
    import requests

    ids = sorted(sessions)
    paths = [f"/events/{event['slug']}", f"/api/v1/events/{event['id']}/sessions",
             f"/calendars/events/{event['id']}.ics", "/", f"/sessions/{ids[0]}",
             f"/api/v1/sessions/{ids[-1]}", "/healthz"]
    errors: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    opened: list[Any] = []

    def get(path: str) -> None:
        session = getattr(local, "http", None)
        if session is None:
            session = local.http = requests.Session()
            with lock:
                opened.append(session)
        try:
            response = session.get(server.url + path, timeout=30)
            if response.status_code >= 400:
                with lock:
                    errors.append(f"GET {path}: {response.status_code}")
        except requests.RequestException as exc:
            with lock:
                errors.append(f"GET {path}: {exc.__class__.__name__}")

    begun = time.monotonic()
    next_switch, next_sample = begun, begun
    modes = itertools.cycle(["online", "in_person"])
    with ThreadPoolExecutor(max(8, int(rate))) as pool:
        for number in itertools.count():
            now = time.monotonic()
            if now - begun >= duration:
                break
            if now >= next_switch:
                session_id, mode = random.choice(ids), next(modes)  # noqa: S311 - load mix
                response = http.post(f"{server.url}/api/v1/sessions/{session_id}/switch",
                                     json={"mode": mode}, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"})
                figures.switches += 1
                if response.status_code >= 400 and response.status_code != 409:
                    errors.append(f"switch {session_id}: {response.status_code}")
                next_switch = now + switch_every
            if now >= next_sample:
                threads, fds, rss = _proc(server.process.pid)
                figures.rss_mib.append((round(now - begun, 1), round(rss, 1)))
                report(f"t={now - begun:6.1f}s  rss={rss:7.1f} MiB  threads={threads}  "
                       f"fds={fds}  requests={figures.requests}  errors={len(errors)}")
                next_sample = now + max(5.0, duration / 20)
            pool.submit(get, paths[number % len(paths)])
            figures.requests += 1
            time.sleep(max(0.0, begun + (number + 1) / rate - time.monotonic()))
    figures.duration = time.monotonic() - begun
    for session in opened:  # their keep-alive connections would count as the server's fds
        session.close()
    return errors


def summary(figures: Figures) -> str:
    """The figures in a few lines."""
    curve = ", ".join(f"{t:.0f}s {m:.0f}" for t, m in figures.rss_mib)
    return "\n".join([
        f"soak: {figures.duration:.0f} s, {figures.requests} requests "
        f"({figures.requests / max(figures.duration, 1):.1f}/s), {figures.switches} switches, "
        f"{figures.clients} Socket.IO clients",
        f"errors: {len(figures.errors)} {figures.errors[:5]}",
        f"clients not at the server's state: {len(figures.diverged)} {figures.diverged[:5]}",
        f"server threads {figures.threads[0]} -> {figures.threads[1]}, "
        f"fds {figures.fds[0]} -> {figures.fds[1]}"
        + (f" (more than at the start: {figures.fds_left})" if figures.fds_left else ""),
        f"RSS (MiB) over time: {curve}",
        "OK" if figures.ok else "FAILED",
    ])


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.soak [--duration S] [--clients N] [--rate R]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--switch-every", type=float, default=3.0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args(argv)
    figures = run(args.duration, args.clients, args.rate, args.switch_every)
    if args.json:
        print(json.dumps(figures.__dict__, default=list))
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
