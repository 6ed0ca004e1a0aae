"""The domain error tree. Every caller (REST, Socket.IO, CLI, web) shows the same shape."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of the errors a service raises; ``to_dict()`` is DESIGN.md's error body."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        """``{"error": {"code", "message", "fields"}}``."""
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


class BadRequest(DomainError):
    """Malformed request: not JSON, not an object."""

    status = 400
    code = "bad_request"


class Unauthorized(DomainError):
    """No valid credentials."""

    status = 401
    code = "unauthorized"


class Forbidden(DomainError):
    """Authenticated, but not allowed to do this."""

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """No such object, or not visible to the actor."""

    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The request clashes with the current state (illegal transition, double booking)."""

    status = 409
    code = "conflict"


class TooLarge(DomainError):
    """Request body over the limit."""

    status = 413
    code = "too_large"


class Invalid(DomainError):
    """Fields failed validation; ``fields`` maps each to its problem."""

    status = 422
    code = "invalid"


class RoomUnavailable(DomainError):
    """The video provider could not give a join or host URL just now (try again)."""

    status = 503
    code = "room_unavailable"


class RateLimited(DomainError):
    """Too many requests; ``retry_after`` seconds (when known) go out as ``Retry-After``."""

    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
