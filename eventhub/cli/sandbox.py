"""The provider sandbox for demos: ``flask eventhub sandbox`` and ``EVENTHUB_SANDBOX=1``.

``sandbox`` serves every provider simulator on 127.0.0.1 in the foreground and prints the
variables that point EventHub at it. :func:`start_sandbox_for` starts one inside the web
process, so ``make run`` shows all six providers working with no network and no accounts.
"""

from __future__ import annotations

import logging

import click
from flask import Flask

from integrations.sandbox import Sandbox

from ..services.providers import reset_clients

log = logging.getLogger(__name__)


@click.command("sandbox")
@click.option("--port", default=5050, show_default=True, type=int,
              help="Port on 127.0.0.1 (0 picks a free one).")
def sandbox(port: int) -> None:
    """Serve the video-provider simulators on 127.0.0.1 and print the variables to export."""
    server = Sandbox("127.0.0.1", port)

    def ready() -> None:
        click.echo("# provider sandbox: export these (or put them in .env) and restart EventHub")
        for name, value in server.env().items():
            click.echo(f"export {name}={value}")
        click.echo(f"# serving on {server.url}; Ctrl-C stops", err=True)

    try:
        server.serve_forever(on_ready=ready)
    except KeyboardInterrupt:
        click.echo("sandbox stopped", err=True)


def start_sandbox_for(app: Flask) -> Sandbox:
    """Start a sandbox in this process on a free 127.0.0.1 port and point ``app`` at it.

    The sandbox's variables are merged into ``app.config["PROVIDERS"]`` (they win over any
    real credentials: a demo must never reach a real provider) and the cached provider
    clients are dropped so the next call uses them. Returns the running sandbox.
    """
    server = Sandbox("127.0.0.1", 0).start()
    app.config["PROVIDERS"] = {**(app.config.get("PROVIDERS") or {}), **server.env()}
    reset_clients(app)
    app.extensions["eventhub.sandbox"] = server
    log.info("EVENTHUB_SANDBOX: every provider points at the sandbox on %s", server.url)
    return server
