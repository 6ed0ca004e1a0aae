"""Helpers for the mail tests: wait for a condition, run the mail scan, read the outbox."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import select

from eventhub.extensions import db
from eventhub.models import OutboxMail
from eventhub.services import jobs, mail


def wait_for(predicate: Callable[[], bool], timeout: float = 15.0, what: str = "condition",
             interval: float = 0.02) -> None:
    """Poll ``predicate`` until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout} s")


def settle(timeout: float = 30.0) -> None:
    """Wait until the job runner has nothing left to do."""
    assert jobs.dispatcher().wait(timeout)
    db.session.expire_all()


def scan_and_settle(**kwargs) -> dict[str, int]:
    """One mail scan (bursts, join windows, retries), then wait for the sends it queued."""
    result = mail.scan(**kwargs)
    settle()
    return result


def outbox(kind: str | None = None) -> list[OutboxMail]:
    """Every outbox row (of ``kind``), oldest first."""
    db.session.expire_all()
    query = select(OutboxMail).order_by(OutboxMail.id)
    if kind:
        query = query.where(OutboxMail.kind == kind)
    return list(db.session.scalars(query))


def states() -> dict[str, int]:
    """How many rows are in each state."""
    counts: dict[str, int] = {}
    for row in outbox():
        counts[row.state] = counts.get(row.state, 0) + 1
    return counts
