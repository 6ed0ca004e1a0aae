"""Sending Zoom webhooks as Zoom signs them (``x-zm-signature`` over the raw body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time


def post_zoom_event(client, secret: str, body: dict):
    """POST ``body`` to the Zoom webhook, signed with ``secret`` and a fresh timestamp."""
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + raw,
                      hashlib.sha256).hexdigest()
    return client.post("/integrations/zoom/webhook", data=raw, headers={
        "x-zm-request-timestamp": stamp, "x-zm-signature": f"v0={digest}",
        "Content-Type": "application/json"})


def participant_event(event: str, meeting_id: str, *, user_id: str, name: str, when: str,
                      email: str = "") -> dict:
    """A ``meeting.participant_joined`` / ``_left`` delivery."""
    field = "join_time" if event.endswith("joined") else "leave_time"
    return {"event": f"meeting.participant_{event}", "event_ts": int(time.time() * 1000),
            "payload": {"account_id": "sandbox-account", "object": {
                "id": meeting_id, "uuid": "u-" + meeting_id,
                "participant": {"user_id": user_id, "user_name": name, "email": email,
                                field: when}}}}
