"""``POST /integrations/<provider>/webhook``: what providers tell us about their meetings.

CSRF-exempt (providers sign their requests instead). Each provider's handler checks its own
signature over the raw body and maps its events onto
:func:`eventhub.services.provider_events.apply_provider_event`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, jsonify, request

from integrations.zoom import url_validation_response, verify_webhook

from .api import body_bytes
from .services.attendance import record_meeting_presence
from .services.provider_events import apply_provider_event, find_room
from .services.providers import provider_config

log = logging.getLogger(__name__)

bp = Blueprint("webhooks", __name__, url_prefix="/integrations")

# Zoom's meeting events -> provider-neutral ones
# (https://developers.zoom.us/docs/api/meetings/events/#tag/meeting).
ZOOM_EVENTS = {"meeting.started": "started", "meeting.ended": "ended"}
# Who came and went (https://developers.zoom.us/docs/api/meetings/events/#tag/meeting/POST/
# meeting.participant_joined): -> the payload time field that says when.
ZOOM_PRESENCE = {"meeting.participant_joined": "join_time",
                 "meeting.participant_left": "leave_time"}


def _json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or 400."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # nested deeper than the parser goes: not for us
        abort(400, description="the body is not JSON")
    if not isinstance(body, dict):
        abort(400, description="the body is not a JSON object")
    return body


def zoom_webhook():
    """Zoom: verify ``x-zm-signature`` over the raw body, answer the URL validation
    challenge, and drive the session status from ``meeting.started`` / ``meeting.ended``.

    https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events
    """
    secret = provider_config().get("ZOOM_WEBHOOK_SECRET")
    if not secret:
        abort(404, description="zoom webhooks are not configured")
    # The signature covers the bytes as sent: never re-serialize parsed JSON to check it.
    raw = body_bytes()  # 413 for a (chunked) body over the limit, before the signature
    if not verify_webhook(secret, raw, request.headers.get("x-zm-request-timestamp", ""),
                          request.headers.get("x-zm-signature", ""), time.time()):
        log.warning("zoom webhook refused: bad signature or timestamp")
        abort(401, description="invalid signature or timestamp")
    body = _json_object(raw)
    event = body.get("event")
    payload = body.get("payload") if isinstance(body.get("payload"), dict) else {}
    if event == "endpoint.url_validation":
        plain = payload.get("plainToken")
        if not isinstance(plain, str) or not plain:
            abort(400, description="plainToken missing")
        return jsonify(url_validation_response(secret, plain))
    if event in ZOOM_EVENTS:
        meeting = payload.get("object") if isinstance(payload.get("object"), dict) else {}
        meeting_id = meeting.get("id")
        if meeting_id in (None, ""):
            abort(400, description="payload.object.id missing")
        changed = apply_provider_event("zoom", str(meeting_id), ZOOM_EVENTS[event],
                                       delivery=hashlib.sha256(raw).hexdigest())
        # 200 also for meetings we don't know: Zoom retries anything else.
        return jsonify({"status": "applied" if changed else "ignored"})
    if event in ZOOM_PRESENCE:
        return jsonify({"status": _zoom_presence(payload, ZOOM_PRESENCE[event])})
    return jsonify({"status": "ignored"})


def _zoom_presence(payload: dict[str, Any], time_field: str) -> str:
    """Record a participant joining or leaving a Zoom meeting; "applied" or "ignored"."""
    meeting = payload.get("object") if isinstance(payload.get("object"), dict) else {}
    person = meeting.get("participant") if isinstance(meeting.get("participant"), dict) else {}
    meeting_id, when = meeting.get("id"), _zoom_instant(person.get(time_field))
    key = person.get("participant_uuid") or person.get("user_id") or person.get("id")
    if meeting_id in (None, "") or when is None or not isinstance(key, str | int):
        abort(400, description=f"payload.object.id, participant.{time_field} and "
                               "participant.user_id are required")
    room = find_room("zoom", str(meeting_id))
    if room is None:
        return "ignored"  # 200 all the same: Zoom retries anything else
    name, email = person.get("user_name"), person.get("email")
    changed = record_meeting_presence(
        room, key=str(key)[:255], name=name if isinstance(name, str) else "",
        email=email if isinstance(email, str) else "",
        **({"joined_at": when} if time_field == "join_time" else {"left_at": when}))
    return "applied" if changed else "ignored"


def _zoom_instant(value: Any) -> datetime | None:
    """Zoom's ``2027-06-28T09:01:02Z`` as an aware datetime, or None."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


#: Providers with a webhook, by name.
HANDLERS: dict[str, Callable[[], Any]] = {"zoom": zoom_webhook}


@bp.post("/<provider>/webhook")
def receive(provider: str):
    """Dispatch to the provider's handler; 404 for providers without webhooks."""
    handler = HANDLERS.get(provider)
    if handler is None:
        abort(404, description=f"no webhook for provider {provider!r}")
    return handler()
