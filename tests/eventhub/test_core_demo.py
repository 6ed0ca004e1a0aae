"""seed-demo: a run that fails halfway leaves no half conference for the next run to skip."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.models import Event, Participant, Room, Session
from eventhub.services import demo
from eventhub.services import sessions as session_service


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_seed_interrupted_halfway_is_undone_and_the_next_run_completes(ctx, monkeypatch):
    """`make run` seeds with --if-empty: a half demo left behind would never be completed."""
    real, calls = session_service.create_session, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("interrupted")  # Ctrl-C, a full disk, a lost connection
        return real(*args, **kwargs)

    monkeypatch.setattr(session_service, "create_session", interrupted)
    with pytest.raises(RuntimeError):
        demo.seed_demo(date(2021, 6, 28))
    monkeypatch.undo()
    db.session.remove()
    assert (count(Event), count(Room), count(Session), count(Participant)) == (0, 0, 0, 0)

    result = demo.seed_demo(date(2021, 6, 28))
    assert result.created
    assert count(Session) == len(demo.PROGRAMME) and count(Room) == len(demo.HALLS)
