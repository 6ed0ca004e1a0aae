"""Zoom simulator: Server-to-Server OAuth tokens and the scheduled-meetings API."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .simulator import Simulator, bearer, join_page, json_response, new_id

ACCOUNT_ID = "sandbox-account"
CLIENT_ID = "sandbox-zoom-client"
CLIENT_SECRET = "sandbox-zoom-client-secret"  # noqa: S105 -- demo credential
WEBHOOK_SECRET = "sandbox-zoom-webhook-secret"  # noqa: S105 -- demo credential
USER_ID = "sandbox-host-user"
#: Further licensed users of the sandbox account, for host pools (``ZOOM_HOST_USERS``).
HOST_USERS = tuple(f"host{n}@zoom.sandbox.test" for n in range(1, 9))
#: Meeting creates and updates one user may make per day (Zoom's documented limit).
DAILY_LIMIT = 100


class ZoomSimulator(Simulator):
    """``/zoom/oauth/token`` and ``/zoom/v2/...``; pages ``/zoom/j/<id>``, ``/zoom/s/<id>``."""

    name: ClassVar[str] = "zoom"
    prefixes: ClassVar[tuple[str, ...]] = ("/zoom/",)
    url_map: ClassVar[Map] = Map([
        Rule("/zoom/oauth/token", methods=["POST"], endpoint="token"),
        Rule("/zoom/v2/users/<user>/meetings", methods=["POST"], endpoint="create"),
        Rule("/zoom/v2/users/<user>/meetings", methods=["GET"], endpoint="list"),
        Rule("/zoom/v2/meetings/<meeting_id>", methods=["GET"], endpoint="get"),
        Rule("/zoom/v2/meetings/<meeting_id>", methods=["PATCH"], endpoint="update"),
        Rule("/zoom/v2/meetings/<meeting_id>", methods=["DELETE"], endpoint="delete"),
        Rule("/zoom/j/<meeting_id>", methods=["GET"], endpoint="join_page"),
        Rule("/zoom/s/<meeting_id>", methods=["GET"], endpoint="start_page"),
    ])

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()
        self.tokens_issued = 0
        self.zaks: dict[str, str] = {}
        #: (user, UTC day) -> meeting creates and updates made, for the daily limit.
        self.daily: dict[tuple[str, str], int] = {}
        #: Starts refused because the host was already running another meeting.
        self.busy_refusals = 0

    def reset(self) -> None:
        """Also forget issued tokens."""
        with self.lock:
            super().reset()
            self.tokens.clear()
            self.tokens_issued = 0
            self.zaks.clear()
            self.daily.clear()
            self.busy_refusals = 0

    def _count_change(self, user: str) -> Response | None:
        """Count a create or update for ``user``; 429 past Zoom's daily limit."""
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        with self.lock:
            done = self.daily.get((user, day), 0)
            if done >= DAILY_LIMIT:
                return json_response({"code": 429, "message": (
                    "You have exceeded the daily rate limit of meeting creates or updates "
                    f"for user {user}.")}, 429)
            self.daily[(user, day)] = done + 1
        return None

    def expire_tokens(self) -> None:
        """Invalidate every issued access token (the next API call gets 401)."""
        with self.lock:
            self.tokens.clear()

    def error(self, status: int, message: str) -> Response:
        """Zoom's error shape."""
        return json_response({"code": status, "message": message}, status)

    def on_token(self, request: Request) -> Response:
        """``grant_type=account_credentials`` with HTTP Basic client credentials."""
        params = {**request.form.to_dict(), **request.args.to_dict()}
        auth = request.authorization
        if auth is None or (auth.username, auth.password) != (CLIENT_ID, CLIENT_SECRET):
            return json_response(
                {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}, 400
            )
        if params.get("grant_type") != "account_credentials":
            return json_response(
                {"reason": "Unsupported grant type", "error": "unsupported_grant_type"}, 400
            )
        if params.get("account_id") != ACCOUNT_ID:
            return json_response({"reason": "Invalid account_id", "error": "invalid_request"}, 400)
        token = new_id(24)
        self.tokens.add(token)
        self.tokens_issued += 1
        return json_response({"access_token": token, "token_type": "bearer",
                              "expires_in": 3599, "scope": "meeting:write:admin",
                              "api_url": request.host_url.rstrip("/") + "/zoom"})

    def _unauthorized(self, request: Request) -> Response | None:
        """401 code 124 unless the request carries a token this simulator issued."""
        if bearer(request) not in self.tokens:
            return json_response({"code": 124, "message": "Invalid access token."}, 401)
        return None

    def _user_ok(self, user: str) -> Response | None:
        """404 code 1001 for an unknown user."""
        if user not in ("me", USER_ID, *HOST_USERS):
            return json_response({"code": 1001, "message": f"User does not exist: {user}."}, 404)
        return None

    def _missing(self, meeting_id: str) -> Response:
        """404 code 3001."""
        return json_response(
            {"code": 3001, "message": f"Meeting does not exist: {meeting_id}."}, 404
        )

    def _meeting(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        """The meeting object, with a fresh start URL (a new ZAK each time)."""
        zak = new_id(16)
        self.zaks[zak] = data["id"]
        return {**data, "id": int(data["id"]),
                "start_url": f"{request.host_url}zoom/s/{data['id']}?zak={zak}"}

    def on_create(self, request: Request, user: str) -> Response:
        """Schedule a meeting (201)."""
        problem = self._unauthorized(request) or self._user_ok(user)
        host = USER_ID if user == "me" else user
        problem = problem or self._count_change(host)
        if problem:
            return problem
        try:
            body = json.loads(request.get_data() or b"{}")
            utc_start = parse_start(body.get("start_time"), body.get("timezone") or "UTC")
        except (ValueError, KeyError):
            return json_response({"code": 300, "message": "Validation Failed."}, 400)
        meeting_id = str(secrets.randbelow(9 * 10**10) + 10**10)
        password = new_id(6)
        data = {
            "id": meeting_id,
            "uuid": new_id(16),
            "host_id": host,
            "topic": body.get("topic", "Zoom meeting"),
            "type": body.get("type", 2),
            "status": "waiting",
            "start_time": utc_start,
            "duration": body.get("duration", 60),
            "timezone": body.get("timezone", "UTC"),
            "agenda": body.get("agenda", ""),
            "settings": body.get("settings") or {},
            "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "password": password,
            "join_url": f"{request.host_url}zoom/j/{meeting_id}?pwd={password}",
        }
        self.new_room(meeting_id, data)
        return json_response(self._meeting(request, data), 201)

    def on_list(self, request: Request, user: str) -> Response:
        """List scheduled meetings, paged with ``next_page_token``."""
        problem = self._unauthorized(request) or self._user_ok(user)
        if problem:
            return problem
        size = min(int(request.args.get("page_size", 30)), 300)
        start = int(request.args.get("next_page_token") or 0)
        host = USER_ID if user == "me" else user
        rooms = [room for room in self.rooms.values() if room.data["host_id"] == host]
        page = rooms[start:start + size]
        fields = ("uuid", "id", "host_id", "topic", "type", "start_time", "duration",
                  "timezone", "agenda", "created_at", "join_url")
        more = start + size < len(rooms)
        return json_response({
            "page_size": size,
            "total_records": len(rooms),
            "next_page_token": str(start + size) if more else "",
            "meetings": [{f: r.data[f] for f in fields} | {"id": int(r.id)} for r in page],
        })

    def on_get(self, request: Request, meeting_id: str) -> Response:
        """A meeting with a fresh ``start_url``."""
        problem = self._unauthorized(request)
        if problem:
            return problem
        room = self.rooms.get(meeting_id)
        if room is None:
            return self._missing(meeting_id)
        return json_response(self._meeting(request, room.data))

    def on_update(self, request: Request, meeting_id: str) -> Response:
        """PATCH: 204 No Content."""
        problem = self._unauthorized(request)
        if problem:
            return problem
        room = self.rooms.get(meeting_id)
        if room is None:
            return self._missing(meeting_id)
        problem = self._count_change(room.data["host_id"])
        if problem:
            return problem
        try:
            body = json.loads(request.get_data() or b"{}")
            if "start_time" in body:
                body["start_time"] = parse_start(body["start_time"],
                                                 body.get("timezone") or room.data["timezone"])
        except ValueError:
            return json_response({"code": 300, "message": "Validation Failed."}, 400)
        room.data.update({k: v for k, v in body.items() if k in room.data})
        return Response(status=204)

    def on_delete(self, request: Request, meeting_id: str) -> Response:
        """DELETE: 204, or 404 code 3001."""
        problem = self._unauthorized(request)
        if problem:
            return problem
        if self.rooms.pop(meeting_id, None) is None:
            return self._missing(meeting_id)
        return Response(status=204)

    def on_join_page(self, request: Request, meeting_id: str) -> Response:
        """The participants' page: the passcode must match."""
        room = self.rooms.get(meeting_id)
        if room is None or request.args.get("pwd") != room.data["password"]:
            return join_page(request, self.name, meeting_id, "", "rejected", status=403)
        return join_page(request, self.name, meeting_id, request.args.get("uname", ""),
                         "participant")

    def on_start_page(self, request: Request, meeting_id: str) -> Response:
        """The host's page: the ZAK must be one issued for this meeting."""
        room = self.rooms.get(meeting_id)
        if room is None or self.zaks.get(request.args.get("zak", "")) != meeting_id:
            return join_page(request, self.name, meeting_id, "", "rejected", status=403)
        with self.lock:
            # One user hosts one meeting at a time: Zoom asks to end the other one first.
            busy = any(other.data["host_id"] == room.data["host_id"]
                       and other.data.get("status") == "started" and other is not room
                       for other in self.rooms.values())
            if busy:
                self.busy_refusals += 1
                return join_page(request, self.name, meeting_id, "", "host busy", status=409)
            room.data["status"] = "started"
        return join_page(request, self.name, meeting_id, "", "host")


def parse_start(value: str | None, timezone: str) -> str:
    """Zoom's reading of ``start_time``: UTC with a trailing Z, else local in ``timezone``."""
    if not value:
        raise ValueError("start_time missing")
    if value.endswith("Z"):
        moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    else:
        naive = datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S")
        moment = naive.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
