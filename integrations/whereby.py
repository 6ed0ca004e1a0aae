"""Whereby: meetings through the REST API, found again by a room-name prefix from the key.

Docs: https://docs.whereby.com/reference/whereby-rest-api-reference (meetings),
https://docs.whereby.com/customizing-rooms/using-room-url-parameters (``displayName``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from .base import JoinRequest, Room, RoomRequest, VideoProvider
from .http import ProviderHTTP
from .limits import CallLimits

#: endDate is set this long after the session's scheduled end (overruns); Whereby deletes
#: the room an hour after endDate (reference/whereby-rest-api-reference/meetings).
ROOM_GRACE = timedelta(hours=6)
#: Meetings per page when looking for an existing one.
PAGE_LIMIT = 100


def room_prefix(key: str) -> str:
    """The ``roomNamePrefix`` for ``key``: lowercase letters and digits, as Whereby requires."""
    return "eh" + hashlib.sha256(key.encode()).hexdigest()[:16]


def whereby_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class WherebyProvider(VideoProvider):
    """Whereby meetings: ``roomUrl`` for participants, ``hostRoomUrl`` for hosts."""

    name: ClassVar[str] = "whereby"
    label: ClassVar[str] = "Whereby"
    required: ClassVar[tuple[str, ...]] = ("WHEREBY_API_KEY",)
    secrets: ClassVar[tuple[str, ...]] = ("WHEREBY_API_KEY",)
    base_urls: ClassVar[dict[str, str]] = {"WHEREBY_API_BASE": "https://api.whereby.dev/v1"}
    limits: ClassVar[CallLimits] = CallLimits(
        in_flight=10, per_second=10,
        source="Whereby documents no figure: 10/s keeps well inside its 429 limiting",
    )

    def __init__(self, config: Mapping[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.http = self.http or ProviderHTTP(
            self.name, self.setting("WHEREBY_API_BASE"), secrets=self.secret_values(),
            timeout=self.timeout, limits=self.limits,
        )
        self.headers = {"Authorization": f"Bearer {config['WHEREBY_API_KEY']}"}

    def create_room(self, req: RoomRequest) -> Room:
        """Return the meeting whose room name carries the key's prefix, or create one.

        Whereby has no idempotency key and random room names, so the prefix derived from
        the key marks the meeting and the meeting list is searched first.
        """
        meeting = self._find(room_prefix(req.key))
        if meeting is None:
            meeting = self.http.request("POST", "meetings", headers=self.headers, json_body={
                "startDate": whereby_time(req.starts_at),
                "endDate": whereby_time(req.ends_at + ROOM_GRACE),
                "roomNamePrefix": room_prefix(req.key),
                "roomMode": "group",
                "fields": ["hostRoomUrl"],
            }).body
        elif not meeting.get("hostRoomUrl"):
            meeting = self._get(meeting["meetingId"])
        return self._room(meeting)

    def update_room(self, room: Room, req: RoomRequest) -> Room:
        """Whereby cannot change a meeting: if the session now ends after the room closes,
        the room is replaced (EventHub's join links stay the same)."""
        if datetime.fromisoformat(room.data["endDate"]) >= req.ends_at + ROOM_GRACE:
            return room
        self.delete_room(room)
        return self.create_room(req)

    def delete_room(self, room: Room) -> None:
        """DELETE /meetings/{id}; 404 means already gone."""
        self.http.request("DELETE", f"meetings/{quote(room.external_id)}", headers=self.headers,
                          accept=(404,), parse="none")

    def join_url(self, room: Room, join: JoinRequest) -> str:
        """``roomUrl`` with the participant's ``displayName``."""
        return _with_name(room.data["roomUrl"], join)

    def host_url(self, room: Room, join: JoinRequest) -> str:
        """``hostRoomUrl`` (carries the room key that grants host rights)."""
        return _with_name(room.host_data["hostRoomUrl"], join)

    def _find(self, prefix: str) -> Mapping[str, Any] | None:
        """The meeting whose room name starts with ``prefix`` (all pages)."""
        params: dict[str, Any] = {"limit": PAGE_LIMIT}
        while True:
            page = self.http.request("GET", "meetings", headers=self.headers, params=params).body
            for meeting in page.get("results", []):
                if meeting.get("roomName", "").lstrip("/").startswith(prefix):
                    return meeting
            if not page.get("cursor"):
                return None
            params["cursor"] = page["cursor"]

    def _get(self, meeting_id: str) -> Mapping[str, Any]:
        """GET /meetings/{id} with the host URL."""
        return self.http.request("GET", f"meetings/{quote(meeting_id)}", headers=self.headers,
                                 params={"fields": "hostRoomUrl"}).body

    def _room(self, meeting: Mapping[str, Any]) -> Room:
        """A Room from a meeting object."""
        return Room(
            provider=self.name,
            external_id=str(meeting["meetingId"]),
            data={"roomUrl": meeting["roomUrl"], "endDate": meeting["endDate"]},
            host_data={"hostRoomUrl": meeting["hostRoomUrl"]},
        )


def _with_name(url: str, join: JoinRequest) -> str:
    """``url`` with the ``displayName`` room URL parameter."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode({'displayName': join.display_name})}"
