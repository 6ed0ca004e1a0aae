"""The one background job runner: a bounded thread pool in the web process, or RQ workers.

Every background job (provider calls, mail) is a function registered with :func:`job` and
queued with :func:`submit` (many at once, in one Redis round trip: :func:`submit_many`) after
the caller's commit. Without ``REDIS_URL`` (or with ``PROVISIONING_IN_PROCESS``) jobs run on
this process's thread pool, each in its own app context; otherwise they go to the RQ queue
:func:`queue_name` that ``flask eventhub worker`` takes them from. RQ stores a job's
registered name, never a pickled function.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import Flask, current_app, has_app_context

from ..extensions import db

log = logging.getLogger(__name__)

#: How long one RQ job may run before RQ kills it (longer than the slowest retry sequence).
JOB_TIMEOUT_SECONDS = 120

#: The jobs a queue may name.
JOBS: dict[str, Any] = {}


class Dispatcher:
    """Runs jobs on a bounded thread pool, each in its own app context."""

    def __init__(self, app: Flask, workers: int):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="provision")
        self.futures: set[Future] = set()
        self.lock = threading.Lock()

    def submit(self, func: Any, *args: Any) -> None:
        """Run ``func(*args)`` on the pool inside an app context."""
        with self.lock:  # registered before it can finish, so wait() never misses it
            future = self.pool.submit(self._run, func, *args)
            self.futures.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        """Forget a finished job."""
        with self.lock:
            self.futures.discard(future)

    def _run(self, func: Any, *args: Any) -> None:
        """One job in its own app context and database session."""
        with self.app.app_context():
            run_job(func.__name__, *args)

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every submitted job (and any they submitted) is done; for tests/CLI."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                pending = [future for future in self.futures if not future.done()]
            if not pending:
                return True
            try:
                pending[0].exception(timeout=max(0.0, deadline - time.monotonic()))
            except FutureTimeout:
                return False
        return False

    def shutdown(self) -> None:
        """Stop taking jobs; running ones finish."""
        self.pool.shutdown(wait=True, cancel_futures=False)


class Periodic:
    """Run ``func()`` every ``seconds`` in its own thread (a greenlet under gevent), each
    time in a fresh app context; a failure is logged and the next round comes all the same."""

    def __init__(self, app: Flask, seconds: float, func: Any, name: str):
        self.app, self.seconds, self.func, self.name = app, seconds, func, name
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Periodic:
        """Start the rounds; the first comes after ``seconds``."""
        self.thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """End the rounds (a round in progress finishes first)."""
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopped.wait(self.seconds):
            with self.app.app_context():
                try:
                    self.func()
                except Exception:
                    log.exception("%s failed; trying again in %.0fs", self.name, self.seconds)
                    db.session.rollback()
                finally:
                    db.session.remove()


def init_app(app: Flask) -> None:
    """Attach the job runner: a bounded thread pool in this process, or an RQ queue.

    With ``REDIS_URL`` set (and ``PROVISIONING_IN_PROCESS`` not), jobs go to the RQ queue
    :func:`queue_name` that ``flask eventhub worker`` processes.
    """
    app.extensions["eventhub.dispatcher"] = Dispatcher(app, app.config["PROVISIONING_WORKERS"])
    if app.config.get("REDIS_URL") and not app.config.get("PROVISIONING_IN_PROCESS"):
        import redis
        import rq

        # A Redis host that is down fails a request's enqueue in seconds, not the TCP
        # default of minutes.
        connection = redis.Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5)
        app.extensions["eventhub.rq"] = rq.Queue(queue_name(app.config), connection=connection)


def queue_name(config: Any) -> str:
    """The installation's RQ queue: ``<EVENTHUB_REDIS_PREFIX>:<EVENTHUB_RQ_QUEUE>``."""
    return f"{config['REDIS_PREFIX']}:{config.get('RQ_QUEUE') or 'eventhub'}"


def job(func: Any) -> Any:
    """Register ``func`` as a background job."""
    JOBS[func.__name__] = func
    return func


def run_job(name: str, *args: Any) -> None:
    """Run job ``name`` in the current app context, or in a new app when there is none.

    The entry point of every job, thread pool and RQ alike: RQ imports this function by its
    dotted path, and a plain ``rq worker`` without an app context gets one from
    :func:`eventhub.create_app`. The database session is removed after each job, so no state
    leaks from one job into the next on a long-lived worker.
    """
    if not has_app_context():
        with _worker_app().app_context():
            run_job(name, *args)
            return
    try:
        JOBS[name](*args)
    except Exception:
        log.exception("background job %s failed", name)
        db.session.rollback()
        if current_app.extensions.get("eventhub.rq") is not None and has_rq_job():
            raise  # RQ records the failure in its failed-job registry
    finally:
        db.session.remove()


_app_lock = threading.Lock()
_app: Flask | None = None


def _worker_app() -> Flask:
    """One app per worker process for jobs run outside ``flask eventhub worker``."""
    global _app
    with _app_lock:
        if _app is None:
            from .. import create_app  # the package root: the one factory there is

            _app = create_app()
        return _app


def has_rq_job() -> bool:
    """Whether this code runs inside an RQ job."""
    from rq import get_current_job

    return get_current_job() is not None


def submit(func: Any, *args: Any) -> None:
    """Queue a registered job: to RQ when configured, else to this process's thread pool."""
    submit_many([(func, args)])


def submit_many(calls: Iterable[tuple[Any, tuple]]) -> None:
    """Queue several registered jobs ``(func, args)`` at once: to RQ in one round trip (one
    Redis pipeline: a whole-event switch answers in a time that does not grow with the
    event), else to this process's thread pool."""
    calls = list(calls)
    if not calls:
        return
    queue = current_app.extensions.get("eventhub.rq")
    if queue is not None:
        import redis
        import rq

        try:
            queue.enqueue_many([
                rq.Queue.prepare_data(run_job, args=(func.__name__, *args),
                                      timeout=JOB_TIMEOUT_SECONDS)
                for func, args in calls
            ])
        except redis.RedisError as exc:
            _not_queued(calls, exc)
    else:
        pool = current_app.extensions["eventhub.dispatcher"]
        for func, args in calls:
            pool.submit(func, *args)


#: Jobs whose work a periodic scan finds again in the database (a pending room with no lease,
#: a pending mail): when Redis is gone they are queued again once it is back.
RESCANNED = frozenset({"provision_room", "send_mails"})


def _not_queued(calls: list[tuple[Any, tuple]], error: Exception) -> None:
    """Redis is unreachable. The caller's change is committed already, so the request still
    succeeds (a 5xx would ask for a retry of what is done): the scans take up rooms and mails
    later; any other job is named in the log (never its arguments: a room's host data), for
    it is lost."""
    names = sorted({func.__name__ for func, _args in calls})
    log.warning("job queue unreachable (%s): %d jobs not queued (%s); the periodic scans "
                "queue rooms and mails again once Redis is back", error.__class__.__name__,
                len(calls), ", ".join(names))
    lost = sorted(func.__name__ for func, _args in calls if func.__name__ not in RESCANNED)
    if lost:
        log.error("jobs lost, the job queue is unreachable: %s", ", ".join(lost))


def dispatcher() -> Dispatcher:
    """The app's thread-pool dispatcher."""
    return current_app.extensions["eventhub.dispatcher"]
