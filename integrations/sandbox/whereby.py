"""Whereby simulator: the meetings API and room pages that honour ``roomKey``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .simulator import Simulator, bearer, join_page, json_response, new_id

API_KEY = "sandbox-whereby-api-key"


class WherebySimulator(Simulator):
    """``/whereby/v1/meetings``; room pages ``/whereby/room/<name>``."""

    name: ClassVar[str] = "whereby"
    prefixes: ClassVar[tuple[str, ...]] = ("/whereby/",)
    url_map: ClassVar[Map] = Map([
        Rule("/whereby/v1/meetings", methods=["POST"], endpoint="create"),
        Rule("/whereby/v1/meetings", methods=["GET"], endpoint="list"),
        Rule("/whereby/v1/meetings/<meeting_id>", methods=["GET"], endpoint="get"),
        Rule("/whereby/v1/meetings/<meeting_id>", methods=["DELETE"], endpoint="delete"),
        Rule("/whereby/room/<name>", methods=["GET"], endpoint="page"),
    ])

    def error(self, status: int, message: str) -> Response:
        """Whereby's error shape."""
        return json_response({"error": message}, status)

    def _problem(self, request: Request) -> Response | None:
        """401 without the API key."""
        if bearer(request) != API_KEY:
            return self.error(401, "Unauthorized")
        return None

    def _show(self, data: dict[str, Any], host: bool) -> dict[str, Any]:
        """The meeting object; ``hostRoomUrl`` only when asked for in ``fields``."""
        shown = {k: v for k, v in data.items() if k not in ("hostRoomUrl", "roomKey")}
        return {**shown, "hostRoomUrl": data["hostRoomUrl"]} if host else shown

    def on_create(self, request: Request) -> Response:
        """Create a meeting (201); ``endDate`` is required."""
        problem = self._problem(request)
        if problem:
            return problem
        try:
            body = json.loads(request.get_data() or b"{}")
            end = datetime.fromisoformat(body["endDate"])
        except (ValueError, KeyError, TypeError):
            return self.error(400, '"endDate" is required and must be an ISO 8601 date')
        prefix = body.get("roomNamePrefix", "")
        if prefix and not (prefix.isalnum() and prefix == prefix.lower()):
            return self.error(400, '"roomNamePrefix" must be lowercase letters and digits')
        meeting_id = str(1000 + self.created)
        room_name = f"/{prefix}{new_id(6).lower().replace('_', '').replace('-', '')}"
        room_key = new_id(12)
        room_url = f"{request.host_url}whereby/room{room_name}"
        data = {
            "meetingId": meeting_id, "roomName": room_name, "roomUrl": room_url,
            "startDate": body.get("startDate"), "endDate": end.isoformat(),
            "hostRoomUrl": f"{room_url}?roomKey={room_key}", "roomKey": room_key,
        }
        self.new_room(meeting_id, data)
        return json_response(self._show(data, "hostRoomUrl" in body.get("fields", [])), 201)

    def on_list(self, request: Request) -> Response:
        """Meetings, paged with ``cursor``."""
        problem = self._problem(request)
        if problem:
            return problem
        limit = int(request.args.get("limit", 50))
        start = int(request.args.get("cursor") or 0)
        rooms = list(self.rooms.values())
        more = start + limit < len(rooms)
        return json_response({
            "results": [self._show(r.data, False) for r in rooms[start:start + limit]],
            "cursor": str(start + limit) if more else None,
        })

    def on_get(self, request: Request, meeting_id: str) -> Response:
        """One meeting, or 404."""
        problem = self._problem(request)
        if problem:
            return problem
        room = self.rooms.get(meeting_id)
        if room is None:
            return self.error(404, "Meeting not found")
        return json_response(self._show(room.data, "hostRoomUrl" in request.args.get("fields", "")))

    def on_delete(self, request: Request, meeting_id: str) -> Response:
        """204, or 404."""
        problem = self._problem(request)
        if problem:
            return problem
        if self.rooms.pop(meeting_id, None) is None:
            return self.error(404, "Meeting not found")
        return Response(status=204)

    def on_page(self, request: Request, name: str) -> Response:
        """The room page: host with the right ``roomKey``."""
        room = next((r for r in self.rooms.values() if r.data["roomName"] == f"/{name}"), None)
        if room is None:
            return join_page(request, self.name, name, "", "rejected: no room", status=404)
        key = request.args.get("roomKey")
        if key and key != room.data["roomKey"]:
            return join_page(request, self.name, name, "", "rejected", status=403)
        return join_page(request, self.name, name, request.args.get("displayName", ""),
                         "host" if key else "participant")
