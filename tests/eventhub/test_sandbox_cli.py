"""The demo sandbox: ``flask eventhub sandbox`` serves the simulators and prints the
variables; ``start_sandbox_for(app)`` points a running app at an in-process sandbox."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from lifecycle_support import read_line, room_of, wait_jobs

from eventhub.cli.sandbox import start_sandbox_for
from eventhub.services import providers, switching

ROOT = Path(__file__).resolve().parents[2]


def test_sandbox_command_prints_env_and_serves():
    """The command prints ``export NAME=value`` lines whose URLs answer on 127.0.0.1."""
    proc = subprocess.Popen(
        [sys.executable, "-c",
         "from eventhub.cli.sandbox import sandbox; sandbox(['--port', '0'])"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        lines = []
        while len(lines) < 23:
            line = read_line(proc, 15)
            assert line, "sandbox exited early"
            lines.append(line.strip())
        env = dict(line.removeprefix("export ").split("=", 1) for line in lines
                   if line.startswith("export "))
        assert env["ZOOM_API_BASE"].startswith("http://127.0.0.1:")
        assert set(env) >= {"BBB_URL", "DAILY_API_KEY", "MSGRAPH_TOKEN_URL", "JITSI_BASE_URL"}
        answer = requests.get(env["DAILY_API_BASE"] + "/rooms/nothing", timeout=5)
        assert answer.status_code == 401  # the simulator checks the API key, as Daily does
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        proc.stdout.close()


def test_start_sandbox_for_points_the_app_at_it(app, ctx, create_user, create_event,
                                                create_session):
    """EVENTHUB_SANDBOX's helper: every provider configured, cached clients dropped."""
    assert providers.available_providers() == ["jitsi"]
    providers.provider("jitsi")  # a cached client from before the sandbox
    server = start_sandbox_for(app)
    try:
        assert "eventhub.providers" not in app.extensions
        assert providers.available_providers() == [
            "jitsi", "bigbluebutton", "zoom", "whereby", "daily", "teams"]
        organizer = create_user("organizer")
        event_session = create_session(create_event(default_provider="zoom"))
        switching.switch_session(event_session, "online", actor=organizer)
        wait_jobs()
        assert room_of(event_session).state == "ready"
        assert server.created("zoom") == 1
    finally:
        server.stop()
