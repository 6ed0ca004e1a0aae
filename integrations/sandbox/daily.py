"""Daily simulator: rooms, meeting tokens and presence, with Daily's error shapes."""

from __future__ import annotations

import json
import re
import time
from typing import Any, ClassVar

import jwt
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .simulator import Simulator, bearer, join_page, json_response, new_id

API_KEY = "sandbox-daily-api-key"
_TOKEN_SECRET = "sandbox-daily-meeting-token-signing-key"  # noqa: S105 -- the simulator's own key
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class DailySimulator(Simulator):
    """``/daily/v1/rooms``, ``/daily/v1/meeting-tokens``; meeting page ``/daily/room/<name>``."""

    name: ClassVar[str] = "daily"
    prefixes: ClassVar[tuple[str, ...]] = ("/daily/",)
    url_map: ClassVar[Map] = Map([
        Rule("/daily/v1/rooms", methods=["POST"], endpoint="create"),
        Rule("/daily/v1/rooms/<name>", methods=["GET"], endpoint="get"),
        Rule("/daily/v1/rooms/<name>", methods=["POST"], endpoint="update"),
        Rule("/daily/v1/rooms/<name>", methods=["DELETE"], endpoint="delete"),
        Rule("/daily/v1/rooms/<name>/presence", methods=["GET"], endpoint="presence"),
        Rule("/daily/v1/meeting-tokens", methods=["POST"], endpoint="token"),
        Rule("/daily/room/<name>", methods=["GET"], endpoint="page"),
    ])

    def error(self, status: int, message: str) -> Response:
        """Daily's error shape."""
        return json_response({"error": "invalid-request-error", "info": message}, status)

    def _problem(self, request: Request) -> Response | None:
        """401 ``authentication-error`` without the API key."""
        if bearer(request) != API_KEY:
            return json_response({"error": "authentication-error",
                                  "info": "Unauthorized: invalid API key"}, 401)
        return None

    def _body(self, request: Request) -> dict[str, Any]:
        """The JSON body (``ValueError`` if malformed)."""
        body = json.loads(request.get_data() or b"{}")
        if not isinstance(body, dict):
            raise ValueError("body must be an object")
        return body

    def _not_found(self, name: str) -> Response:
        """404 ``not-found``."""
        return json_response({"error": "not-found", "info": f"room {name} was not found"}, 404)

    def on_create(self, request: Request) -> Response:
        """Create a room: 200 (Daily does not answer 201); 400 if the name is taken."""
        problem = self._problem(request)
        if problem:
            return problem
        try:
            body = self._body(request)
        except ValueError:
            return self.error(400, "Invalid JSON body")
        name = body.get("name") or new_id(8)
        if not _NAME.match(name):
            return self.error(400, "name: must only contain letters, numbers, - and _")
        if name in self.rooms:
            return self.error(400, f"a room named {name} already exists")
        data = {
            "id": new_id(12), "name": name, "api_created": True,
            "privacy": body.get("privacy", "public"),
            "url": f"{request.host_url}daily/room/{name}",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "config": dict(body.get("properties", {})), "participants": 0,
        }
        self.new_room(name, data)
        return json_response(_public(data))

    def on_get(self, request: Request, name: str) -> Response:
        """A room, or 404."""
        problem = self._problem(request)
        if problem:
            return problem
        room = self.rooms.get(name)
        return json_response(_public(room.data)) if room else self._not_found(name)

    def on_update(self, request: Request, name: str) -> Response:
        """Update privacy and properties."""
        problem = self._problem(request)
        if problem:
            return problem
        room = self.rooms.get(name)
        if room is None:
            return self._not_found(name)
        try:
            body = self._body(request)
        except ValueError:
            return self.error(400, "Invalid JSON body")
        room.data["config"].update(body.get("properties", {}))
        room.data["privacy"] = body.get("privacy", room.data["privacy"])
        return json_response(_public(room.data))

    def on_delete(self, request: Request, name: str) -> Response:
        """Delete: ``{"deleted": true}``, or 404."""
        problem = self._problem(request)
        if problem:
            return problem
        if self.rooms.pop(name, None) is None:
            return self._not_found(name)
        return json_response({"deleted": True, "name": name})

    def on_presence(self, request: Request, name: str) -> Response:
        """Participants present now."""
        problem = self._problem(request)
        if problem:
            return problem
        room = self.rooms.get(name)
        if room is None:
            return self._not_found(name)
        count = room.data["participants"]
        return json_response({"total_count": count, "data": [{"room": name}] * count})

    def on_token(self, request: Request) -> Response:
        """Sign a meeting token for an existing room."""
        problem = self._problem(request)
        if problem:
            return problem
        try:
            properties = self._body(request).get("properties", {})
        except ValueError:
            return self.error(400, "Invalid JSON body")
        if properties.get("room_name") not in self.rooms:
            return self.error(400, "room_name: room does not exist")
        token = jwt.encode({**properties, "iat": int(time.time())}, _TOKEN_SECRET,
                           algorithm="HS256")
        return json_response({"token": token})

    def on_page(self, request: Request, name: str) -> Response:
        """The meeting page: a private room needs a valid token for this room."""
        room = self.rooms.get(name)
        if room is None:
            return join_page(request, self.name, name, "", "rejected: no room", status=404)
        try:
            claims = jwt.decode(request.args.get("t", ""), _TOKEN_SECRET, algorithms=["HS256"])
        except jwt.InvalidTokenError:
            claims = {}
        if claims.get("room_name") != name:
            if room.data["privacy"] == "private":
                return join_page(request, self.name, name, "", "rejected", status=403)
            claims = {}
        room.data["participants"] += 1
        role = "host" if claims.get("is_owner") else "participant"
        return join_page(request, self.name, name, claims.get("user_name", ""), role)


def _public(data: dict[str, Any]) -> dict[str, Any]:
    """The room object as Daily shows it."""
    return {k: v for k, v in data.items() if k != "participants"}
