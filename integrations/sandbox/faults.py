"""Fault injection for the simulators: scripted faults for the next N matching requests."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass
from enum import Enum

from werkzeug.wrappers import Request, Response


class FaultKind(Enum):
    """What a fault does to a request."""

    LATENCY = "latency"  # sleep, then let the simulator answer (the request takes effect)
    STATUS = "status"  # answer with this status instead (the request does not take effect)
    TIMEOUT = "timeout"  # sleep past the client's read timeout, then answer 504
    MALFORMED = "malformed"  # answer 200 with a truncated body
    RESET = "reset"  # drop the connection without an answer


@dataclass
class Fault:
    """One scripted fault, applied to the next ``times`` requests that match."""

    kind: FaultKind
    provider: str
    times: int = 1
    status: int = 503
    seconds: float = 0.0
    retry_after: str | None = None
    method: str = ""
    path: str = ""  # substring of the request path

    def matches(self, provider: str, request: Request) -> bool:
        """Whether this fault applies to ``request`` sent to ``provider``."""
        return (
            self.provider == provider
            and (not self.method or self.method == request.method)
            and self.path in request.path
        )


class FaultInjector:
    """A queue of faults per provider; the sandbox consults it before each simulator."""

    def __init__(self) -> None:
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        """Queue ``fault``; faults apply in the order queued."""
        with self._lock:
            self._faults.append(fault)
        return fault

    def latency(self, provider: str, seconds: float, *, times: int = 1, **match: str) -> Fault:
        """Delay the next ``times`` requests by ``seconds`` (they still take effect)."""
        return self.add(Fault(FaultKind.LATENCY, provider, times, seconds=seconds, **match))

    def status(
        self,
        provider: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | int | None = None,
        **match: str,
    ) -> Fault:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After``)."""
        after = None if retry_after is None else str(retry_after)
        return self.add(
            Fault(FaultKind.STATUS, provider, times, status=status, retry_after=after, **match)
        )

    def timeout(
        self, provider: str, seconds: float = 1.0, *, times: int = 1, **match: str
    ) -> Fault:
        """Hold the next ``times`` requests for ``seconds`` (past the client's timeout)."""
        return self.add(Fault(FaultKind.TIMEOUT, provider, times, seconds=seconds, **match))

    def malformed(self, provider: str, *, times: int = 1, **match: str) -> Fault:
        """Answer the next ``times`` requests with a truncated body."""
        return self.add(Fault(FaultKind.MALFORMED, provider, times, **match))

    def reset(self, provider: str, *, times: int = 1, **match: str) -> Fault:
        """Drop the connection of the next ``times`` requests without answering."""
        return self.add(Fault(FaultKind.RESET, provider, times, **match))

    def clear(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> int:
        """How many fault applications are still queued."""
        with self._lock:
            return sum(fault.times for fault in self._faults)

    def take(self, provider: str, request: Request) -> Fault | None:
        """The first queued fault matching ``request``, counting one application of it."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(provider, request):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None


def apply(fault: Fault, request: Request, content_type: str) -> Response | None:
    """Carry out ``fault``: a response to send instead, or None to let the simulator answer."""
    if fault.kind is FaultKind.LATENCY:
        time.sleep(fault.seconds)
        return None
    if fault.kind is FaultKind.TIMEOUT:
        time.sleep(fault.seconds)
        return Response("gateway timeout", status=504, content_type="text/plain")
    if fault.kind is FaultKind.STATUS:
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        return Response(
            '{"message": "injected fault"}',
            status=fault.status,
            headers=headers,
            content_type="application/json",
        )
    if fault.kind is FaultKind.MALFORMED:
        body = "<response><returncode>SUCC" if "xml" in content_type else '{"id": "trunc'
        return Response(body, status=200, content_type=content_type)
    # RESET: close the connection under the client at once with an RST (SO_LINGER 0), as a
    # crashing proxy does; werkzeug then treats the ConnectionResetError as a dropped
    # connection and writes nothing. Without closing it, the client would wait for its read
    # timeout, which is a timeout fault, not a reset.
    sock = request.environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError("injected connection reset")
