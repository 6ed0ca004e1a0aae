"""Socket.IO ``/live``: the namespace's handlers (:mod:`.namespace`), the background task that
sends join-window notices and presence (:mod:`.scanner`, :mod:`.joins`, :mod:`.presence`), and
the fan-out between server processes (:mod:`.fanout`)."""

from __future__ import annotations

import logging

from flask import Flask

from ..extensions import socketio
from ..publish import NAMESPACE, add_listener, add_revocation_listener
from .namespace import LiveNamespace, live_error

__all__ = ["EXTENSION", "LiveNamespace", "init_app", "shutdown"]

EXTENSION = "eventhub.live"


class OneLine(logging.Filter):
    """python-engineio logs a frame it cannot decode with a full traceback; a client could
    fill the log with them. Make it one line naming the error."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.getMessage() == "message handler error":
            error = record.exc_info[1]
            record.msg, record.args = "dropped a malformed Socket.IO frame: %s", (
                error.__class__.__name__,)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def shutdown(app: Flask) -> None:
    """Stop the app's live background task (tests, server shutdown)."""
    live = app.extensions.get(EXTENSION)
    if live is not None:
        live.scanner.stop()


def init_app(app: Flask) -> None:
    """Register the namespace, its error handler, and its publish listener."""
    engineio_log = logging.getLogger("engineio.server")
    if not any(isinstance(f, OneLine) for f in engineio_log.filters):
        engineio_log.addFilter(OneLine())
    live = LiveNamespace(NAMESPACE, app)
    app.extensions[EXTENSION] = live
    socketio.on_namespace(live)
    socketio.on_error(NAMESPACE)(live_error)
    add_listener(app, live.scanner.wake)
    add_revocation_listener(app, live.scanner.revoked)
