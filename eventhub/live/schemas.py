"""The bodies of the Socket.IO events ``/live`` accepts (validated like REST bodies)."""

from __future__ import annotations

from pydantic import Field

from ..validation import Id, Mode, Schema, Status


class LiveSubscribe(Schema):
    """Socket.IO ``subscribe``."""

    event_id: Id


class LiveSwitch(Schema):
    """Socket.IO ``session.switch``."""

    session_id: Id
    mode: Mode
    provider: str | None = Field(None, max_length=40)


class LiveStatus(Schema):
    """Socket.IO ``session.status``."""

    session_id: Id
    status: Status
    delay_minutes: int | None = Field(None, ge=1, le=24 * 60)
