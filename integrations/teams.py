"""Microsoft Teams: online meetings through Microsoft Graph with an app-only token.

Docs: https://learn.microsoft.com/en-us/graph/api/onlinemeeting-createorget?view=graph-rest-1.0
(idempotent create by ``externalId``; app-only calls need an application access policy for
the organizer), https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
(token), https://learn.microsoft.com/en-us/graph/api/onlinemeeting-update?view=graph-rest-1.0.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from .base import JoinRequest, Room, RoomRequest, VideoProvider
from .http import OAuthToken, ProviderHTTP, ProviderResponse
from .limits import CallLimits

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token"  # noqa: S105


def graph_time(moment: datetime) -> str:
    """ISO 8601 in UTC, as Graph's ``dateTime`` expects."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TeamsProvider(VideoProvider):
    """Teams meetings organized by ``MSGRAPH_USER_ID``, or by the host chosen from the pool
    ``MSGRAPH_USER_IDS`` (one organizer runs one meeting at a time).

    Host rights come from the organizer's Microsoft account, not from a URL: the host URL is
    the same ``joinWebUrl``, and Teams asks anonymous guests for their name itself.
    """

    name: ClassVar[str] = "teams"
    label: ClassVar[str] = "Microsoft Teams"
    required: ClassVar[tuple[str, ...]] = (
        "MSGRAPH_TENANT_ID", "MSGRAPH_CLIENT_ID", "MSGRAPH_CLIENT_SECRET", "MSGRAPH_USER_ID",
    )
    optional: ClassVar[tuple[str, ...]] = ("MSGRAPH_USER_IDS",)
    secrets: ClassVar[tuple[str, ...]] = ("MSGRAPH_CLIENT_SECRET",)
    host_pool_variable: ClassVar[str] = "MSGRAPH_USER_IDS"
    base_urls: ClassVar[dict[str, str]] = {
        "MSGRAPH_API_BASE": "https://graph.microsoft.com/v1.0",
        "MSGRAPH_TOKEN_URL": DEFAULT_TOKEN_URL,
    }
    limits: ClassVar[CallLimits] = CallLimits(
        in_flight=10, per_second=10,
        source="https://learn.microsoft.com/graph/throttling-limits (cloud communications)",
    )

    def __init__(self, config: Mapping[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.http = self.http or ProviderHTTP(
            self.name, self.setting("MSGRAPH_API_BASE"), secrets=self.secret_values(),
            timeout=self.timeout, limits=self.limits,
        )
        self.token = OAuthToken(self.http, self._fetch_token, self.clock)
        self.user = config["MSGRAPH_USER_ID"]

    def host_pool(self) -> tuple[str, ...]:
        """``MSGRAPH_USER_IDS`` (comma-separated user ids), else ``MSGRAPH_USER_ID``."""
        pool = [user.strip() for user in str(self.config.get("MSGRAPH_USER_IDS") or "").split(",")]
        return tuple(user for user in pool if user) or (self.user,)

    def _path(self, user: str) -> str:
        return f"users/{quote(user)}/onlineMeetings"

    def create_room(self, req: RoomRequest) -> Room:
        """``createOrGet`` with ``externalId`` = key: Graph returns the existing meeting."""
        host = req.host or self.user
        body = self.token.request("POST", f"{self._path(host)}/createOrGet",
                                  json_body={"externalId": req.key, **self._fields(req)}).body
        return self._room(body, host)

    def update_room(self, room: Room, req: RoomRequest) -> Room:
        """PATCH subject and times; a new organizer means a new meeting (the old one deleted)."""
        current = room.host_data.get("organizer") or self.user
        if req.host and req.host != current:
            moved = self.create_room(req)
            self.delete_room(room)
            return moved
        body = self.token.request("PATCH", f"{self._path(current)}/{quote(room.external_id)}",
                                  json_body=self._fields(req)).body
        return self._room(body, current)

    def delete_room(self, room: Room) -> None:
        """DELETE the meeting; 404 means already gone."""
        organizer = room.host_data.get("organizer") or self.user
        self.token.request("DELETE", f"{self._path(organizer)}/{quote(room.external_id)}",
                           accept=(404,), parse="none")

    def join_url(self, room: Room, join: JoinRequest) -> str:
        """``joinWebUrl``: Teams has no URL parameter for a guest's name; it asks on joining."""
        return room.data["joinWebUrl"]

    def host_url(self, room: Room, join: JoinRequest) -> str:
        """``joinWebUrl``: the organizer gets host rights by signing in to Teams."""
        return room.data["joinWebUrl"]

    def host_rights_by_url(self) -> bool:
        """Teams grants host rights to the organizer's account."""
        return False

    def _fields(self, req: RoomRequest) -> dict[str, Any]:
        """Subject and times."""
        return {"subject": req.title, "startDateTime": graph_time(req.starts_at),
                "endDateTime": graph_time(req.ends_at)}

    def _room(self, body: Mapping[str, Any], organizer: str) -> Room:
        """A Room from an onlineMeeting."""
        return Room(provider=self.name, external_id=body["id"],
                    data={"joinWebUrl": body["joinWebUrl"], "subject": body.get("subject", "")},
                    host_data={"organizer": organizer})

    def _fetch_token(self) -> ProviderResponse:
        """Client-credentials token for Graph (form-encoded POST to the tenant's endpoint)."""
        url = self.setting("MSGRAPH_TOKEN_URL").replace(
            "<tenant>", quote(self.config["MSGRAPH_TENANT_ID"])
        )
        return self.http.request("POST", url, data={
            "client_id": self.config["MSGRAPH_CLIENT_ID"],
            "client_secret": self.config["MSGRAPH_CLIENT_SECRET"],
            "scope": GRAPH_SCOPE,
            "grant_type": "client_credentials",
        })
