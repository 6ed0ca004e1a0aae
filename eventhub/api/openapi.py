"""The OpenAPI 3 document, generated from the routes and the pydantic schemas that validate."""

from __future__ import annotations

import re
from typing import Any

from pydantic.json_schema import models_json_schema

from ..services.common import MAX_ID
from . import ROUTES, bp
from .schemas import ErrorOut

REF = "#/components/schemas/{model}"
ID = {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID}
ERRORS = {
    "400": "Malformed request", "401": "No valid credentials", "403": "Not allowed",
    "404": "Not found", "409": "Conflict", "413": "Body over 1 MiB",
    "422": "Invalid fields", "429": "Too many requests",
}  # fmt: skip


def _path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for _converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", rule):
        params.append({"name": name, "in": "path", "required": True, "schema": dict(ID)})
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule), params


def document() -> dict[str, Any]:
    """The whole document; components hold every request and response schema."""
    models = {ErrorOut}
    for route in ROUTES:
        models.update(m for m in (route.body, route.response) if m is not None)
    _, schemas = models_json_schema(
        [(m, "validation" if m is route_body(m) else "serialization") for m in models],
        ref_template=REF,
    )
    paths: dict[str, Any] = {}
    for route in ROUTES:
        path, params = _path(route.rule)
        operation: dict[str, Any] = {
            "summary": route.summary,
            "description": f"Who may call it: {route.access}.",
            "operationId": f"{route.method.lower()}_{path.strip('/').replace('/', '_')}"
                           .replace("{", "").replace("}", ""),
            "parameters": list(params),
            "responses": {},
        }
        if route.paginated and route.method == "GET":  # a switch answers a list, unpaged
            operation["parameters"] += [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                            "maximum": 500, "default": 50}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                             "maximum": MAX_ID, "default": 0}},
            ]
        for name, description in route.query:
            operation["parameters"].append({"name": name, "in": "query",
                                            "description": description,
                                            "schema": dict(ID) if name.endswith("_id")
                                            else {"type": "string"}})
        if route.body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {
                "schema": {"$ref": REF.format(model=route.body.__name__)}}}}
        if route.raw_body is not None:
            operation["requestBody"] = {"required": True, "content": {route.raw_body: {
                "schema": {"type": "string"}}}}
        ok: dict[str, Any] = {"description": "Success"}
        if route.response is not None and route.status != 204:
            schema: dict[str, Any] = {"$ref": REF.format(model=route.response.__name__)}
            if route.paginated:
                schema = {"type": "object", "required": ["items", "total", "limit", "offset"],
                          "properties": {"items": {"type": "array", "items": schema},
                                         "total": {"type": "integer"},
                                         "limit": {"type": "integer"},
                                         "offset": {"type": "integer"}}}
            ok["content"] = {"application/json": {"schema": schema}}
        operation["responses"][str(route.status)] = ok
        for status, description in ERRORS.items():
            operation["responses"][status] = {"description": description, "content": {
                "application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}}}
        paths.setdefault(path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "EventHub API", "version": "1",
                 "description": "Hybrid conferences: programme, switching online, participants."},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{}, {"bearer": []}],
    }


def route_body(model: type) -> type | None:
    """``model`` if some route takes it as a request body (validation schema), else None."""
    return model if any(route.body is model for route in ROUTES) else None


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI document (public)."""
    return document()
