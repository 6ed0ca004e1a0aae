"""The provider sandbox for demos: ``flask eventhub sandbox`` and ``EVENTHUB_SANDBOX``.

``sandbox`` serves every provider simulator on 127.0.0.1 in the foreground and prints the
variables that point EventHub at it. :func:`configure_sandbox` (called by ``create_app``, so in
every process: ``serve``, gunicorn, ``worker``, CLI commands) applies ``EVENTHUB_SANDBOX``:
``1`` starts the simulators inside the process (:func:`start_sandbox_for`), so ``make run``
shows all six providers working with no network and no accounts; a URL points every provider
at the ``flask eventhub sandbox`` serving there, which all processes of a scale-out share.
"""

from __future__ import annotations

import logging

import click
from flask import Flask

from integrations.sandbox import Sandbox, env_for

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


def configure_sandbox(app: Flask) -> None:
    """Apply ``EVENTHUB_SANDBOX`` (unset: real providers; ``1``: simulators in this process;
    ``http://...``: the simulators of a ``flask eventhub sandbox`` there)."""
    value = app.config.get("EVENTHUB_SANDBOX")
    if isinstance(value, str):
        if value.lower().startswith(("http://", "https://")):
            app.config["PROVIDERS"] = {**(app.config.get("PROVIDERS") or {}), **env_for(value)}
            reset_clients(app)
            log.info("EVENTHUB_SANDBOX: every provider points at the sandbox on %s", value)
            return
        value = value.lower() in {"1", "true", "yes", "on"}
    if not value:
        return
    if app.config.get("REDIS_URL"):
        log.warning("EVENTHUB_SANDBOX=1 with REDIS_URL: each process has simulators of its own; "
                    "run `flask eventhub sandbox` and set EVENTHUB_SANDBOX to its URL instead")
    start_sandbox_for(app)
