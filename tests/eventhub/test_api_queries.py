"""The programme's list costs the same few queries whatever its length (no query per session)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event as sa_event

from eventhub.extensions import db
from tests.conftest import at


def queries_for(client, path: str) -> int:
    count = 0

    def counted(*_args, **_kwargs):
        nonlocal count
        count += 1

    sa_event.listen(db.engine, "before_cursor_execute", counted)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", counted)
    return count


def test_listing_sessions_does_not_query_per_session(client, create_event, create_room,
                                                     create_session, create_user,
                                                     create_participant):
    event = create_event()
    hall = create_room(event)
    moderator = create_user("moderator")
    speaker = create_participant(event)
    for i in range(3):
        create_session(event, room=hall, start=at(9) + timedelta(hours=i), minutes=30,
                       moderators=[moderator], speakers=[speaker])
    few = queries_for(client, f"/api/v1/events/{event.id}/sessions")
    for i in range(3, 30):
        create_session(event, room=hall, start=at(9) + timedelta(hours=i), minutes=30,
                       moderators=[moderator], speakers=[speaker])
    many = queries_for(client, f"/api/v1/events/{event.id}/sessions")
    assert many == few
