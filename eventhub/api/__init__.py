"""The REST API under ``/api/v1``: request parsing, authentication and the error shape.

Resource modules declare their routes with :func:`endpoint`, which validates the body against a
pydantic schema and records the route for the OpenAPI document (:mod:`.openapi`).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import BaseModel

from ..errors import BadRequest, Invalid, TooLarge, Unauthorized
from ..extensions import limiter
from ..services import access
from ..services.common import MAX_ID
from ..validation import validate
from .token_cache import token_cache

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Route:
    """One documented route: what it takes, what it answers, who may call it."""

    rule: str
    method: str
    summary: str
    body: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int
    paginated: bool
    access: str
    query: tuple[tuple[str, str], ...]
    raw_body: str | None = None  # media type of a body that is not JSON (a file upload)


ROUTES: list[Route] = []


def actor() -> Any:
    """The caller of this request: a User, a Participant, or None (anonymous)."""
    return g.get("actor")


@bp.before_request
def authenticate() -> None:
    """Refuse oversized bodies unread; resolve ``Authorization: Bearer <token>`` (bad: 401)."""
    g.actor = None
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the request body is over {limit // 1024} KiB")
    header = request.headers.get("Authorization")
    if header is None:
        return
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use Authorization: Bearer <token>")
    token = token.strip()
    found = token_cache().user(token) or access.find_participant_by_token(token)
    if found is None:
        raise Unauthorized("unknown or revoked token")
    g.actor = found
    g.token = token


def body_bytes() -> bytes:
    """The request body, or 413 when it is over MAX_CONTENT_LENGTH.

    A body announced by Content-Length is refused before reading (``authenticate``); a chunked
    one is read by werkzeug up to the limit and no further, so reaching the limit means more
    was sent.
    """
    raw = request.get_data(cache=True)
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and len(raw) >= limit:
        raise TooLarge(f"the request body is over {limit // 1024} KiB")
    return raw


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body validated against ``model``: 400 if malformed, 422 naming bad fields."""
    raw = body_bytes()
    if not raw.strip():
        raise BadRequest("a JSON body is required")
    try:
        data = json.loads(raw, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadRequest("malformed JSON: nested too deeply") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return validate(model, raw)


def _not_json(constant: str) -> None:
    """Python's parser takes NaN and Infinity; JSON (RFC 8259) has no such values."""
    raise ValueError(f"{constant} is not a JSON value")


_DIGITS = re.compile(r"[0-9]{1,19}")


def _natural(value: str, maximum: int) -> int | None:
    """``value`` as an integer 0..maximum written in ASCII digits, else None."""
    if not _DIGITS.fullmatch(value) or int(value) > maximum:
        return None
    return int(value)


def page_args() -> tuple[int, int]:
    """``?limit=`` (1..API_PAGE_MAX, default API_PAGE_LIMIT) and ``?offset=`` (>= 0)."""
    fields = {}
    maximum = current_app.config["API_PAGE_MAX"]
    limit = _natural(request.args.get("limit", str(current_app.config["API_PAGE_LIMIT"])),
                     maximum)
    offset = _natural(request.args.get("offset", "0"), MAX_ID)
    if not limit:
        fields["limit"] = f"an integer from 1 to {maximum}"
    if offset is None:
        fields["offset"] = "a non-negative integer"
    if fields:
        raise Invalid("invalid pagination", fields=fields)
    return limit, offset


def id_arg(name: str) -> int | None:
    """An optional id in the query string (``?room_id=``); 422 naming it if it is not one."""
    value = request.args.get(name)
    if value is None:
        return None
    number = _natural(value, MAX_ID)
    if not number:
        raise Invalid(f"invalid {name}", fields={name: "an id (a positive integer)"})
    return number


def page(items: list[Any], total: int, limit: int, offset: int,
         serialize: Callable[[Any], dict]) -> dict[str, Any]:
    """DESIGN.md's list shape."""
    return {"items": [serialize(item) for item in items], "total": total, "limit": limit,
            "offset": offset}


def endpoint(
    rule: str,
    method: str,
    *,
    summary: str,
    access: str,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    paginated: bool = False,
    query: tuple[tuple[str, str], ...] = (),
    limit: Callable[[], str] | None = None,
    guard: Callable[..., None] | None = None,
    raw_body: str | None = None,
) -> Callable:
    """Register a view on the blueprint; with ``body``, the view gets ``body=<model>``.

    ``limit`` returns a Flask-Limiter rate (e.g. "10 per minute") per client address.
    ``guard`` (one of :mod:`.guards`) answers 401, 404 and 403 before the body is read.
    """

    def decorator(view: Callable) -> Callable:
        ROUTES.append(Route(rule, method, summary, body, response, status, paginated, access,
                            query, raw_body))

        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            if guard is not None:
                guard(**kwargs)
            if body is not None:
                kwargs["body"] = parse_body(body)
            result = view(**kwargs)
            if result is None:
                return "", 204
            if isinstance(result, Response):  # e.g. a CSV export
                return result
            return jsonify(result), status

        view_func = limiter.limit(limit)(wrapper) if limit else wrapper
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view_func, methods=[method])
        return view

    return decorator


from . import events, guards, imports, invitations, openapi, participants, sessions, tokens  # noqa: E402,F401

bp.teardown_request(guards.release)
