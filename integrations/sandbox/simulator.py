"""The base of every provider simulator: routing, recording, room counting, join pages."""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.wrappers import Request, Response


@dataclass(frozen=True)
class Received:
    """One request as the simulator received it (before any injected fault)."""

    method: str
    path: str
    query: dict[str, str]
    query_string: str
    headers: dict[str, str]
    body: bytes
    fault: str = ""
    #: ``time.time()`` when the request arrived (before any injected latency).
    at: float = 0.0
    #: Sequence number of the request at its simulator (to pair it with its answer time).
    seq: int = 0

    def json(self) -> Any:
        """The request body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class SimRoom:
    """A room as a simulator keeps it: its id and the provider's representation."""

    id: str
    data: dict[str, Any] = field(default_factory=dict)


class Simulator:
    """A WSGI-style handler for one provider's protocol under a path prefix.

    Subclasses declare ``name`` (the provider name), ``prefixes`` (the paths they serve) and
    ``url_map`` (werkzeug rules whose endpoints name ``on_<endpoint>`` methods).
    """

    name: ClassVar[str]
    prefixes: ClassVar[tuple[str, ...]]
    url_map: ClassVar[Map]
    content_type: ClassVar[str] = "application/json"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.rooms: dict[str, SimRoom] = {}
        self.created = 0
        self.received: list[Received] = []
        #: ``time.time()`` when each request's answer was ready, by ``Received.seq``.
        self.answered: dict[int, float] = {}

    def reset(self) -> None:
        """Forget every room, counter and recorded request."""
        with self.lock:
            self.rooms.clear()
            self.created = 0
            self.received.clear()
            self.answered.clear()

    def record(self, request: Request, fault: str = "") -> Received:
        """Keep ``request`` for tests to inspect; returns the record."""
        with self.lock:
            self.received.append(
                received := Received(
                    method=request.method,
                    path=request.path,
                    query=request.args.to_dict(),
                    query_string=request.query_string.decode("latin-1"),
                    headers=dict(request.headers),
                    body=request.get_data(),
                    fault=fault,
                    at=time.time(),
                    seq=len(self.received) + 1,
                )
            )
            return received

    def answer(self, received: Received) -> None:
        """Note when the answer to ``received`` was ready (request intervals for tests)."""
        with self.lock:
            self.answered[received.seq] = time.time()

    def intervals(self, method: str = "", path: str = "") -> list[tuple[float, float]]:
        """(arrival, answer) times of the answered requests matching ``method`` and ``path``."""
        with self.lock:
            return [
                (r.at, self.answered[r.seq])
                for r in self.received
                if r.seq in self.answered and (not method or r.method == method)
                and path in r.path
            ]

    def max_in_flight(self, method: str = "", path: str = "") -> int:
        """The most matching requests this simulator was handling at one instant."""
        edges = sorted(
            edge
            for start, end in self.intervals(method, path)
            for edge in ((start, 1), (end, -1))
        )  # an answer at the very instant another arrives sorts first: not an overlap
        most = current = 0
        for _moment, step in edges:
            current += step
            most = max(most, current)
        return most

    def dispatch(self, request: Request) -> Response:
        """Route ``request`` to its ``on_<endpoint>`` method."""
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
            with self.lock:
                return getattr(self, f"on_{endpoint}")(request, **values)
        except HTTPException as exc:
            return self.error(exc.code or 500, exc.name)

    def error(self, status: int, message: str) -> Response:
        """The provider's error shape; subclasses override."""
        return json_response({"message": message}, status)

    def new_room(self, room_id: str, data: dict[str, Any]) -> SimRoom:
        """Store and count a new room."""
        room = SimRoom(room_id, data)
        self.rooms[room_id] = room
        self.created += 1
        return room


def json_response(body: Any, status: int = 200) -> Response:
    """A JSON response."""
    return Response(json.dumps(body), status=status, content_type="application/json")


def new_id(nbytes: int = 12) -> str:
    """A random url-safe identifier."""
    return secrets.token_urlsafe(nbytes)


def bearer(request: Request) -> str:
    """The bearer token of ``request``, or ``""``."""
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def join_page(
    request: Request, provider: str, room: str, name: str, role: str, status: int = 200
) -> Response:
    """The simulator's meeting page: who joins which room in which role.

    JSON for tests (``Accept: application/json``), a small HTML page for people trying the
    sandbox in a browser.
    """
    info = {"provider": provider, "room": room, "name": name, "role": role}
    if request.accept_mimetypes.best == "application/json":
        return json_response(info, status)
    page = (
        "<!doctype html><meta charset=utf-8><title>Sandbox meeting</title>"
        f"<h1>{html.escape(provider)} sandbox: {html.escape(room)}</h1>"
        f"<p data-role='{html.escape(role)}'>{html.escape(name or 'Someone')} joins as "
        f"{html.escape(role)}.</p>"
    )
    return Response(page, status=status, content_type="text/html; charset=utf-8")
