"""Socket.IO ``/live``: the namespace's handlers (:mod:`.namespace`), the background task that
sends join-window notices and presence (:mod:`.scanner`, :mod:`.joins`, :mod:`.presence`), and
the fan-out between server processes (:mod:`.fanout`)."""

from __future__ import annotations

import logging
from typing import Any

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


class WithoutCompression:
    """WSGI middleware: WebSockets without permessage-deflate (RFC 7692).

    simple-websocket accepts the extension whenever a client offers it, and every browser
    does. The server then compresses each update once per connection and keeps a zlib state
    for each: framing one update for 1,000 connections took 82 ms instead of 20 (wsproto,
    a 400-byte update), and each connection held some 270 KB more. Updates are a few hundred
    bytes of JSON, so the bandwidth saved is small; Socket.IO's own server (engine.io 4) turns
    the extension off by default for the same reason. Without the offer the handshake
    (simple-websocket rebuilds it from these headers) agrees no extension.
    """

    def __init__(self, wsgi_app: Any):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    """Register the namespace, its error handler, and its publish listener; serve WebSockets
    uncompressed (:class:`WithoutCompression`)."""
    app.wsgi_app = WithoutCompression(app.wsgi_app)
    engineio_log = logging.getLogger("engineio.server")
    if not any(isinstance(f, OneLine) for f in engineio_log.filters):
        engineio_log.addFilter(OneLine())
    live = LiveNamespace(NAMESPACE, app)
    app.extensions[EXTENSION] = live
    socketio.on_namespace(live)
    socketio.on_error(NAMESPACE)(live_error)
    add_listener(app, live.scanner.wake)
    add_revocation_listener(app, live.scanner.revoked)
