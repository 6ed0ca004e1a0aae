"""``flask eventhub worker``: run background jobs from the RQ queue (scale-out mode).

With ``REDIS_URL`` set, provisioning jobs go to the RQ queue instead of the web process's
thread pool (:func:`eventhub.services.jobs.init_app`). A worker runs them one at a
time, inside this app's context; run several workers for several provider calls in flight.
"""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@with_appcontext
def worker(burst: bool) -> None:
    """Process background jobs (provider calls, mail) from the RQ queue on REDIS_URL."""
    queue = current_app.extensions.get("eventhub.rq")
    if queue is None:
        raise click.ClickException(
            "REDIS_URL is not set: jobs run in the web process's thread pool, no worker needed"
        )
    from rq import SimpleWorker

    from ..services import provisioning

    # Rooms whose worker died (lease expired) are queued again; live leases are left alone.
    recovered = provisioning.recover()
    if recovered:
        click.echo(f"queued {recovered} video rooms left pending")
    # Mail: one scan now (pending mails, closed bursts, open join windows) and, while the
    # worker runs, the periodic pump that feeds the queue.
    from ..services import mail, mail_pump

    scanned = mail.scan()
    if any(scanned.values()):
        click.echo(f"queued mail: {scanned['retried']} pending, {scanned['composed']} "
                   f"change notices, {scanned['joins']} join links")
    if not burst:
        mail_pump.start(current_app._get_current_object())

    # SimpleWorker runs each job in this process, inside the app context the CLI pushed (a
    # forking worker would share the parent's database connections with its children).
    # Each job removes its database session when done (jobs.run_job).
    rq_worker = SimpleWorker([queue], connection=queue.connection)
    click.echo(f"worker on queue {queue.name!r}" + (" (burst)" if burst else ""))
    rq_worker.work(burst=burst, logging_level="WARNING")
