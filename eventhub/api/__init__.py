"""The REST API under ``/api/v1``: request parsing, authentication and the error shape.

Resource modules declare their routes with :func:`endpoint`, which validates the body against a
pydantic schema and records the route for the OpenAPI document (:mod:`.openapi`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from pydantic import BaseModel, ValidationError

from ..errors import BadRequest, DomainError, Invalid, TooLarge, Unauthorized
from ..extensions import limiter
from ..services import access

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
    found = access.authenticate_token(token.strip())
    if found is None:
        raise Unauthorized("unknown or revoked token")
    g.actor = found
    g.token = token.strip()


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body validated against ``model``: 400 if malformed, 422 naming bad fields."""
    raw = request.get_data(cache=True)  # over MAX_CONTENT_LENGTH: werkzeug raises 413 here
    if not raw.strip():
        raise BadRequest("a JSON body is required")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"malformed JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest("the body must be a JSON object")
    return validate(model, data)


def validate(model: type[BaseModel], data: Any) -> BaseModel:
    """``data`` validated against ``model``, or Invalid (422) naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {}
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "body"
            fields[name] = "unknown field" if error["type"] == "extra_forbidden" else error["msg"]
        raise Invalid(f"invalid fields: {', '.join(sorted(fields))}", fields=fields) from exc


def page_args() -> tuple[int, int]:
    """``?limit=`` (1..API_PAGE_MAX, default API_PAGE_LIMIT) and ``?offset=`` (>= 0)."""
    fields = {}
    limit = request.args.get("limit", str(current_app.config["API_PAGE_LIMIT"]))
    offset = request.args.get("offset", "0")
    maximum = current_app.config["API_PAGE_MAX"]
    if not limit.isdigit() or not 1 <= int(limit) <= maximum:
        fields["limit"] = f"an integer from 1 to {maximum}"
    if not offset.isdigit():
        fields["offset"] = "a non-negative integer"
    if fields:
        raise Invalid("invalid pagination", fields=fields)
    return int(limit), int(offset)


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
) -> Callable:
    """Register a view on the blueprint; with ``body``, the view gets ``body=<model>``.

    ``limit`` returns a Flask-Limiter rate (e.g. "10 per minute") per client address.
    """

    def decorator(view: Callable) -> Callable:
        ROUTES.append(Route(rule, method, summary, body, response, status, paginated, access,
                            query))

        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            if body is not None:
                kwargs["body"] = parse_body(body)
            result = view(**kwargs)
            if result is None:
                return "", 204
            return jsonify(result), status

        view_func = limiter.limit(limit)(wrapper) if limit else wrapper
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view_func, methods=[method])
        return view

    return decorator


def error_response(error: DomainError):
    """DESIGN.md's error body with the error's status."""
    return jsonify(error.to_dict()), error.status


from . import events, imports, openapi, participants, sessions, tokens  # noqa: E402,F401 - routes
