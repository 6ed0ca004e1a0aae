"""Live status fan-out: N real Socket.IO clients subscribed to one event, a switch through the API.

Run ``python -m bench.bench_live`` (``--quick`` or ``EVENTHUB_BENCH_QUICK=1`` for N = 100 and 500
only; ``--sizes 100,1000`` to choose), or through ``python -m bench``. Everything runs on
127.0.0.1 and stops by itself; figures are printed, never asserted.

For each N and each server:

- ``serve``: ``make run``'s own server, ``flask --app wsgi eventhub serve`` (gevent, patched
  first, its file limit raised to the hard one) on a temporary SQLite file; a switch is
  ``POST /api/v1/sessions/<id>/switch`` (online <-> hybrid), so it commits and publishes
  ``session.updated`` through the after-commit hook. The goals are on this server;
- ``gunicorn``: the same app as production may deploy it, ``gunicorn -k gevent -w 1 wsgi:app``
  (at 1,000 clients and below);
- ``bare``: a bare python-socketio server in the same async mode under the same gunicorn
  command, whose ``POST /emit`` broadcasts the same payload to the same room (the stack's limit);
- ``split`` (with ``--redis URL``, at 1,000 clients and below): two ``serve`` processes on that
  Redis, the clients split between them, the switches made through the first: the scale-out
  fan-out, whose p99 is compared with one process's (the goal: at most 1.5 times).

At :data:`HELD` clients (5,000) only ``serve`` runs: the connections one process holds, and
the fan-out to all of them.

N clients (python-socketio ``AsyncClient`` over websocket, offering permessage-deflate as
browsers do, spread over client processes) connect and subscribe; then SWITCHES switches are
made one after another. Measured: the time from the start of the request to each client's
receipt (p50 / p99 / max over all clients and switches; same machine, same clock), clients
that missed an update, the switch request's own latency, the server's RSS growth per
connection, and its CPU time per delivered message.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SIZES = (1000, 2000, 5000)
QUICK_SIZES = (100, 500)
HELD = 5000  # clients one serve process holds (the fan-out to all of them is measured)
SWITCHES = 20
CLIENT_PROCESSES = 4
CONNECT_CONCURRENCY = 50  # handshakes in flight per client process
DELIVERY_TIMEOUT = 5.0  # seconds to wait for every client to receive one update
NS = "/live"


# -- the bare server (loaded by gunicorn as 'bench.bench_live:bare_app()') ----------------------


def bare_app() -> Any:
    """A python-socketio server with only what the fan-out needs: subscribe, and POST /emit."""
    import socketio

    sio = socketio.Server(async_mode="gevent", cors_allowed_origins=[])

    @sio.on("connect", namespace=NS)
    def connect(sid: str, environ: dict, auth: Any = None) -> bool:
        return True

    @sio.on("subscribe", namespace=NS)
    def subscribe(sid: str, data: dict) -> dict:
        sio.enter_room(sid, f"event:{data['event_id']}", namespace=NS)
        return {"ok": True, "event_id": data["event_id"], "sessions": []}

    def http(environ: dict, start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/emit" and environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            payload = json.loads(environ["wsgi.input"].read(size))
            sio.emit("session.updated", payload, to=f"event:{payload['event_id']}",
                     namespace=NS)
            body = json.dumps(payload).encode()
        else:
            body = b'{"status": "ok"}'
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    from eventhub.live import WithoutCompression

    return WithoutCompression(socketio.WSGIApp(sio, http))  # the same WebSocket terms as /live


# -- client processes -----------------------------------------------------------------------------


def client_process(conn: Any, url: str, count: int, event_id: int) -> None:
    """Hold ``count`` connected, subscribed clients and answer the driver's commands."""
    logging.basicConfig(level=logging.ERROR)
    raise_fd_limit()  # 1,250 sockets and more per client process
    asyncio.run(_clients(conn, url, count, event_id))


async def _clients(conn: Any, url: str, count: int, event_id: int) -> None:
    import socketio

    receipts: list[tuple[int, float]] = []
    clients: list[Any] = []
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def on_update(data: dict) -> None:
        receipts.append((data["sequence"], time.time()))

    async def one() -> None:
        # Offering permessage-deflate as every browser does (aiohttp does not by default).
        client = socketio.AsyncClient(reconnection=False,
                                      websocket_extra_options={"compress": 15})
        client.on("session.updated", on_update, namespace=NS)
        async with gate:
            try:
                await client.connect(url, namespaces=[NS], transports=["websocket"],
                                     wait_timeout=30)
                await client.call("subscribe", {"event_id": event_id}, namespace=NS,
                                  timeout=30)
                clients.append(client)
            except Exception:  # noqa: BLE001 - counted as not connected
                await client.disconnect()

    await asyncio.gather(*(one() for _ in range(count)))
    loop = asyncio.get_running_loop()
    conn.send(("ready", len(clients)))
    while True:
        command, arg = await loop.run_in_executor(None, conn.recv)
        if command == "count":
            conn.send(sum(1 for seq, _ in receipts if seq == arg))
        elif command == "collect":
            conn.send(list(receipts))
            receipts.clear()
        elif command == "stop":
            await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
            conn.send("stopped")
            return


# -- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    """``serve`` (``make run``), or a gunicorn gevent server with one worker, on 127.0.0.1."""

    kind: str
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = dict(self.env)
        if self.kind in ("serve", "threading"):  # `make run`'s server, in either mode
            env.pop("EVENTHUB_ASYNC_MODE", None)
            if self.kind == "threading":  # werkzeug, a thread per connection
                env["EVENTHUB_ASYNC_MODE"] = "threading"
            command = [str(BIN / "flask"), "--app", "wsgi", "eventhub", "serve",
                       "--port", str(self.port)]
        else:
            target = "wsgi:app" if self.kind == "gunicorn" else "bench.bench_live:bare_app()"
            command = [str(BIN / "gunicorn"), "-k", "gevent", "-w", "1",
                       "--worker-connections", "10000", "-b", f"127.0.0.1:{self.port}",
                       "--graceful-timeout", "2", "--log-level", "warning", target]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import requests

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.1)
        raise RuntimeError(f"{self.kind} server did not start")

    def worker_pid(self) -> int:
        if self.kind in ("serve", "threading"):  # serve re-executes itself: the same pid
            return self.process.pid
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def seed(database_url: str) -> dict[str, Any]:
    """An organizer's API token and a published event of 40 sessions, one of them online."""
    logging.getLogger().setLevel(logging.WARNING)
    from eventhub import create_app, shutdown
    from eventhub.extensions import db
    from eventhub.models import ApiToken, Event, Session, User
    from eventhub.services import access

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench",
                      "REDIS_URL": None})
    with app.app_context():
        db.create_all()
        organizer = User(email="bench@example.org", role="organizer",
                         password_hash="unusable")  # noqa: S106 - signs in by API token only
        day = date.today()
        event = Event(slug="bench", title={"en": "Bench"}, timezone="UTC", start_date=day,
                      end_date=day + timedelta(days=1), published=True)
        start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=8)
        sessions = [Session(event=event, title={"en": f"Talk {i}"},
                            starts_at=start + timedelta(minutes=20 * i),
                            ends_at=start + timedelta(minutes=20 * i + 15)) for i in range(40)]
        token = access.new_token()
        db.session.add_all([organizer, event, *sessions,
                            ApiToken(user=organizer, digest=access.digest(token))])
        db.session.commit()
        seeded = {"token": token, "event_id": event.id, "session_id": sessions[0].id}
        db.session.remove()
        db.engine.dispose()
    shutdown(app)  # its lease recovery and mail pump: nothing runs on once seeded
    return seeded


# -- one round: a server, N clients, SWITCHES switches --------------------------------------------


@dataclass
class Round:
    kind: str
    n: int
    connected: int = 0
    delays: list[float] = field(default_factory=list)  # seconds, request start -> receipt
    requests: list[float] = field(default_factory=list)  # seconds, the request itself
    missed: int = 0
    all_reached: list[float] = field(default_factory=list)  # per switch: the last receipt
    rss_per_conn_kb: float = 0.0
    cpu_us_per_message: float = 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run_round(kind: str, n: int, env: dict[str, str], seeded: dict[str, Any]) -> Round:
    import requests

    result = Round(kind, n)
    servers = [Server("serve" if kind == "split" else kind, env)
               for _ in range(2 if kind == "split" else 1)]
    for one in servers:
        one.start()
    server = servers[0]
    pid = server.worker_pid()
    http = requests.Session()
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    session_url = f"{server.url}/api/v1/sessions/{seeded['session_id']}/switch"
    mode = "online"  # the first switch() moves it to hybrid
    if kind != "bare":  # the room is created once; the measured switches only move modes
        http.post(session_url, json={"mode": "online"}, headers=headers, timeout=10)
        time.sleep(1.0)
    rss_before = rss_kb(pid)
    context = multiprocessing.get_context("spawn")
    pipes, processes = [], []
    share = [n // CLIENT_PROCESSES + (1 if i < n % CLIENT_PROCESSES else 0)
             for i in range(CLIENT_PROCESSES)]
    try:
        for i, count in enumerate(share):
            mine, theirs = context.Pipe()
            url = servers[i % len(servers)].url  # split: half the clients on each process
            process = context.Process(target=client_process,
                                      args=(theirs, url, count, seeded["event_id"]),
                                      daemon=True)
            process.start()
            pipes.append(mine)
            processes.append(process)
        for pipe in pipes:
            if not pipe.poll(180):
                raise RuntimeError("client processes did not connect in time")
            _, connected = pipe.recv()
            result.connected += connected
        time.sleep(0.5)  # let the server settle after the handshakes
        rss_after = rss_kb(pid)
        result.rss_per_conn_kb = (rss_after - rss_before) / max(1, result.connected)
        state = {"mode": mode, "sequence": 1000}

        def switch() -> tuple[int, float]:
            """One switch (or bare emit); returns its sequence and start time."""
            state["mode"] = "hybrid" if state["mode"] == "online" else "online"
            started = time.time()
            if kind != "bare":
                response = http.post(session_url, json={"mode": state["mode"]},
                                     headers=headers, timeout=10)
                response.raise_for_status()
                state["sequence"] = response.json()["sequence"]
            else:
                state["sequence"] += 1
                payload = {"session_id": seeded["session_id"], "event_id": seeded["event_id"],
                           "status": "scheduled", "mode": state["mode"], "delay_minutes": 0,
                           "room_state": "ready", "provider": "jitsi",
                           "starts_at": "2030-06-28T08:00:00+00:00",
                           "ends_at": "2030-06-28T08:15:00+00:00",
                           "sequence": state["sequence"]}
                response = http.post(f"{server.url}/emit", json=payload, timeout=10)
                response.raise_for_status()
            result.requests.append(time.time() - started)
            deadline = time.monotonic() + DELIVERY_TIMEOUT
            while time.monotonic() < deadline:
                for pipe in pipes:
                    pipe.send(("count", state["sequence"]))
                if sum(pipe.recv() for pipe in pipes) >= result.connected:
                    break
                time.sleep(0.01)
            return state["sequence"], started

        switch()  # warm-up, not counted: first use of each code path
        result.requests.clear()
        for pipe in pipes:
            pipe.send(("collect", None))
            pipe.recv()
        cpu_before = cpu_seconds(pid)
        switches = SWITCHES if n < HELD else SWITCHES // 2
        sent: dict[int, float] = dict(switch() for _ in range(switches))
        cpu_used = cpu_seconds(pid) - cpu_before
        receipts: list[tuple[int, float]] = []
        for pipe in pipes:
            pipe.send(("collect", None))
            receipts.extend(pipe.recv())
        per_sequence: dict[int, int] = {}
        last: dict[int, float] = {}
        for seq, received in receipts:
            if seq in sent:
                result.delays.append(received - sent[seq])
                per_sequence[seq] = per_sequence.get(seq, 0) + 1
                last[seq] = max(last.get(seq, 0.0), received - sent[seq])
        result.all_reached = sorted(last.values())
        result.missed = sum(result.connected - per_sequence.get(seq, 0) for seq in sent)
        messages = max(1, len(result.delays))
        result.cpu_us_per_message = cpu_used / messages * 1e6
    finally:
        for pipe in pipes:
            try:
                pipe.send(("stop", None))
                if pipe.poll(30):
                    pipe.recv()
            except (BrokenPipeError, EOFError, OSError):
                pass
        for process in processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        http.close()
        for one in servers:
            one.stop()
    return result


# -- main ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def database(postgres: str | None, tmp: Path) -> Iterator[str]:
    """A SQLite file in ``tmp``, or a fresh schema in the given PostgreSQL database."""
    if not postgres:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    import uuid

    import psycopg

    schema = f"eventhub_bench_{uuid.uuid4().hex[:8]}"
    plain = postgres.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{postgres}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def ms(value: float) -> str:
    return f"{value * 1000:7.1f}"


def print_table(rounds: list[Round]) -> None:
    header = (f"{'server':9} {'N':>5} {'conn':>5} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
              f"{'all@p50':>7} {'missed':>6} {'req p50':>7} {'req p99':>7} {'KB/conn':>7} "
              f"{'CPU us/msg':>10}")
    print(header)
    print("-" * len(header))
    for r in rounds:
        print(f"{r.kind:9} {r.n:5d} {r.connected:5d} {ms(percentile(r.delays, .5))} "
              f"{ms(percentile(r.delays, .99))} {ms(max(r.delays, default=float('nan')))} "
              f"{ms(percentile(r.all_reached, .5))} {r.missed:6d} {ms(percentile(r.requests, .5))} "
              f"{ms(percentile(r.requests, .99))} {r.rss_per_conn_kb:7.1f} "
              f"{r.cpu_us_per_message:10.1f}")
    print("(ms from the start of the request to a client's receipt, over all clients and "
          "switches; all@p50: median over switches of the time until the last client had it; "
          "req: the switch request itself)")
    print()
    print("ratio serve (gevent) / bare (delivery p99, max; per-connection memory):")
    by_key = {(r.kind, r.n): r for r in rounds}
    for n in sorted({r.n for r in rounds}):
        ours, bare = by_key.get(("serve", n)), by_key.get(("bare", n))
        if not ours or not bare:
            continue
        p99 = percentile(ours.delays, .99) / percentile(bare.delays, .99)
        worst = max(ours.delays) / max(bare.delays)
        memory = ours.rss_per_conn_kb / bare.rss_per_conn_kb if bare.rss_per_conn_kb else 0
        print(f"  N={n:5d}: p99 x{p99:.2f}, max x{worst:.2f}, memory x{memory:.2f}")
    split = [n for n in sorted({r.n for r in rounds}) if ("split", n) in by_key]
    if split:
        print("ratio split (two processes on Redis) / eventhub (one process), delivery p99 "
              "(goal: at most x1.5):")
    for n in split:
        ours, one = by_key[("split", n)], by_key.get(("serve", n))
        if one:
            p99 = percentile(ours.delays, .99) / percentile(one.delays, .99)
            print(f"  N={n:5d}: p99 x{p99:.2f}")


def local_redis(url: str = "redis://127.0.0.1:6379/0") -> str | None:
    """``url`` if a Redis answers there (the two-process round needs one), else None."""
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
        return url
    except Exception:  # noqa: BLE001 - no Redis: that round is skipped
        return None


def figures(rounds: list[Round]) -> list:
    """The rounds as figures for ``python -m bench``'s table: delivery p99 of ``serve`` against
    the bare server of the same N (gunicorn's beside it), and two processes on Redis against
    one."""
    from bench.report import Figure

    by = {(r.kind, r.n): r for r in rounds}
    goals = {1000: "<= 100", 2000: "<= 200"}
    out = []
    for (kind, n), one in sorted(by.items(), key=lambda item: (item[0][1], item[0][0])):
        p99 = percentile(one.delays, 0.99) * 1000
        bare = by.get(("bare", n))
        against = {"baseline": percentile(bare.delays, 0.99) * 1000 if bare else None,
                   "baseline_name": "bare python-socketio, same stack"}
        held = f"{one.connected} of {n} connected, missed {one.missed}"
        if kind == "serve":
            out.append(Figure("live", f"serve: delivery p99, {n} clients ({held})", p99,
                              "ms", goal=goals.get(n, ""), **against))
            out.append(Figure("live", f"serve: switch request p50, {n} clients",
                              percentile(one.requests, 0.5) * 1000, "ms", goal="<= 20"))
            out.append(Figure("live", f"serve: memory per connection, {n} clients",
                              one.rss_per_conn_kb, "KB", goal="<= 90"))
        elif kind == "gunicorn":
            out.append(Figure("live", f"gunicorn -k gevent: delivery p99, {n} clients "
                              f"({held})", p99, "ms", **against))
            out.append(Figure("live", f"gunicorn -k gevent: switch request p50, {n} clients",
                              percentile(one.requests, 0.5) * 1000, "ms"))
        elif kind == "split" and ("serve", n) in by:
            single = by[("serve", n)]
            out.append(Figure("live", f"delivery p99, {n} clients over 2 processes on Redis",
                              p99, "ms", goal="<= 1.5x",
                              baseline=percentile(single.delays, 0.99) * 1000,
                              baseline_name="one process"))
    return out


def main(argv: list[str] | None = None, quick: bool = False) -> list:
    """Run the benchmark, print a table, return the figures."""
    parser = argparse.ArgumentParser(prog="bench_live", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 100 and 500 only")
    parser.add_argument("--sizes", help="comma-separated N, e.g. 100,1000")
    parser.add_argument("--postgres", metavar="URL",
                        help="use this PostgreSQL database (a schema of its own, dropped after), "
                             "e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--redis", metavar="URL",
                        default=os.environ.get("EVENTHUB_BENCH_REDIS_URL"),
                        help="also two processes on this Redis, clients split between them "
                             "(default: EVENTHUB_BENCH_REDIS_URL), e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--threading", action="store_true",
                        help="also EventHub in threading mode (flask eventhub serve)")
    args = parser.parse_args(argv if argv is not None else [])
    sizes = SIZES
    if quick:
        sizes = (20,)
    elif args.quick or os.environ.get("EVENTHUB_BENCH_QUICK") == "1":
        sizes = QUICK_SIZES
    if args.sizes:
        sizes = tuple(int(s) for s in args.sizes.split(","))
    try:
        import aiohttp  # noqa: F401 - python-socketio's AsyncClient needs it
    except ImportError:
        print("bench_live needs aiohttp for its clients (pip install -r requirements-dev.txt)")
        return []
    if not args.redis:
        args.redis = local_redis()
    if not args.redis:
        print("no Redis on 127.0.0.1:6379 (or --redis URL): the two-process round is skipped")
    raise_fd_limit()
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="eventhub-bench-live-") as tmp, \
            database(args.postgres, Path(tmp)) as database_url:
        seeded = seed(database_url)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("FLASK_", "EVENTHUB_", "REDIS_URL", "DATABASE_URL"))}
        env.update(DATABASE_URL=database_url, EVENTHUB_ASYNC_MODE="gevent",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                            os.environ.get("PYTHONPATH")])),
                   SECRET_KEY="bench")  # noqa: S106 - a throwaway server
        print(f"server: flask eventhub serve (make run; gevent, one Socket.IO process), "
              f"{'PostgreSQL' if args.postgres else 'SQLite'}; clients: "
              f"{CLIENT_PROCESSES} processes of python-socketio AsyncClient over websocket; "
              f"{SWITCHES} switches per row; {os.cpu_count()} CPUs shared by all", flush=True)
        for n in sizes:
            threading = ("threading",) if args.threading and n <= 1000 else ()
            split = ("split",) if args.redis and n <= 1000 else ()
            gunicorn = ("gunicorn",) if not quick and n <= 1000 else ()  # the second row
            kinds = ("serve",) if n >= HELD else ("serve", "bare", *gunicorn, *split,
                                                   *threading)
            for kind in kinds:
                started = time.perf_counter()
                round_env = env
                if kind == "split":  # the web processes provision themselves: no worker here
                    round_env = {**env, "REDIS_URL": args.redis,
                                 "EVENTHUB_PROVISIONING_IN_PROCESS": "1"}
                rounds.append(run_round(kind, n, round_env, seeded))
                print(f"  {kind} N={n}: {time.perf_counter() - started:.1f} s", flush=True)
    print()
    print_table(rounds)
    return figures(rounds)


if __name__ == "__main__":
    main(sys.argv[1:])
