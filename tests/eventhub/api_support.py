"""Helpers for tests that call the REST API: send a request, and see whether it changed
anything."""

from __future__ import annotations

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
