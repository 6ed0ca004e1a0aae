"""What the back office's forms share: reading DESIGN.md's field names, validating them with the
API's pydantic schemas, and saying what is wrong beside each field in the visitor's language.

CSRF: every POST is checked by Flask-WTF's ``CSRFProtect`` (app-wide); templates put
``csrf_token()`` in a hidden field. A page calls :func:`validate` (pydantic) and then the
service; both kinds of error become ``{field: message}`` for :func:`field_errors`' template.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import request
from flask_babel import gettext as _
from pydantic import BaseModel, ValidationError
from werkzeug.datastructures import MultiDict

from ...errors import DomainError
from ...services.common import LANGUAGES
from .. import labels

LOCAL_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")


class FormError(Exception):
    """The form is rejected: ``fields`` maps each field name to its (translated) message."""

    def __init__(self, fields: dict[str, str]):
        super().__init__(", ".join(sorted(fields)))
        self.fields = fields


def form() -> MultiDict:
    """The posted fields (an empty mapping on GET)."""
    return request.form if request.method == "POST" else MultiDict()


def texts(values: MultiDict, name: str) -> dict[str, str]:
    """``title.ru``, ``title.de``, ``title.en`` as the API's ``{"ru": ..., ...}``."""
    return {lang: values.get(f"{name}.{lang}", "") for lang in LANGUAGES}


def optional_int(value: str | None) -> int | str | None:
    """An id or number from a field: None when empty; anything else is left to pydantic."""
    value = (value or "").strip()
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() and len(value) < 20 else value


def id_list(values: MultiDict, name: str) -> list[Any]:
    """The ids chosen in a multiple select (``moderator_ids``, ``speaker_ids``)."""
    return [optional_int(v) for v in values.getlist(name) if v.strip()]


def local_instant(value: str, tz: ZoneInfo, field: str) -> datetime:
    """A ``datetime-local`` value, read in the event's time zone, as an aware instant."""
    for pattern in LOCAL_FORMATS:
        try:
            return datetime.strptime(value.strip(), pattern).replace(tzinfo=tz)
        except ValueError:
            continue
    raise FormError({field: _("Enter a date and time.")})


def local_value(instant: datetime | None, tz: ZoneInfo) -> str:
    """An instant as a ``datetime-local`` value in the event's time zone."""
    return instant.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if instant else ""


def validate(schema: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """``data`` checked by the API's schema; FormError with a message per field otherwise."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        fields: dict[str, str] = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"][:2]) or "form"
            if re.fullmatch(r"\w+_ids\.\d+", name):
                name = name.split(".")[0]
            fields.setdefault(name, pydantic_message(error))
        raise FormError(fields) from exc


def pydantic_message(error: dict[str, Any]) -> str:
    """One pydantic error in words (pydantic's own messages are English only)."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length", 1) <= 1):
        return _("This field is required.")
    if kind == "string_too_short":
        return _("At least %(count)s characters.", count=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("Too long: at most %(count)s characters.", count=ctx.get("max_length"))
    if kind == "too_long":
        return _("Too many: at most %(count)s.", count=ctx.get("max_length"))
    if kind == "greater_than_equal":
        return _("At least %(limit)s.", limit=ctx.get("ge"))
    if kind == "less_than_equal":
        return _("At most %(limit)s.", limit=ctx.get("le"))
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Enter a whole number.")
    if kind.startswith("date"):
        return _("Enter a date.")
    if kind == "literal_error":
        return _("Choose one of the listed values.")
    if kind == "string_pattern_mismatch":
        return _("Use lower-case Latin letters, digits and hyphens.")
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind == "value_error" and "ISO 8601 date and time" in str(error.get("msg", "")):
        return _("Enter a date and time.")
    if kind == "value_error" and "ISO 8601 date" in str(error.get("msg", "")):
        return _("Enter a date.")  # the API's ISO-only date (schemas.Day)
    if kind == "value_error" and "email" in str(error.get("msg", "")).lower():
        return _("Enter a valid e-mail address.")
    if kind == "value_error" and "NUL" in str(error.get("msg", "")):
        return _("Contains a character that is not allowed.")
    return _("Invalid value.")


# What a service says about a field (DomainError.fields), matched by its start, in words.
def _service_messages() -> list[tuple[str, str]]:
    return [
        ("taken", _("This is already taken.")),
        ("unknown IANA time zone", _("Unknown time zone: choose one from the list.")),
        ("from ", _("The date is out of range.")),
        ("before start_date", _("The event cannot end before it starts.")),
        ("give at least one language", _("Give a title in at least one language.")),
        ("sessions would fall outside", _("Sessions of the event would fall outside these "
                                          "dates: move them first.")),
        ("one of ", _("Not available here. Choose one of: %(values)s.", values="{values}")),
        ("must be after starts_at", _("The end must be after the start.")),
        ("must be within the event's dates", _("The session must be within the event's "
                                               "dates.")),
        ("no such room in this event", _("Choose a hall of this event.")),
        ("overlaps session", _("The hall is booked at this time by session %(id)s.",
                               id="{id}")),
        ("unknown ids", _("Choose from the list.")),
        ("used by sessions", _("Sessions are held in this hall (%(ids)s): move or delete "
                               "them first.", ids="{ids}")),
        ("not allowed from", _("Not possible from the session's current status.")),
        ("at least 8 chars", _("At least 8 characters.")),
        ("not an e-mail address", _("Enter a valid e-mail address.")),
        ("your own account", _("You cannot deactivate your own account.")),
        ("required", _("This field is required.")),
    ]


def service_message(raw: str) -> str:
    """A service's field message (English, for the API) in the visitor's language."""
    for start, text in _service_messages():
        if raw.startswith(start) or (start == "overlaps session" and start in raw):
            tail = raw[len(start):].strip()
            return (text.replace("{values}", tail).replace("{id}", tail)
                    .replace("{ids}", tail))
    return _("Invalid value.")


def field_errors(error: DomainError, rename: dict[str, str] | None = None) -> dict[str, str]:
    """A service's error as messages per form field (``rename`` maps service to form names);
    an error without fields goes to ``form``, shown above the form."""
    rename = rename or {}
    fields = {rename.get(name, name): service_message(message)
              for name, message in error.fields.items()}
    return fields or {"form": labels.error_text(error.status)}
