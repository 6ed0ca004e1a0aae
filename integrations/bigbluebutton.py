"""BigBlueButton: signed GET calls to ``BBB_URL`` + ``api/<call>``, XML answers.

Docs: https://docs.bigbluebutton.org/development/api (checksum, create, join, end,
isMeetingRunning, getMeetingInfo).
"""

from __future__ import annotations

import hashlib
import hmac
import xml.etree.ElementTree as ET  # noqa: S405 -- typing only; parsing happens in ProviderHTTP
from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from .base import (
    JoinRequest,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    Room,
    RoomRequest,
    RoomStatus,
    VideoProvider,
    key_slug,
)
from .http import ProviderHTTP
from .limits import CallLimits

CHECKSUM_ALGORITHMS = ("sha1", "sha256")


class BigBlueButtonProvider(VideoProvider):
    """BigBlueButton meetings, created on demand with passwords derived from the key."""

    name: ClassVar[str] = "bigbluebutton"
    label: ClassVar[str] = "BigBlueButton"
    required: ClassVar[tuple[str, ...]] = ("BBB_URL", "BBB_SECRET")
    optional: ClassVar[tuple[str, ...]] = ("BBB_CHECKSUM",)
    secrets: ClassVar[tuple[str, ...]] = ("BBB_SECRET",)
    base_urls: ClassVar[dict[str, str]] = {"BBB_URL": ""}
    limits: ClassVar[CallLimits] = CallLimits(
        in_flight=20,
        source="your own server: no documented rate; 20 calls at once spares it",
    )

    def __init__(self, config: Mapping[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.algorithm = (config.get("BBB_CHECKSUM") or "sha1").lower()
        if self.algorithm not in CHECKSUM_ALGORITHMS:
            raise ProviderNotConfigured(
                f"BBB_CHECKSUM must be one of {', '.join(CHECKSUM_ALGORITHMS)}",
                missing=("BBB_CHECKSUM",), provider=self.name,
            )
        self.http = self.http or ProviderHTTP(
            self.name, self.setting("BBB_URL"), secrets=self.secret_values(),
            timeout=self.timeout, limits=self.limits,
        )

    def create_room(self, req: RoomRequest) -> Room:
        """Create the meeting; the same key gives the same ID and passwords (idempotent)."""
        meeting_id = key_slug(req.key, max_length=64)
        room = Room(
            provider=self.name,
            external_id=meeting_id,
            data={"meetingID": meeting_id, "name": req.title},
            host_data={"moderatorPW": self._password(meeting_id, "moderator")},
        )
        self._ensure_meeting(room)
        return room

    def update_room(self, room: Room, req: RoomRequest) -> Room:
        """BBB cannot rename a meeting; the new title applies the next time it is created."""
        return Room(room.provider, room.external_id, {**room.data, "name": req.title},
                    room.host_data)

    def delete_room(self, room: Room) -> None:
        """End the meeting; a meeting BBB no longer knows counts as ended."""
        self._api(
            "end",
            {"meetingID": room.external_id,
             "password": self._password(room.external_id, "moderator")},
            ok_keys=("notFound",),
        )

    def join_url(self, room: Room, join: JoinRequest) -> str:
        """A signed viewer ``join`` URL with the participant's name."""
        return self._join(room, join, moderator=False)

    def host_url(self, room: Room, join: JoinRequest) -> str:
        """A signed moderator ``join`` URL."""
        return self._join(room, join, moderator=True)

    def room_status(self, room: Room) -> RoomStatus:
        """Running state and participant count from ``getMeetingInfo``."""
        info = self._api("getMeetingInfo", {"meetingID": room.external_id}, ok_keys=("notFound",))
        if info.findtext("returncode") != "SUCCESS":
            return RoomStatus(running=False, participant_count=0)
        return RoomStatus(
            running=info.findtext("running") == "true",
            participant_count=int(info.findtext("participantCount") or 0),
        )

    def signed_url(self, call: str, params: Mapping[str, str]) -> str:
        """``BBB_URL/api/<call>?<query>&checksum=<hash(call + query + secret)>``.

        The checksum covers the exact encoded query string that is sent: BBB hashes the
        query string it receives, minus the checksum parameter.
        """
        query = urlencode(params, quote_via=quote)
        secret = self.config["BBB_SECRET"]
        checksum = hashlib.new(self.algorithm, f"{call}{query}{secret}".encode()).hexdigest()
        base = self.setting("BBB_URL").rstrip("/")
        separator = "&" if query else ""
        return f"{base}/api/{call}?{query}{separator}checksum={checksum}"

    def _password(self, meeting_id: str, role: str) -> str:
        """A password derived from the secret: BBB answers ``idNotUnique`` to a repeated
        ``create`` whose passwords differ, so they must be the same on every call."""
        secret = self.config["BBB_SECRET"].encode()
        return hmac.new(secret, f"{role}:{meeting_id}".encode(), hashlib.sha256).hexdigest()[:20]

    def _ensure_meeting(self, room: Room) -> None:
        """``create`` the meeting, or confirm it exists (``duplicateWarning``).

        BBB forgets a meeting nobody joined after a few minutes
        (``meetingExpireIfNoUserJoinedInMinutes``), so joins create it again first.
        """
        self._api(
            "create",
            {
                "name": room.data.get("name") or room.external_id,
                "meetingID": room.external_id,
                "attendeePW": self._password(room.external_id, "attendee"),
                "moderatorPW": self._password(room.external_id, "moderator"),
            },
        )

    def _join(self, room: Room, join: JoinRequest, *, moderator: bool) -> str:
        """A signed ``join`` URL; BBB 2.4+ reads ``role``, older servers the password."""
        self._ensure_meeting(room)
        params = {
            "fullName": join.display_name,
            "meetingID": room.external_id,
            "role": "MODERATOR" if moderator else "VIEWER",
            "password": self._password(room.external_id, "moderator" if moderator else "attendee"),
        }
        if join.user_id:
            params["userID"] = join.user_id
        return self.signed_url("join", params)

    def _api(
        self, call: str, params: Mapping[str, str], ok_keys: tuple[str, ...] = ()
    ) -> ET.Element:
        """Call the API; a FAILED answer is rejected unless its ``messageKey`` is in ok_keys.

        BBB answers errors with HTTP 200 and ``<returncode>FAILED</returncode>``.
        """
        root = self.http.request("GET", self.signed_url(call, params), parse="xml").body
        if root is None or root.findtext("returncode") is None:
            raise ProviderUnavailable(f"{self.name}: {call}: answer without returncode",
                                      provider=self.name)
        if root.findtext("returncode") != "SUCCESS":
            key = root.findtext("messageKey") or ""
            if key not in ok_keys:
                message = self.http.redact(f"{key}: {root.findtext('message') or ''}")
                raise ProviderRejected(f"{self.name}: {call} failed: {message}",
                                       provider=self.name)
        return root
