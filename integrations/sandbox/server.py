"""Sandbox: every provider simulator in one threaded loopback server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from . import bigbluebutton, daily, jitsi, teams, whereby, zoom
from .faults import FaultInjector, apply
from .simulator import Received, SimRoom, Simulator

logger = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """Request handler that leaves request logging to the simulators' records."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing per request."""


class Sandbox:
    """All provider simulators on one 127.0.0.1 port, with fault controls and room counters.

    Prefixes: ``/jitsi/``, ``/bbb/bigbluebutton/``, ``/zoom/v2``, ``/zoom/oauth/token``,
    ``/whereby/v1``, ``/daily/v1``, ``/graph/v1.0``, ``/login/<tenant>/oauth2/v2.0/token``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self.faults = FaultInjector()
        self.simulators: dict[str, Simulator] = {
            sim.name: sim
            for sim in (
                jitsi.JitsiSimulator(),
                bigbluebutton.BigBlueButtonSimulator(),
                zoom.ZoomSimulator(),
                whereby.WherebySimulator(),
                daily.DailySimulator(),
                teams.TeamsSimulator(),
            )
        }
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:5050`` (the server must be started)."""
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return f"http://{self.host}:{self._server.server_port}"

    def env(self) -> dict[str, str]:
        """The configuration that points every provider at this sandbox."""
        return env_for(self.url)

    def start(self) -> Sandbox:
        """Serve in a daemon thread; returns self."""
        self._server = make_server(
            self.host, self.port, self, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="provider-sandbox", daemon=True
        )
        self._thread.start()
        logger.info("provider sandbox on %s", self.url)
        return self

    def serve_forever(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve in the calling thread until interrupted; ``on_ready`` runs once bound."""
        self._server = make_server(self.host, self.port, self, threaded=True)
        logger.info("provider sandbox on %s", self.url)
        if on_ready is not None:
            on_ready()
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def reset(self) -> None:
        """Forget rooms, counters, recorded requests, issued tokens and queued faults."""
        self.faults.clear()
        for sim in self.simulators.values():
            sim.reset()

    def rooms(self, provider: str) -> dict[str, SimRoom]:
        """The rooms a provider's simulator holds, by id."""
        return self.simulators[provider].rooms

    def created(self, provider: str) -> int:
        """How many rooms the provider's simulator has created since the last reset."""
        return self.simulators[provider].created

    def max_in_flight(self, provider: str, method: str = "", path: str = "") -> int:
        """The most requests (matching ``method``/``path``) the provider handled at once."""
        return self.simulators[provider].max_in_flight(method, path)

    def received(self, provider: str) -> list[Received]:
        """The requests the provider's simulator has received since the last reset."""
        return list(self.simulators[provider].received)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """WSGI entry: pick the simulator by path prefix, apply any fault, answer."""
        request = Request(environ)
        sim = next(
            (s for s in self.simulators.values() if request.path.startswith(s.prefixes)), None
        )
        if sim is None:
            return Response("no simulator here", status=404)(environ, start_response)
        fault = self.faults.take(sim.name, request)
        received = sim.record(request, fault.kind.value if fault else "")
        try:
            response = apply(fault, request, sim.content_type) if fault else None
            if response is None:
                response = sim.dispatch(request)
        finally:
            sim.answer(received)
        return response(environ, start_response)


def env_for(url: str) -> dict[str, str]:
    """The configuration that points every provider at a sandbox served on ``url``."""
    url = url.rstrip("/")
    return {
        "JITSI_BASE_URL": f"{url}/jitsi",
        "JITSI_APP_ID": jitsi.APP_ID,
        "JITSI_APP_SECRET": jitsi.APP_SECRET,
        "BBB_URL": f"{url}/bbb/bigbluebutton/",
        "BBB_SECRET": bigbluebutton.SECRET,
        "ZOOM_API_BASE": f"{url}/zoom/v2",
        "ZOOM_OAUTH_URL": f"{url}/zoom/oauth/token",
        "ZOOM_ACCOUNT_ID": zoom.ACCOUNT_ID,
        "ZOOM_CLIENT_ID": zoom.CLIENT_ID,
        "ZOOM_CLIENT_SECRET": zoom.CLIENT_SECRET,
        "ZOOM_WEBHOOK_SECRET": zoom.WEBHOOK_SECRET,
        "ZOOM_USER_ID": "me",
        # The sandbox account has several licensed users: parallel halls get a host each.
        "ZOOM_HOST_USERS": ",".join(zoom.HOST_USERS),
        "WHEREBY_API_BASE": f"{url}/whereby/v1",
        "WHEREBY_API_KEY": whereby.API_KEY,
        "DAILY_API_BASE": f"{url}/daily/v1",
        "DAILY_API_KEY": daily.API_KEY,
        "MSGRAPH_API_BASE": f"{url}/graph/v1.0",
        "MSGRAPH_TOKEN_URL": f"{url}/login/{teams.TENANT_ID}/oauth2/v2.0/token",
        "MSGRAPH_TENANT_ID": teams.TENANT_ID,
        "MSGRAPH_CLIENT_ID": teams.CLIENT_ID,
        "MSGRAPH_CLIENT_SECRET": teams.CLIENT_SECRET,
        "MSGRAPH_USER_ID": teams.USER_ID,
        "MSGRAPH_USER_IDS": ",".join(teams.HOST_USERS),
    }
