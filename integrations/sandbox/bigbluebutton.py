"""BigBlueButton simulator: checksum-checked API calls answering BBB's XML shapes."""

from __future__ import annotations

import hashlib
import hmac
import time
import xml.etree.ElementTree as ET  # noqa: S405 -- builds XML, parses none
from typing import ClassVar

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .simulator import Simulator, join_page

SECRET = "sandbox-bbb-shared-secret"  # noqa: S105 -- demo credential, not a secret
_ALGORITHMS = {40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}


def xml_response(returncode: str, **fields: object) -> Response:
    """``<response><returncode>..</returncode>...</response>``, always HTTP 200 like BBB."""
    root = ET.Element("response")
    ET.SubElement(root, "returncode").text = returncode
    for name, value in fields.items():
        ET.SubElement(root, name).text = str(value).lower() if isinstance(value, bool) else str(
            value
        )
    return Response(ET.tostring(root, encoding="unicode"), status=200,
                    content_type="text/xml;charset=utf-8")


def failed(key: str, message: str) -> Response:
    """A FAILED answer with BBB's messageKey and message."""
    return xml_response("FAILED", messageKey=key, message=message)


class BigBlueButtonSimulator(Simulator):
    """``/bbb/bigbluebutton/api/<call>``: create, join, end, isMeetingRunning, getMeetingInfo."""

    name: ClassVar[str] = "bigbluebutton"
    prefixes: ClassVar[tuple[str, ...]] = ("/bbb/",)
    content_type: ClassVar[str] = "text/xml;charset=utf-8"
    url_map: ClassVar[Map] = Map(
        [Rule("/bbb/bigbluebutton/api/<call>", methods=["GET", "POST"], endpoint="api")]
    )

    def error(self, status: int, message: str) -> Response:
        """BBB's unknown-call answer."""
        return failed("unsupportedRequest", message)

    def on_api(self, request: Request, call: str) -> Response:
        """Check the checksum over the raw query string, then run the call."""
        if not self.checksum_ok(call, request.query_string.decode("latin-1")):
            return failed("checksumError", "You did not pass the checksum security check")
        handler = getattr(self, f"call_{call}", None)
        if handler is None:
            return failed("unsupportedRequest", "This API call is not supported.")
        return handler(request, request.args)

    @staticmethod
    def checksum_ok(call: str, query: str) -> bool:
        """BBB's check: the query string as received, minus ``checksum``, hashed with the
        algorithm its length names."""
        params = query.split("&")
        checksum = next((p[9:] for p in params if p.startswith("checksum=")), "")
        rest = "&".join(p for p in params if not p.startswith("checksum="))
        algorithm = _ALGORITHMS.get(len(checksum))
        if algorithm is None:
            return False
        expected = hashlib.new(algorithm, f"{call}{rest}{SECRET}".encode()).hexdigest()
        return hmac.compare_digest(expected, checksum)

    def call_create(self, request: Request, args: dict) -> Response:
        """Create, or confirm with ``duplicateWarning`` when the passwords match."""
        meeting_id = args.get("meetingID")
        if not meeting_id:
            return failed("missingParamMeetingID", "You must specify a meeting ID.")
        room = self.rooms.get(meeting_id)
        if room is not None:
            same = (room.data["attendeePW"], room.data["moderatorPW"]) == (
                args.get("attendeePW"), args.get("moderatorPW"))
            if not same:
                return failed("idNotUnique", "A meeting already exists with that meeting ID. "
                              "Please use a different meeting ID.")
            return self._created(room.data, "duplicateWarning")
        data = {
            "meetingID": meeting_id,
            "name": args.get("name", meeting_id),
            "attendeePW": args.get("attendeePW", "ap"),
            "moderatorPW": args.get("moderatorPW", "mp"),
            "createTime": int(time.time() * 1000),
            "participants": 0,
        }
        self.new_room(meeting_id, data)
        return self._created(data)

    def _created(self, data: dict, key: str = "") -> Response:
        """The create answer."""
        extra = {"messageKey": key, "message": "This conference was already in existence "
                 "and may currently be in progress."} if key else {}
        return xml_response(
            "SUCCESS", meetingID=data["meetingID"], internalMeetingID=f"{data['meetingID']}-int",
            attendeePW=data["attendeePW"], moderatorPW=data["moderatorPW"],
            createTime=data["createTime"], hasBeenForciblyEnded=False, **extra,
        )

    def call_join(self, request: Request, args: dict) -> Response:
        """Join: ``role`` wins over the password (BBB 2.4+); real BBB redirects to its client."""
        room = self.rooms.get(args.get("meetingID", ""))
        if room is None:
            return failed("invalidMeetingIdentifier", "The meeting ID that you supplied did "
                          "not match any existing meetings")
        if not args.get("fullName"):
            return failed("missingParamFullName", "You must specify a name for the attendee")
        role = args.get("role", "").upper()
        if not role:
            password = args.get("password")
            role = {room.data["moderatorPW"]: "MODERATOR",
                    room.data["attendeePW"]: "VIEWER"}.get(password, "")
        if role not in ("MODERATOR", "VIEWER"):
            return failed("invalidPassword", "The password you submitted is not valid.")
        room.data["participants"] += 1
        return join_page(request, self.name, room.id, args["fullName"],
                         "host" if role == "MODERATOR" else "participant")

    def call_end(self, request: Request, args: dict) -> Response:
        """End (and forget) the meeting."""
        room = self.rooms.get(args.get("meetingID", ""))
        if room is None:
            return failed("notFound", "We could not find a meeting with that meeting ID - "
                          "perhaps the meeting is not yet running?")
        if args.get("password", room.data["moderatorPW"]) != room.data["moderatorPW"]:
            return failed("invalidPassword", "You must supply the moderator password for "
                          "this call.")
        del self.rooms[room.id]
        return xml_response("SUCCESS", messageKey="sentEndMeetingRequest",
                            message="A request to end the meeting was sent.")

    def call_isMeetingRunning(self, request: Request, args: dict) -> Response:
        """Running once someone joined."""
        room = self.rooms.get(args.get("meetingID", ""))
        return xml_response("SUCCESS", running=bool(room and room.data["participants"]))

    def call_getMeetingInfo(self, request: Request, args: dict) -> Response:
        """Meeting details, or notFound."""
        room = self.rooms.get(args.get("meetingID", ""))
        if room is None:
            return failed("notFound", "We could not find a meeting with that meeting ID")
        count = room.data["participants"]
        return xml_response(
            "SUCCESS", meetingName=room.data["name"], meetingID=room.id,
            createTime=room.data["createTime"], running=bool(count),
            participantCount=count, moderatorCount=0,
        )

