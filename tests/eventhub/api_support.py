"""Helpers for tests that call the app: send a request (or a chunked one over a real socket),
and see whether it changed anything."""

from __future__ import annotations

import http.client

from sqlalchemy import text

from eventhub.extensions import db

TABLES = ("events", "rooms", "sessions", "participants", "agenda_items", "video_rooms",
          "session_moderators", "session_speakers", "users")


def snapshot() -> dict[str, list]:
    """Every row of every table: equal snapshots mean the request changed nothing."""
    db.session.remove()
    return {t: [tuple(r) for r in db.session.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]  # noqa: S608
            for t in TABLES}


def send(client, method, path, headers, **kwargs):
    return client.open("/api/v1" + path, method=method, headers=headers, **kwargs)


def post_chunked(port: int, path: str, headers: dict[str, str], body: bytes) -> int:
    """POST ``body`` to 127.0.0.1:``port`` with ``Transfer-Encoding: chunked`` (no
    Content-Length to refuse it by); the response's status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("POST", path)
        for name, value in {**headers, "Transfer-Encoding": "chunked"}.items():
            connection.putheader(name, value)
        connection.endheaders()
        for start in range(0, len(body), 65536):
            chunk = body[start:start + 65536]
            connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        connection.send(b"0\r\n\r\n")
        return connection.getresponse().status
    finally:
        connection.close()
