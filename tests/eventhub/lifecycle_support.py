"""Helpers for the provider lifecycle tests: sandbox settings, an online-ready event, waiting.

A test module points the app at the sandbox by overriding ``app_config``::

    @pytest.fixture
    def app_config(app_config, sandbox):
        return {**app_config, **sandbox_settings(sandbox)}
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
from datetime import timedelta
from typing import Any

from eventhub.extensions import db
from eventhub.models import VideoRoom
from eventhub.services import provisioning
from integrations.registry import PROVIDERS
from integrations.sandbox import Sandbox
from tests.conftest import at

#: Provider calls in these tests give up quickly: a timeout fault need not wait 15 s.
TEST_PROVIDER_TIMEOUT = (2.0, 3.0)
#: Providers whose simulators keep rooms (Jitsi rooms exist only as URLs).
API_PROVIDERS = ("bigbluebutton", "zoom", "whereby", "daily", "teams")


def sandbox_settings(sandbox: Sandbox, **overrides: Any) -> dict[str, Any]:
    """App settings that point every provider at ``sandbox``, with quick retries."""
    return {
        "PROVIDERS": sandbox.env(),
        "PROVIDER_TIMEOUT": TEST_PROVIDER_TIMEOUT,
        "PROVISIONING_BACKOFF": 0.01,
        "PROVISIONING_ATTEMPTS": 3,
        **overrides,
    }


def secret_values(sandbox: Sandbox) -> list[str]:
    """Every secret value in the sandbox configuration (what must never be shown)."""
    env = sandbox.env()
    names = {name for cls in PROVIDERS.values() for name in cls.secrets}
    return sorted(env[name] for name in names if env.get(name))


def make_sessions(create_session, event, count: int, **kwargs: Any) -> list:
    """``count`` sessions of ``event``, one after another on its first day."""
    return [create_session(event, start=at(9) + timedelta(minutes=20 * i), minutes=15, **kwargs)
            for i in range(count)]


def wait_jobs(timeout: float = 30.0) -> None:
    """Wait for every background job, then read the database afresh."""
    assert provisioning.dispatcher().wait(timeout), "background jobs still running"
    db.session.expire_all()


def room_of(event_session) -> VideoRoom:
    """The session's video room as the database has it now."""
    db.session.expire_all()
    room = db.session.get(type(event_session), event_session.id).video_room
    assert room is not None
    return room


def creates(sandbox: Sandbox, provider: str) -> list:
    """The room-creating requests the provider's simulator received."""
    where = {"bigbluebutton": ("GET", "/create"), "zoom": ("POST", "/meetings"),
             "whereby": ("POST", "/meetings"), "daily": ("POST", "/rooms"),
             "teams": ("POST", "/createOrGet")}[provider]
    return [r for r in sandbox.received(provider)
            if r.method == where[0] and r.path.endswith(where[1])]


def read_line(process: subprocess.Popen, timeout: float = 30.0) -> str:
    """The next line the process prints, failing (not hanging) if none comes in time.

    A reader thread per process feeds a queue: ``select`` on the pipe would miss lines that
    an earlier ``readline`` already pulled into Python's buffer.
    """
    lines = _readers.get(process.pid)
    if lines is None:
        lines = _readers[process.pid] = queue.Queue()

        def pump() -> None:
            """Copy the process's output lines into the queue until it ends."""
            with contextlib.suppress(ValueError, OSError):  # the test closed the pipe
                for line in process.stdout:
                    lines.put(line)
            lines.put("")

        threading.Thread(target=pump, daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"no output from the subprocess within {timeout}s") from None


_readers: dict[int, queue.Queue] = {}
