"""Jitsi Meet: room URLs need no API account; JWT rooms when an app id and secret are set.

Docs: https://jitsi.github.io/handbook/docs/devops-guide/secure-domain/ (token auth),
https://github.com/jitsi/lib-jitsi-meet/blob/master/doc/tokens.md (JWT claims).
"""

from __future__ import annotations

import json
from typing import Any, ClassVar
from urllib.parse import quote, urlsplit

import jwt

from .base import JoinRequest, Room, RoomRequest, VideoProvider, key_slug

#: Lifetime of a join token. Prosody checks it on every (re)connection, so it must outlast
#: the longest session plus the join window, not just the redirect.
TOKEN_TTL_SECONDS = 12 * 3600
#: Tolerated clock skew between EventHub and the Jitsi server.
CLOCK_SKEW_SECONDS = 60


class JitsiProvider(VideoProvider):
    """Jitsi Meet rooms named after the session key; optional HS256 JWT per join."""

    name: ClassVar[str] = "jitsi"
    label: ClassVar[str] = "Jitsi Meet"
    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = (
        "JITSI_APP_ID",
        "JITSI_APP_SECRET",
        "JITSI_MODERATOR_AFFILIATION",
    )
    secrets: ClassVar[tuple[str, ...]] = ("JITSI_APP_SECRET",)
    base_urls: ClassVar[dict[str, str]] = {"JITSI_BASE_URL": "https://meet.jit.si"}

    @property
    def uses_jwt(self) -> bool:
        """Whether joins carry a signed token (app id and secret configured)."""
        return bool(self.config.get("JITSI_APP_ID") and self.config.get("JITSI_APP_SECRET"))

    def create_room(self, req: RoomRequest) -> Room:
        """The room for ``req.key``: a deterministic name, so creating twice gives the same."""
        slug = key_slug(req.key)
        url = f"{self.setting('JITSI_BASE_URL').rstrip('/')}/{slug}"
        return Room(provider=self.name, external_id=slug, data={"url": url, "title": req.title})

    def update_room(self, room: Room, req: RoomRequest) -> Room:
        """Jitsi rooms have no schedule: only the stored title changes."""
        return Room(room.provider, room.external_id, {**room.data, "title": req.title},
                    room.host_data)

    def delete_room(self, room: Room) -> None:
        """Nothing to delete: a Jitsi room exists only while people are in it."""

    def join_url(self, room: Room, join: JoinRequest) -> str:
        """The room URL with the participant's name (in the token, or the URL fragment)."""
        return self._url(room, join, moderator=False)

    def host_url(self, room: Room, join: JoinRequest) -> str:
        """The room URL with a moderator token (JWT rooms); else the plain room URL."""
        return self._url(room, join, moderator=True)

    def host_rights_by_url(self) -> bool:
        """Only JWT rooms can grant moderation through the URL."""
        return self.uses_jwt

    def token(self, room: Room, join: JoinRequest, *, moderator: bool) -> str:
        """An HS256 token for ``join`` in ``room`` (Prosody ``token`` auth, shared secret)."""
        now = int(self.clock())
        affiliation = (
            (self.config.get("JITSI_MODERATOR_AFFILIATION") or "owner") if moderator else "member"
        )
        user: dict[str, Any] = {
            "id": join.user_id,
            "name": join.display_name,
            "email": join.email,
            "moderator": moderator,
            # token_affiliation-style Prosody modules read the affiliation claim.
            "affiliation": affiliation,
        }
        claims = {
            "aud": "jitsi",
            "iss": self.config["JITSI_APP_ID"],
            # sub is the XMPP domain the token is valid for; the server host by default.
            "sub": urlsplit(self.setting("JITSI_BASE_URL")).hostname or "*",
            "room": room.external_id,
            "nbf": now - CLOCK_SKEW_SECONDS,
            "exp": now + TOKEN_TTL_SECONDS,
            "context": {"user": user},
        }
        return jwt.encode(claims, self.config["JITSI_APP_SECRET"], algorithm="HS256")

    def _url(self, room: Room, join: JoinRequest, *, moderator: bool) -> str:
        """The room URL for ``join``."""
        url = room.data["url"]
        if self.uses_jwt:
            return f"{url}?jwt={self.token(room, join, moderator=moderator)}"
        # Jitsi reads config overrides from the fragment, values JSON-encoded:
        # https://jitsi.github.io/handbook/docs/user-guide/user-guide-advanced/ (URL params)
        return f'{url}#userInfo.displayName={quote(json.dumps(join.display_name))}'
