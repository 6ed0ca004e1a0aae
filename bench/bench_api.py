"""The REST API on ``make run``'s own server, against a bare Flask route in the same server.

Run ``python -m bench.bench_api`` (or through ``python -m bench``). It seeds a temporary SQLite
database with a 1,000-session event, starts the server exactly as ``flask eventhub serve`` runs
it (gevent, patched first; the same ``run_server``), with two extra routes that return the same
bytes as the measured endpoints and do nothing else, and loads it from client processes over
keep-alive HTTP connections on 127.0.0.1:

- ``GET /api/v1/events/<id>/sessions?limit=500`` (a page of the 1,000-session programme), by
  an organizer's token and anonymously (served from the response cache when warm:
  :mod:`eventhub.api.programme_cache`),
- ``POST /api/v1/sessions/<id>/status`` (live <-> paused: a commit and a publish each time),

each next to its bare route. Measured: requests per second and the p50/p99 latency. Goal: at
least half the bare route's throughput. Everything stops by itself; nothing is asserted.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = 1000
CLIENTS = 4  # client processes
DURATION = 5.0  # seconds of load per endpoint
QUICK = {"sessions": 40, "clients": 1, "duration": 0.5}
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway account in a temporary database
BOOTSTRAP = ("from gevent import monkey; monkey.patch_all(); "
             "from bench.bench_api import serve; serve()")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _seed(database_url: str, sessions: int) -> dict:
    """The event, one live session per client, an organizer and their API token."""
    from eventhub import create_app, models, shutdown
    from eventhub.extensions import db
    from eventhub.services import users

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        event = models.Event(slug="bench", title={"en": "Bench"}, timezone="UTC",
                             published=True, start_date=date(2030, 6, 1),
                             end_date=date(2030, 6, 30))
        db.session.add(event)
        halls = [models.Room(event=event, name=f"Hall {h}") for h in range(10)]
        start = datetime(2030, 6, 1, 6, tzinfo=UTC)
        rows = []
        for i in range(sessions):
            begin = start + timedelta(hours=i // 10)
            rows.append(models.Session(event=event, room=halls[i % 10],
                                       title={"en": f"Talk {i}", "ru": f"Доклад {i}"},
                                       starts_at=begin, ends_at=begin + timedelta(minutes=50),
                                       status="live" if i < CLIENTS else "scheduled"))
        db.session.add_all(rows)
        db.session.commit()
        users.create_user("bench@example.org", PASSWORD, "organizer", "Bench")
        token = users.issue_api_token("bench@example.org", PASSWORD)
        ids = [s.id for s in rows[:CLIENTS]]
        event_id = event.id
        db.engine.dispose()
    shutdown(app)  # its lease recovery and mail pump: nothing runs on once seeded
    return {"event_id": event_id, "session_ids": ids, "token": token}


def serve() -> None:
    """The server process: the app as ``serve`` builds it, plus the bare routes."""
    from flask import Response

    from eventhub import create_app
    from eventhub.cli import run_server
    from eventhub.extensions import csrf

    app = create_app()
    event_id = int(os.environ["BENCH_EVENT_ID"])
    session_id = int(os.environ["BENCH_SESSION_ID"])
    token = os.environ["BENCH_TOKEN"]
    same: dict[str, bytes] = {}  # the measured endpoints' bytes, taken before serving
    app.add_url_rule("/bench/bare-get", "bench_bare_get",
                     lambda: Response(same["get"], mimetype="application/json"))
    def bare_post() -> Response:
        return Response(same["post"], mimetype="application/json")

    csrf.exempt(bare_post)  # the API it stands beside authenticates by token, not cookie
    app.add_url_rule("/bench/bare-post", "bench_bare_post", bare_post, methods=["POST"])
    client = app.test_client()
    same["get"] = client.get(f"/api/v1/events/{event_id}/sessions?limit=500").data
    same["post"] = client.post(f"/api/v1/sessions/{session_id}/status",
                               json={"status": "live"},
                               headers={"Authorization": f"Bearer {token}"}).data
    with app.app_context():
        run_server(app, "127.0.0.1", int(os.environ["BENCH_PORT"]))


def _load(args: tuple) -> list[float]:
    """One client process: requests on one keep-alive connection for ``duration`` seconds."""
    port, method, paths, body, token, duration = args
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:  # an anonymous reader of the published programme sends none
        headers["Authorization"] = f"Bearer {token}"
    latencies: list[float] = []
    deadline = time.perf_counter() + duration
    n = 0
    while time.perf_counter() < deadline:
        path = paths[n % len(paths)]
        payload = json.dumps(body[n % len(body)]).encode() if body else None
        started = time.perf_counter()
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path} -> {response.status}")
        latencies.append(time.perf_counter() - started)
        n += 1
    connection.close()
    return latencies


def _run(port: int, method: str, paths: list[list[str]], body: list, token: str,
         clients: int, duration: float) -> tuple[float, float, float]:
    """Requests per second, p50 and p99 in ms, over ``clients`` processes."""
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        results = pool.map(_load, [(port, method, paths[c % len(paths)], body, token, duration)
                                   for c in range(clients)])
    latencies = sorted(x for result in results for x in result)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / duration, statistics.median(latencies) * 1000, p99 * 1000


def main(quick: bool = False) -> list:
    """Seed, serve, load, print, return the figures."""
    from bench.report import Figure

    size = QUICK if quick else {"sessions": SESSIONS, "clients": CLIENTS, "duration": DURATION}
    with tempfile.TemporaryDirectory(prefix="eventhub-bench-api-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        seeded = _seed(database_url, size["sessions"])
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench",
               "EVENTHUB_BASE_URL": f"http://127.0.0.1:{port}", "PYTHONPATH": str(ROOT),
               "BENCH_PORT": str(port), "BENCH_EVENT_ID": str(seeded["event_id"]),
               "BENCH_SESSION_ID": str(seeded["session_ids"][0]),
               "BENCH_TOKEN": seeded["token"]}
        env.pop("EVENTHUB_ASYNC_MODE", None)
        server = subprocess.Popen([sys.executable, "-c", BOOTSTRAP], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_ready(port, server)
            token = seeded["token"]
            sessions = f"/api/v1/events/{seeded['event_id']}/sessions?limit=500"
            toggles = [{"status": "paused"}, {"status": "live"}]
            clients, duration = size["clients"], size["duration"]
            rows = {
                "GET sessions": _run(port, "GET", [[sessions]], [], token, clients, duration),
                "GET sessions, anonymous": _run(port, "GET", [[sessions]], [], None, clients,
                                                duration),
                "GET bare": _run(port, "GET", [["/bench/bare-get"]], [], token, clients,
                                 duration),
                "POST status": _run(port, "POST", [[f"/api/v1/sessions/{sid}/status"]
                                                   for sid in seeded["session_ids"]],
                                    toggles, token, clients, duration),
                "POST bare": _run(port, "POST", [["/bench/bare-post"]], toggles, token,
                                  clients, duration),
            }
        finally:
            server.terminate()
            server.communicate(timeout=10)
    print(f"API on serve's gevent server, SQLite, {size['sessions']} sessions, "
          f"{clients} client processes x {duration:g} s, keep-alive")
    print("| endpoint | requests/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    for name, (rps, p50, p99) in rows.items():
        print(f"| {name} | {rps:.0f} | {p50:.1f} | {p99:.1f} |")
    figures = []
    for name, bare in (("GET sessions", "GET bare"), ("GET sessions, anonymous", "GET bare"),
                       ("POST status", "POST bare")):
        (rps, _p50, p99), (bare_rps, _bp50, bare_p99) = rows[name], rows[bare]
        figures += [
            Figure("api", f"{name}: requests per second", rps, "req/s", goal=">= 0.5x",
                   baseline=bare_rps, baseline_name="bare route, same server"),
            Figure("api", f"{name}: p99", p99, "ms", baseline=bare_p99,
                   baseline_name="bare route, same server"),
        ]
    return figures


def _wait_ready(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped: " + server.stderr.read().decode()[-2000:])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
        finally:
            connection.close()
    raise RuntimeError("the server did not start")


if __name__ == "__main__":
    from bench.report import table

    print(table(main(quick="--quick" in sys.argv)))
