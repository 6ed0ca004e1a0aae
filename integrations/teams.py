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

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
DEFAULT_TOKEN_URL = "https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token"  # noqa: S105


def graph_time(moment: datetime) -> str:
    """ISO 8601 in UTC, as Graph's ``dateTime`` expects."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class TeamsProvider(VideoProvider):
    """Teams meetings organized by ``MSGRAPH_USER_ID``.

    Host rights come from the organizer's Microsoft account, not from a URL: the host URL is
    the same ``joinWebUrl``, and Teams asks anonymous guests for their name itself.
    """

    name: ClassVar[str] = "teams"
    label: ClassVar[str] = "Microsoft Teams"
    required: ClassVar[tuple[str, ...]] = (
        "MSGRAPH_TENANT_ID", "MSGRAPH_CLIENT_ID", "MSGRAPH_CLIENT_SECRET", "MSGRAPH_USER_ID",
    )
    secrets: ClassVar[tuple[str, ...]] = ("MSGRAPH_CLIENT_SECRET",)
    base_urls: ClassVar[dict[str, str]] = {
        "MSGRAPH_API_BASE": "https://graph.microsoft.com/v1.0",
        "MSGRAPH_TOKEN_URL": DEFAULT_TOKEN_URL,
    }

    def __init__(self, config: Mapping[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.http = self.http or ProviderHTTP(
            self.name, self.setting("MSGRAPH_API_BASE"), secrets=self.secret_values(),
            timeout=self.timeout,
        )
        self.token = OAuthToken(self.http, self._fetch_token, self.clock)
        self.user_path = f"users/{quote(config['MSGRAPH_USER_ID'])}/onlineMeetings"

    def create_room(self, req: RoomRequest) -> Room:
        """``createOrGet`` with ``externalId`` = key: Graph returns the existing meeting."""
        body = self.token.request("POST", f"{self.user_path}/createOrGet",
                                  json_body={"externalId": req.key, **self._fields(req)}).body
        return self._room(body)

    def update_room(self, room: Room, req: RoomRequest) -> Room:
        """PATCH subject and times."""
        body = self.token.request("PATCH", f"{self.user_path}/{quote(room.external_id)}",
                                  json_body=self._fields(req)).body
        return self._room(body)

    def delete_room(self, room: Room) -> None:
        """DELETE the meeting; 404 means already gone."""
        self.token.request("DELETE", f"{self.user_path}/{quote(room.external_id)}",
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

    def _room(self, body: Mapping[str, Any]) -> Room:
        """A Room from an onlineMeeting."""
        return Room(provider=self.name, external_id=body["id"],
                    data={"joinWebUrl": body["joinWebUrl"], "subject": body.get("subject", "")})

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
