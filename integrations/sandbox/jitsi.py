"""Jitsi Meet simulator: a meeting page per room that checks the JWT like Prosody would."""

from __future__ import annotations

from typing import ClassVar

import jwt
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .simulator import Simulator, join_page

APP_ID = "eventhub-sandbox"
APP_SECRET = "sandbox-jitsi-app-secret-for-hs256-tokens"  # noqa: S105 -- demo credential, not a secret


class JitsiSimulator(Simulator):
    """``GET /jitsi/<room>[?jwt=...]``: rooms come into being when someone first arrives."""

    name: ClassVar[str] = "jitsi"
    prefixes: ClassVar[tuple[str, ...]] = ("/jitsi/",)
    url_map: ClassVar[Map] = Map([Rule("/jitsi/<room>", methods=["GET"], endpoint="page")])

    def on_page(self, request: Request, room: str) -> Response:
        """The meeting page: role and name from the token, guest without one."""
        if room not in self.rooms:
            self.new_room(room, {"room": room})
        token = request.args.get("jwt")
        if not token:
            return join_page(request, self.name, room, "", "participant")
        try:
            claims = jwt.decode(
                token, APP_SECRET, algorithms=["HS256"], audience="jitsi", issuer=APP_ID,
                options={"require": ["exp", "room", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            return join_page(request, self.name, room, "", f"rejected: {exc}", status=403)
        if claims["room"] not in (room, "*"):
            return join_page(request, self.name, room, "", "rejected: wrong room", status=403)
        user = claims.get("context", {}).get("user", {})
        role = "host" if user.get("moderator") is True else "participant"
        return join_page(request, self.name, room, user.get("name", ""), role)
