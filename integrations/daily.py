"""Daily: private rooms named after the key, meeting tokens per join.

Docs: https://docs.daily.co/reference/rest-api/rooms/create-room,
https://docs.daily.co/reference/rest-api/meeting-tokens/create-meeting-token,
https://docs.daily.co/reference/rest-api/rooms/get-room-presence.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

from .base import (
    JoinRequest,
    ProviderRejected,
    Room,
    RoomRequest,
    RoomStatus,
    VideoProvider,
    key_slug,
)
from .http import ProviderHTTP
from .limits import CallLimits

#: A room stays joinable this long after the session's scheduled end (overruns).
ROOM_GRACE = timedelta(hours=6)
#: Lifetime of a meeting token; Daily checks it when joining.
TOKEN_TTL_SECONDS = 12 * 3600


class DailyProvider(VideoProvider):
    """Private Daily rooms: joining needs a meeting token, which carries name and owner flag."""

    name: ClassVar[str] = "daily"
    label: ClassVar[str] = "Daily"
    required: ClassVar[tuple[str, ...]] = ("DAILY_API_KEY",)
    secrets: ClassVar[tuple[str, ...]] = ("DAILY_API_KEY",)
    base_urls: ClassVar[dict[str, str]] = {"DAILY_API_BASE": "https://api.daily.co/v1"}
    limits: ClassVar[CallLimits] = CallLimits(
        in_flight=20, per_second=20, per_second_by_method=(("DELETE", 2),),
        source="https://docs.daily.co/reference/rest-api#rate-limits (20/s; deletions 2/s)",
    )

    def __init__(self, config: Mapping[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.http = self.http or ProviderHTTP(
            self.name, self.setting("DAILY_API_BASE"), secrets=self.secret_values(),
            timeout=self.timeout, limits=self.limits,
        )
        self.headers = {"Authorization": f"Bearer {config['DAILY_API_KEY']}"}

    def create_room(self, req: RoomRequest) -> Room:
        """POST /rooms with a name derived from the key; an existing name is fetched instead.

        Daily answers 200 (not 201) on create, and 400 ``invalid-request-error`` "already
        exists" for a taken name.
        """
        name = key_slug(req.key, max_length=64)
        response = self.http.request(
            "POST", "rooms", headers=self.headers, accept=(400,),
            json_body={"name": name, "privacy": "private", "properties": self._properties(req)},
        )
        if response.status == 400:
            if "already exists" not in str(response.body):
                raise self._rejected("POST /rooms", response.body)
            response = self.http.request("GET", f"rooms/{name}", headers=self.headers)
        return self._room(response.body)

    def update_room(self, room: Room, req: RoomRequest) -> Room:
        """POST /rooms/{name} with the new expiry."""
        response = self.http.request(
            "POST", f"rooms/{quote(room.external_id)}", headers=self.headers,
            json_body={"properties": self._properties(req)},
        )
        return self._room(response.body)

    def delete_room(self, room: Room) -> None:
        """DELETE /rooms/{name}; 404 means already gone."""
        self.http.request("DELETE", f"rooms/{quote(room.external_id)}", headers=self.headers,
                          accept=(404,))

    def join_url(self, room: Room, join: JoinRequest) -> str:
        """The room URL with a participant token (``user_name``, not owner)."""
        return self._url(room, join, owner=False)

    def host_url(self, room: Room, join: JoinRequest) -> str:
        """The room URL with an owner token (``is_owner``: host rights)."""
        return self._url(room, join, owner=True)

    def room_status(self, room: Room) -> RoomStatus:
        """Who is in the room now, from GET /rooms/{name}/presence."""
        body = self.http.request(
            "GET", f"rooms/{quote(room.external_id)}/presence", headers=self.headers
        ).body
        count = int(body.get("total_count", 0))
        return RoomStatus(running=count > 0, participant_count=count)

    def _properties(self, req: RoomRequest) -> dict[str, Any]:
        """Room properties: joinable until a grace period after the scheduled end."""
        return {"exp": int((req.ends_at + ROOM_GRACE).timestamp())}

    def _room(self, body: Mapping[str, Any]) -> Room:
        """A Room from Daily's room object."""
        return Room(provider=self.name, external_id=body["name"],
                    data={"name": body["name"], "url": body["url"]})

    def _url(self, room: Room, join: JoinRequest, *, owner: bool) -> str:
        """POST /meeting-tokens and append the token as ``?t=``."""
        properties: dict[str, Any] = {
            "room_name": room.external_id,
            "user_name": join.display_name,
            "is_owner": owner,
            "exp": int(self.clock()) + TOKEN_TTL_SECONDS,
        }
        if join.user_id:
            properties["user_id"] = join.user_id
        token = self.http.request("POST", "meeting-tokens", headers=self.headers,
                                  json_body={"properties": properties}).body["token"]
        return f"{room.data['url']}?t={token}"

    def _rejected(self, where: str, body: Any) -> ProviderRejected:
        """A ProviderRejected naming Daily's error."""
        info = body.get("info", "") if isinstance(body, dict) else ""
        return ProviderRejected(self.http.redact(f"daily: {where} -> 400: {info}"),
                                provider=self.name, status=400)
