"""Microsoft Graph simulator: the identity platform token endpoint and onlineMeetings."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .simulator import Simulator, bearer, join_page, json_response, new_id

TENANT_ID = "sandbox-tenant"
CLIENT_ID = "sandbox-graph-client"
CLIENT_SECRET = "sandbox-graph-client-secret"  # noqa: S105 -- demo credential
USER_ID = "sandbox-organizer"
#: Further organizers of the sandbox tenant, for host pools (``MSGRAPH_USER_IDS``).
HOST_USERS = tuple(f"sandbox-organizer-{n}" for n in range(1, 9))
SCOPE = "https://graph.microsoft.com/.default"


def graph_error(status: int, code: str, message: str) -> Response:
    """Graph's ``{"error": {"code", "message"}}``."""
    return json_response({"error": {"code": code, "message": message}}, status)


class TeamsSimulator(Simulator):
    """``/login/<tenant>/oauth2/v2.0/token`` and ``/graph/v1.0/users/<id>/onlineMeetings``."""

    name: ClassVar[str] = "teams"
    prefixes: ClassVar[tuple[str, ...]] = ("/graph/", "/login/")
    url_map: ClassVar[Map] = Map([
        Rule("/login/<tenant>/oauth2/v2.0/token", methods=["POST"], endpoint="token"),
        Rule("/graph/v1.0/users/<user>/onlineMeetings/createOrGet", methods=["POST"],
             endpoint="create_or_get"),
        Rule("/graph/v1.0/users/<user>/onlineMeetings/<meeting_id>", methods=["PATCH"],
             endpoint="update"),
        Rule("/graph/v1.0/users/<user>/onlineMeetings/<meeting_id>", methods=["DELETE"],
             endpoint="delete"),
        Rule("/graph/meetup-join/<meeting_id>", methods=["GET"], endpoint="page"),
    ])

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def reset(self) -> None:
        """Also forget issued tokens."""
        with self.lock:
            super().reset()
            self.tokens.clear()

    def expire_tokens(self) -> None:
        """Invalidate every issued token."""
        with self.lock:
            self.tokens.clear()

    def error(self, status: int, message: str) -> Response:
        """Graph's error shape."""
        return graph_error(status, "BadRequest" if status == 400 else "NotFound", message)

    def on_token(self, request: Request, tenant: str) -> Response:
        """Client-credentials grant with the AADSTS error shapes."""
        form = request.form
        if tenant != TENANT_ID:
            return json_response({"error": "invalid_request", "error_description":
                                  f"AADSTS90002: Tenant '{tenant}' not found."}, 400)
        if form.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type", "error_description":
                                  "AADSTS70003: The app requested an unsupported grant type."},
                                 400)
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return json_response({"error": "invalid_client", "error_description":
                                  "AADSTS7000215: Invalid client secret provided."}, 401)
        if form.get("scope") != SCOPE:
            return json_response({"error": "invalid_scope", "error_description":
                                  "AADSTS1002012: The provided value for scope is not valid."},
                                 400)
        token = new_id(24)
        self.tokens.add(token)
        return json_response({"token_type": "Bearer", "expires_in": 3599,
                              "ext_expires_in": 3599, "access_token": token})

    def _problem(self, request: Request, user: str) -> Response | None:
        """401 for a token this simulator did not issue; 404 for another user."""
        if bearer(request) not in self.tokens:
            return graph_error(401, "InvalidAuthenticationToken",
                               "Access token validation failure.")
        if user not in (USER_ID, *HOST_USERS):
            return graph_error(404, "NotFound", f"User {user} not found.")
        return None

    def _meeting(self, request: Request, meeting_id: str, body: dict[str, Any],
                 user: str) -> dict:
        """A new onlineMeeting object."""
        return {
            "id": meeting_id,
            "externalId": body["externalId"],
            "subject": body.get("subject", ""),
            "startDateTime": body.get("startDateTime"),
            "endDateTime": body.get("endDateTime"),
            "joinWebUrl": f"{request.host_url}graph/meetup-join/{meeting_id}",
            "participants": {"organizer": {"identity": {"user": {"id": user}}}},
        }

    def on_create_or_get(self, request: Request, user: str) -> Response:
        """201 with a new meeting, or 200 with the one that has this ``externalId``."""
        problem = self._problem(request, user)
        if problem:
            return problem
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return self.error(400, "Unable to read JSON request payload.")
        if not body.get("externalId"):
            return self.error(400, "externalId is required.")
        # externalId is unique per organizer (Graph's createOrGet).
        existing = next(
            (r for r in self.rooms.values() if r.data["externalId"] == body["externalId"]
             and r.data["participants"]["organizer"]["identity"]["user"]["id"] == user), None
        )
        if existing is not None:
            return json_response(existing.data, 200)
        meeting_id = f"MSo{new_id(18)}"
        room = self.new_room(meeting_id, self._meeting(request, meeting_id, body, user))
        return json_response(room.data, 201)

    def on_update(self, request: Request, user: str, meeting_id: str) -> Response:
        """PATCH subject and times: 200 with the meeting."""
        problem = self._problem(request, user)
        if problem:
            return problem
        room = self.rooms.get(meeting_id)
        if room is None:
            return self.error(404, "The requested resource does not exist.")
        try:
            body = json.loads(request.get_data() or b"{}")
        except ValueError:
            return self.error(400, "Unable to read JSON request payload.")
        for field in ("subject", "startDateTime", "endDateTime"):
            if field in body:
                room.data[field] = body[field]
        return json_response(room.data)

    def on_delete(self, request: Request, user: str, meeting_id: str) -> Response:
        """204, or 404."""
        problem = self._problem(request, user)
        if problem:
            return problem
        if self.rooms.pop(meeting_id, None) is None:
            return self.error(404, "The requested resource does not exist.")
        return Response(status=204)

    def on_page(self, request: Request, meeting_id: str) -> Response:
        """The meeting page: Teams decides the role from the signed-in account."""
        if meeting_id not in self.rooms:
            return join_page(request, self.name, meeting_id, "", "rejected: no meeting", 404)
        return join_page(request, self.name, meeting_id, "", "participant")
