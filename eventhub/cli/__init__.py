"""``flask --app wsgi eventhub ...``: each command a thin call into the services."""

from __future__ import annotations

import logging
import os
from datetime import date

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_migrate import upgrade

from ..errors import DomainError
from ..extensions import db, socketio
from ..services import demo, provisioning, users
from .importing import import_programme_command
from .sandbox import sandbox as sandbox_command
from .sandbox import start_sandbox_for
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
    try:
        result = demo.seed_demo(day)
    except DomainError as error:
        _fail(error)
    if result.created:
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
    """Serve the web pages, the API and Socket.IO in one process."""
    if current_app.config["EVENTHUB_SANDBOX"]:
        # Before recover(), so that rooms left pending go to the simulators too.
        server = start_sandbox_for(current_app._get_current_object())
        click.echo(f"provider sandbox on {server.url} (EVENTHUB_SANDBOX=1)")
    recovered = provisioning.recover(take_over=True)
    if recovered:
        click.echo(f"taking up {recovered} video rooms left pending")
    click.echo(f"EventHub on http://{host}:{port}/")
    # `flask` sets this so that app.run() inside a command is ignored; serving is our purpose.
    os.environ.pop("FLASK_RUN_FROM_CLI", None)
    socketio.run(current_app._get_current_object(), host=host, port=port,
                 allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


def init_app(app: Flask) -> None:
    """Register the ``eventhub`` command group."""
    app.cli.add_command(group)
