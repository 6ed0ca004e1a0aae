"""``flask --app wsgi eventhub ...``: each command a thin call into the services."""

from __future__ import annotations

import logging
import os
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from .. import gctune
from ..errors import DomainError
from ..extensions import db, socketio
from ..services import demo, provisioning, users
from .importing import import_programme_command
from .sandbox import sandbox as sandbox_command
from .worker import worker as worker_command

log = logging.getLogger(__name__)
group = AppGroup("eventhub", help="EventHub commands.")
group.add_command(import_programme_command)
group.add_command(worker_command)
group.add_command(sandbox_command)


def _fail(error: DomainError) -> None:
    fields = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
    raise click.ClickException(f"{error.message}" + (f" ({fields})" if fields else ""))


@group.command("init-db")
def init_db() -> None:
    """Create or migrate the database to the latest schema (idempotent)."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    # Personal tokens are derived under SECRET_KEY, which migrations don't know: digests of
    # rows migrated from stored tokens (or made under another key) are brought in line here.
    from ..services.access import refresh_token_digests

    if changed := refresh_token_digests():
        click.echo(f"{changed} personal links were renewed (send them again)")
    click.echo("database is at the latest schema")


@group.command("seed-demo")
@click.option("--start-date", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="First day of the conference (default: today in Europe/Moscow).")
@click.option("--if-empty", is_flag=True, help="Only seed a database without any event.")
def seed_demo(start_date, if_empty: bool) -> None:
    """Load the founding conference and print the demo accounts."""
    from sqlalchemy import select

    from ..models import Event

    if if_empty and db.session.scalar(select(Event.id).limit(1)) is not None:
        click.echo("the database has events already: demo not loaded")
        return
    day: date | None = start_date.date() if start_date else None
    deferred = bool(current_app.config["EVENTHUB_SANDBOX"])
    # The simulators run inside `serve`: rooms made now would point at the real providers.
    current_app.config["PROVISIONING_DEFERRED"] = deferred
    try:
        result = demo.seed_demo(day)
    except DomainError as error:
        _fail(error)
    finally:
        current_app.config["PROVISIONING_DEFERRED"] = False
    if result.created and deferred:
        click.echo("the demo's video rooms are made when `serve` starts the provider sandbox")
    elif result.created:
        click.echo("provisioning the demo's video rooms ...")
        provisioning.dispatcher().wait(60)  # `serve` takes up any left pending
    click.echo("demo conference loaded" if result.created else "demo conference already there")
    click.echo(f"  event id {result.event_id}, slug {demo.SLUG}")
    click.echo("demo accounts (e-mail / password / role):")
    for email, password, role in result.accounts:
        click.echo(f"  {email} / {password} / {role}")


@group.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["organizer", "moderator"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", default="")
def create_user(email: str, role: str, password: str, name: str) -> None:
    """Create an organizer or moderator account."""
    try:
        user = users.create_user(email, password, role, name)
    except DomainError as error:
        _fail(error)
    click.echo(f"created {user.role} {user.email} (id {user.id})")


@group.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Serve the web pages, the API and Socket.IO in one process (gevent, as production;
    EVENTHUB_ASYNC_MODE=threading for werkzeug's threaded server)."""
    from .gevent_serve import command, patched

    wanted = os.environ.get("EVENTHUB_ASYNC_MODE") or "gevent"
    if wanted == "gevent" and not patched():
        # gevent must patch the standard library before anything imports it: start afresh
        # (also when EVENTHUB_ASYNC_MODE=gevent made the config say gevent already). The same
        # environment (.env included) builds the app again in the new process.

        os.environ.pop("FLASK_RUN_FROM_CLI", None)
        argv = command(host, port)
        os.execv(argv[0], argv)  # noqa: S606 - this interpreter, our own fixed arguments
    run_server(current_app._get_current_object(), host, port)


def run_server(app: Flask, host: str, port: int) -> None:
    """What ``serve`` runs in either mode (inside the app's context): the sandbox when asked
    for, rooms left pending taken up, then the web and Socket.IO server."""
    if not os.environ.get("EVENTHUB_BASE_URL"):
        # Links (participants' links, feeds, the Socket.IO origin) point at the served port.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
        shown = f"[{shown}]" if ":" in shown else shown
        app.config["EVENTHUB_BASE_URL"] = f"http://{shown}:{port}"
    server = app.extensions.get("eventhub.sandbox")  # create_app started it
    if server is not None:
        click.echo(f"provider sandbox on {server.url} (EVENTHUB_SANDBOX=1)")
    recovered = provisioning.recover(take_over=True)
    if recovered:
        click.echo(f"taking up {recovered} video rooms left pending")
    if not app.extensions.get("eventhub.rq"):
        from ..services import mail_pump

        # Its first pass takes up the mails a stopped server left pending.
        mail_pump.start(app, take_over=True)
    click.echo(gctune.tune())  # start-up is done: what follows is serving
    click.echo(f"EventHub on http://{host}:{port}/ ({app.config['SOCKETIO_ASYNC_MODE']})")
    if app.config["SOCKETIO_ASYNC_MODE"] == "gevent":
        _serve_gevent(app, host, port)
        return
    # `flask` sets this so that app.run() inside a command is ignored; serving is our purpose.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    socketio.run(app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False,
                 log_output=False)


def _serve_gevent(app: Flask, host: str, port: int) -> None:
    """gevent's WSGI server (as ``socketio.run`` builds it) on a listener with TCP_NODELAY.

    pywsgi writes a response's headers and body in two sends; with Nagle's algorithm on, the
    body waits for the client's delayed ACK of the headers, 40 ms per keep-alive request.
    Accepted sockets inherit TCP_NODELAY from the listener (gunicorn sets it the same way).
    """
    import socket

    from gevent import pywsgi

    listener = socket.create_server((host, port), reuse_port=False, backlog=2048)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pywsgi.WSGIServer(listener, app, log=None).serve_forever()


def init_app(app: Flask) -> None:
    """Register the ``eventhub`` command group."""
    app.cli.add_command(group)
