"""Validation of input from every entry point: the pydantic base of request schemas, the field
types they share, and :func:`validate`, which turns pydantic's errors into :class:`Invalid`.

REST bodies (:mod:`eventhub.api.schemas`), Socket.IO messages (:mod:`eventhub.live.schemas`) and
the back office's forms validate through here, so a bad field reads the same in each.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import Invalid
from .services.common import MAX_ID

Mode = Literal["in_person", "hybrid", "online"]
Status = Literal["scheduled", "live", "paused", "delayed", "ended", "cancelled"]
# A row id: positive and within a 64-bit INTEGER (a larger one would not even bind in SQLite).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Schema(BaseModel):
    """Base of request bodies: unknown fields are errors (422 naming the field)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def no_nul(cls, value: Any) -> Any:
        """Refuse NUL in text: PostgreSQL cannot store it (a 500 there, not a 422)."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("may not contain NUL characters")
        return value


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    """``data`` validated against ``model``, or Invalid (422) naming each bad field.

    Raw JSON bytes are validated strictly: "5" is no integer and "yes" no boolean (dates and
    times are strings in JSON, so those are still parsed).
    """
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data, strict=True)
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "body"
            fields[name] = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
        raise Invalid(f"invalid fields: {', '.join(sorted(fields))}", fields=fields) from exc
