"""Zoom: Server-to-Server OAuth and the Meetings API; webhook signature helpers.

Docs: https://developers.zoom.us/docs/internal-apps/s2s-oauth/ (tokens),
https://developers.zoom.us/docs/api/meetings/ (meetings),
https://developers.zoom.us/docs/api/rate-limits/ (429),
https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events (webhooks).

One Zoom user runs one meeting at a time, and may create or update at most 100 meetings a day
(https://developers.zoom.us/docs/api/rate-limits/#meeting-createupdate-limits): parallel halls
need a pool of host users, ``ZOOM_HOST_USERS``. EventHub chooses the host of each meeting
(``RoomRequest.host``); this adapter schedules the meeting on that user, and moves it (a new
meeting, the old one deleted) when the host changes, since a meeting's host cannot be changed.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlencode

from .base import (
    Interpreter,
    JoinRequest,
    ProviderRejected,
    Room,
    RoomRequest,
    RoomStatus,
    VideoProvider,
)
from .http import OAuthToken, ProviderHTTP, ProviderResponse
from .limits import CallLimits

#: Zoom refuses webhooks whose timestamp is further than this from the clock (replay guard).
WEBHOOK_MAX_SKEW_SECONDS = 300
#: Zoom's "Meeting does not exist" error code (404 on GET/PATCH/DELETE /meetings/{id}).
MEETING_NOT_FOUND = 3001
#: Zoom's list page size limit (GET /users/{userId}/meetings).
PAGE_SIZE = 300
#: Zoom truncates agendas beyond 2000 characters.
AGENDA_MAX = 2000
#: Meeting creates and updates one user may make per day (Zoom's documented limit).
DAILY_MEETING_LIMIT = 100
#: Zoom names interpretation languages by a country id ("US,CN" = English to Chinese), see
#: settings.language_interpretation.interpreters[].languages in the create-meeting reference.
INTERPRETATION_IDS = {
    "en": "US", "ru": "RU", "de": "DE", "fr": "FR", "es": "ES", "it": "IT", "pt": "PT",
    "zh": "CN", "ja": "JP", "ko": "KR", "uk": "UA", "pl": "PL", "tr": "TR", "ar": "SA",
}


def verify_webhook(secret: str, body: bytes, timestamp: str, signature: str, now: float) -> bool:
    """Whether ``signature`` (``x-zm-signature``) signs ``body`` at ``timestamp``.

    ``v0=`` + hex HMAC-SHA256 of ``v0:{x-zm-request-timestamp}:{raw body}`` with the
    webhook secret token; a timestamp more than 5 minutes from ``now`` is refused.
    """
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - sent) > WEBHOOK_MAX_SKEW_SECONDS:
        return False
    message = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature or "")


def url_validation_response(secret: str, plain_token: str) -> dict[str, str]:
    """The answer to Zoom's ``endpoint.url_validation`` challenge."""
    encrypted = hmac.new(secret.encode(), plain_token.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain_token, "encryptedToken": encrypted}


def zoom_time(moment: datetime) -> str:
    """``yyyy-MM-ddTHH:mm:ssZ``: with the Z, Zoom reads UTC; without, local time in
    ``timezone`` (https://developers.zoom.us/docs/api/meetings/#tag/meetings/POST/users/{userId}/meetings)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ZoomProvider(VideoProvider):
    """Scheduled Zoom meetings owned by ``ZOOM_USER_ID`` (default ``me``)."""

    name: ClassVar[str] = "zoom"
    label: ClassVar[str] = "Zoom"
    required: ClassVar[tuple[str, ...]] = (
        "ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET",
    )
    optional: ClassVar[tuple[str, ...]] = (
        "ZOOM_WEBHOOK_SECRET", "ZOOM_USER_ID", "ZOOM_HOST_USERS",
    )
    secrets: ClassVar[tuple[str, ...]] = ("ZOOM_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET")
    base_urls: ClassVar[dict[str, str]] = {
        "ZOOM_API_BASE": "https://api.zoom.us/v2",
        "ZOOM_OAUTH_URL": "https://zoom.us/oauth/token",
    }
    limits: ClassVar[CallLimits] = CallLimits(
        in_flight=20, per_second=20,
        source="https://developers.zoom.us/docs/api/rate-limits/ (Pro: Medium 20/s)",
    )
    host_pool_variable: ClassVar[str] = "ZOOM_HOST_USERS"
    daily_host_limit: ClassVar[int | None] = DAILY_MEETING_LIMIT
    supports_interpretation: ClassVar[bool] = True

    def __init__(self, config: Mapping[str, Any], **kwargs: Any):
        super().__init__(config, **kwargs)
        self.http = self.http or ProviderHTTP(
            self.name, self.setting("ZOOM_API_BASE"), secrets=self.secret_values(),
            timeout=self.timeout, limits=self.limits,
        )
        self.user = config.get("ZOOM_USER_ID") or "me"
        self.token = OAuthToken(self.http, self._fetch_token, self.clock)

    def host_pool(self) -> tuple[str, ...]:
        """``ZOOM_HOST_USERS`` (user ids or e-mails, comma-separated), else ``ZOOM_USER_ID``."""
        pool = [user.strip() for user in str(self.config.get("ZOOM_HOST_USERS") or "").split(",")]
        return tuple(user for user in pool if user) or (self.user,)

    def create_room(self, req: RoomRequest) -> Room:
        """Return the meeting carrying ``req.key`` in its agenda, or schedule one on
        ``req.host`` (default ``ZOOM_USER_ID``).

        Zoom has no idempotency key, so the key is written into the agenda and looked up
        first, on the requested host. Two concurrent creates for one key could still race;
        EventHub's provisioning runs one job per room.
        """
        host = req.host or self.user
        found = self._find(req.key, host)
        if found is None:
            found = self._call("POST", f"users/{host}/meetings", json_body=self._body(req)).body
        else:
            found = self._call("GET", f"meetings/{found['id']}").body
        return self._room(found, host)

    def update_room(self, room: Room, req: RoomRequest) -> Room:
        """PATCH the title, times and settings (Zoom answers 204 without a body).

        A meeting's host cannot change: when ``req.host`` names another host, the meeting is
        scheduled anew on that host and the old one deleted.
        """
        current = room.host_data.get("host_user") or self.user
        if req.host and req.host != current:
            moved = self._room(
                self._call("POST", f"users/{req.host}/meetings", json_body=self._body(req)).body,
                req.host,
            )
            self.delete_room(room)
            return moved
        self._call("PATCH", f"meetings/{room.external_id}", json_body=self._body(req))
        return Room(room.provider, room.external_id, {**room.data, "topic": req.title},
                    room.host_data)

    def delete_room(self, room: Room) -> None:
        """DELETE the meeting; 404 with code 3001 (no such meeting) counts as deleted."""
        response = self._call("DELETE", f"meetings/{room.external_id}", accept=(404,))
        if response.status == 404 and _code(response) != MEETING_NOT_FOUND:
            raise ProviderRejected(
                f"zoom: DELETE meeting -> 404 (code {_code(response)})", provider=self.name,
                status=404,
            )

    def join_url(self, room: Room, join: JoinRequest) -> str:
        """The participants' ``join_url`` with the display name (``uname``, as in Zoom's
        client URL schemes: https://developers.zoom.us/docs/meetings/client-url-schemes/)."""
        url = room.data["join_url"]
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}{urlencode({'uname': join.display_name})}"

    def host_url(self, room: Room, join: JoinRequest) -> str:
        """A fresh ``start_url``: the one returned at creation expires after two hours."""
        return self._call("GET", f"meetings/{room.external_id}").body["start_url"]

    def room_status(self, room: Room) -> RoomStatus:
        """``status`` of GET /meetings/{id}: ``started`` means running."""
        response = self._call("GET", f"meetings/{room.external_id}", accept=(404,))
        running = response.status == 200 and response.body.get("status") == "started"
        return RoomStatus(running=running)

    def _body(self, req: RoomRequest) -> dict[str, Any]:
        """The meeting fields for create and update."""
        marker = f"\n\n[eventhub:{req.key}]"
        return {
            "topic": req.title[:200],
            "type": 2,  # scheduled meeting
            "start_time": zoom_time(req.starts_at),
            "duration": max(1, math.ceil((req.ends_at - req.starts_at).total_seconds() / 60)),
            "timezone": req.timezone,
            "agenda": req.description[: AGENDA_MAX - len(marker)] + marker,
            "settings": self._settings(req),
        }

    @staticmethod
    def _settings(req: RoomRequest) -> dict[str, Any]:
        """Alternative hosts (the moderators) and language interpretation."""
        settings: dict[str, Any] = {"alternative_hosts": ";".join(req.alternative_hosts)}
        interpreters = [_interpreter(i) for i in req.interpreters]
        settings["language_interpretation"] = {
            "enable": bool(interpreters), "interpreters": interpreters,
        }
        return settings

    def _room(self, meeting: Mapping[str, Any], host: str) -> Room:
        """A Room from a meeting object: join URL public, start URL host-only."""
        return Room(
            provider=self.name,
            external_id=str(meeting["id"]),
            data={"join_url": meeting["join_url"], "topic": meeting.get("topic", "")},
            host_data={"start_url": meeting.get("start_url", ""),
                       "host_id": meeting.get("host_id", ""), "host_user": host},
        )

    def _find(self, key: str, host: str) -> Mapping[str, Any] | None:
        """The scheduled meeting of ``host`` whose agenda carries ``key``, if any (all pages)."""
        marker = f"[eventhub:{key}]"
        params: dict[str, Any] = {"type": "scheduled", "page_size": PAGE_SIZE}
        while True:
            page = self._call("GET", f"users/{host}/meetings", params=params).body
            for meeting in page.get("meetings", []):
                if marker in (meeting.get("agenda") or ""):
                    return meeting
            if not page.get("next_page_token"):
                return None
            params["next_page_token"] = page["next_page_token"]

    def _call(self, method: str, path: str, **kwargs: Any) -> ProviderResponse:
        """An API call with the account token (renewed once on 401)."""
        return self.token.request(method, path, **kwargs)

    def _fetch_token(self) -> ProviderResponse:
        """POST ``ZOOM_OAUTH_URL`` with ``grant_type=account_credentials`` and Basic auth."""
        return self.http.request(
            "POST",
            self.setting("ZOOM_OAUTH_URL"),
            params={"grant_type": "account_credentials",
                    "account_id": self.config["ZOOM_ACCOUNT_ID"]},
            auth=(self.config["ZOOM_CLIENT_ID"], self.config["ZOOM_CLIENT_SECRET"]),
        )


def _interpreter(interpreter: Interpreter) -> dict[str, str]:
    """Zoom's interpreter entry: the e-mail and the language pair as country ids."""
    pair = [INTERPRETATION_IDS.get(lang, lang.upper()) for lang in interpreter.languages]
    return {"email": interpreter.email, "languages": ",".join(pair)}


def _code(response: ProviderResponse) -> int | None:
    """Zoom's error ``code`` from an error body."""
    return response.body.get("code") if isinstance(response.body, dict) else None
