"""``flask eventhub serve`` on gevent: the production stack in one process.

The ``flask`` command has imported threading, ssl and the rest before any command runs, too late
for gevent's monkey-patching (and so would ``python -m`` of a module inside the package, which
imports the package first). So ``serve`` re-executes the interpreter with :data:`BOOTSTRAP`,
which patches the standard library before anything else is imported, then calls :func:`main`.
WebSockets go through simple-websocket under gevent's WSGI server, as they do under
``gunicorn -k gevent`` in production.
"""

from __future__ import annotations

import argparse
import resource
import sys

#: ``python -c BOOTSTRAP --host H --port P``: patch first, then import EventHub.
BOOTSTRAP = ("from gevent import monkey; monkey.patch_all(); "
             "from eventhub.cli.gevent_serve import main; main()")


def raise_file_limit() -> tuple[int, int]:
    """Raise the soft limit of open files to the hard limit (each connection is one file):
    5,000 browsers need more than the usual 1,024. Returns (soft, hard) as they now stand."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):  # not allowed here: serve with what there is
            pass
    return soft, hard


def patched() -> bool:
    """True once gevent has patched this process (``serve``'s re-executed one, gunicorn's)."""
    if "gevent" not in sys.modules:
        return False
    from gevent import monkey

    return monkey.is_module_patched("socket")


def command(host: str, port: int) -> list[str]:
    """The command line that serves on gevent."""
    return [sys.executable, "-c", BOOTSTRAP, "--host", host, "--port", str(port)]


def main(argv: list[str] | None = None) -> None:
    """Build the app in gevent mode and serve it (the process must be patched already)."""
    from gevent import monkey

    if not monkey.is_module_patched("socket"):
        raise SystemExit("run through eventhub.cli.gevent_serve.command(): gevent must patch "
                         "the standard library before EventHub is imported")
    parser = argparse.ArgumentParser(prog="eventhub serve (gevent)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    soft, _hard = raise_file_limit()

    from eventhub import create_app
    from eventhub.cli import run_server

    app = create_app()  # gevent: Config sees the patched process
    with app.app_context():
        print(f"gevent server, up to {soft} open files", flush=True)
        run_server(app, args.host, args.port)
