"""The periodic mail scan: bursts that closed, join windows that opened, retries that are due.

Embedded mode: one background task in the web process (a thread, or a greenlet under gevent),
started by ``flask eventhub serve`` and on the first request of a WSGI server such as
gunicorn; its first pass takes up whatever an earlier process left pending. Scale-out: the
web processes leave it to ``flask eventhub worker``, whose pump feeds the RQ queue. Any
number of pumps may run at once: every row is claimed with a conditional UPDATE and every
join link has a unique key, so nothing goes twice.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask

from ..extensions import db, socketio
from . import mail

log = logging.getLogger(__name__)

EXTENSION = "eventhub.mail_pump"


class MailPump:
    """Runs :func:`mail.scan` every ``MAIL_SCAN_SECONDS`` in its own app context."""

    def __init__(self, app: Flask, *, take_over: bool):
        self.app = app
        self.period = float(app.config["MAIL_SCAN_SECONDS"])
        self.take_over = take_over
        self.lock = threading.Lock()
        self.task: Any = None
        self.stopping = False
        self.wake_event: Any = None
        self.passes = 0

    def start(self) -> MailPump:
        """Start the background task once."""
        with self.lock:
            if self.task is None and not self.stopping and self.period > 0:
                server = getattr(socketio, "server", None)
                self.wake_event = (server.eio.create_event() if server is not None
                                   else threading.Event())
                self.task = socketio.start_background_task(self._run)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the pass under way."""
        self.stopping = True
        if self.wake_event is not None:
            self.wake_event.set()
        task = self.task
        if task is not None and hasattr(task, "join"):
            task.join(timeout)

    def run_once(self) -> dict[str, int]:
        """One pass, in its own app context and database session."""
        with self.app.app_context():
            try:
                result = mail.scan(take_over=self.take_over and self.passes == 0)
                if any(result.values()):
                    log.info("mail scan: %s", result)
                return result
            except Exception:
                log.exception("mail scan failed; trying again next period")
                db.session.rollback()
                return {}
            finally:
                self.passes += 1
                db.session.remove()

    def _run(self) -> None:
        while not self.stopping:
            self.run_once()
            self.wake_event.wait(timeout=self.period)
            self.wake_event.clear()


def start(app: Flask, *, take_over: bool = False) -> MailPump:
    """Start the app's pump (idempotent)."""
    pump = app.extensions.get(EXTENSION)
    if pump is None:
        pump = app.extensions[EXTENSION] = MailPump(app, take_over=take_over)
    return pump.start()


def stop(app: Flask) -> None:
    """Stop the app's pump, if it runs (tests, shutdown)."""
    pump = app.extensions.get(EXTENSION)
    if pump is not None:
        pump.stop()


def init_app(app: Flask) -> None:
    """Embedded mode: start the pump with the first request (a WSGI server's workers).

    Not in RQ mode (the workers pump) and not under ``TESTING`` (tests run scans themselves).
    """
    if app.testing or app.config.get("MAIL_SCAN_SECONDS", 0) <= 0:
        return
    if app.config.get("REDIS_URL") and not app.config.get("PROVISIONING_IN_PROCESS"):
        return

    @app.before_request
    def _start_mail_pump() -> None:
        if EXTENSION not in app.extensions:
            start(app, take_over=False)
