"""Helpers shared by the provider tests (requests, joiners, visiting meeting pages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from integrations.base import JoinRequest, RoomRequest

#: Small timeouts keep the fault tests fast; the sandbox answers in milliseconds.
TEST_TIMEOUT = (0.5, 0.4)
#: Longer than TEST_TIMEOUT's read timeout.
SLOW = 0.8


def room_request(key: str = "event-1-session-7", **changes: Any) -> RoomRequest:
    """A session one hour long, starting tomorrow at 10:00 UTC."""
    start = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) + timedelta(
        days=1
    )
    fields: dict[str, Any] = {
        "key": key,
        "title": "Städtepartnerschaften: Kaluga & Partner",
        "starts_at": start,
        "ends_at": start + timedelta(hours=1),
        "timezone": "Europe/Moscow",
        "description": "Panel of mayors",
    }
    return RoomRequest(**{**fields, **changes})


PARTICIPANT = JoinRequest(display_name="Anna Müller", user_id="p-17", email="anna@example.org")
HOST = JoinRequest(display_name="Oleg Ivanov", user_id="u-3", email="oleg@example.org",
                   moderator=True)


def visit(url: str) -> dict[str, Any]:
    """Open a meeting URL in the sandbox and return who it says joined, in which role."""
    response = requests.get(url, headers={"Accept": "application/json"}, timeout=5)
    return {"status": response.status_code, **response.json()}
