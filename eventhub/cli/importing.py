"""``flask eventhub import-programme FILE --event SLUG``: a thin call into services.importing."""

from __future__ import annotations

from typing import BinaryIO

import click
from flask.cli import with_appcontext

from ..errors import DomainError, NotFound
from ..services import importing
from ..services.events import find_event_by_slug


def _fail(error: DomainError) -> None:
    """Exit non-zero with the error's message and fields."""
    fields = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
    raise click.ClickException(error.message + (f" ({fields})" if fields else ""))


@click.command("import-programme")
@with_appcontext
@click.argument("file", type=click.File("rb"))
@click.option("--event", "slug", required=True, help="Slug of the event to import into.")
@click.option("--as", "email", default=None,
              help="E-mail of the organizer to import as (default: the first organizer).")
@click.option("--lang", "language", type=click.Choice(["ru", "de", "en"]), default="en",
              show_default=True, help="Language of the file's titles and descriptions.")
def import_programme_command(file: BinaryIO, slug: str, email: str | None,
                             language: str) -> None:
    """Create or update an event's sessions from an iCalendar (.ics) file."""
    try:
        data = file.read()
    except OSError as exc:
        raise click.ClickException(f"cannot read {file.name}: {exc.strerror or exc}") from exc
    try:
        event = find_event_by_slug(slug)
        if event is None:
            raise NotFound(f"no event with slug {slug!r}")
        actor = importing.default_importer(email)
        report = importing.import_programme(actor, event, data, language)
    except DomainError as error:
        _fail(error)
    for name in ("created", "updated", "unchanged"):
        ids = getattr(report, name)
        click.echo(f"{name}: {len(ids)}" + (f" ({', '.join(map(str, ids))})" if ids else ""))
    click.echo(f"rejected: {len(report.rejected)}")
    for uid, reason in report.rejected:
        click.echo(f"  {uid}: {reason}")
    if report.rooms_created:
        click.echo(f"halls created: {', '.join(report.rooms_created)}")
    for uid, note in report.notes:
        click.echo(f"note: {uid}: {note}")
