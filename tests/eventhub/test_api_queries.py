"""The programme's list costs the same few queries whatever its length (no query per session);
a guarded route reads its object once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event as sa_event

from eventhub.extensions import db
from tests.conftest import at, bearer


def statements_of(request) -> list[str]:
    """The SQL statements a request (a callable) runs, each on one line."""
    statements: list[str] = []

    def counted(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    sa_event.listen(db.engine, "before_cursor_execute", counted)
    try:
        request()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", counted)
    return statements


def queries_for(client, path: str) -> int:
    return len(statements_of(lambda: _ok(client.get(path))))


def _ok(response) -> None:
    assert response.status_code == 200, response.data


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


def test_a_guarded_route_reads_its_session_once(client, create_event, create_session,
                                               create_user, api_token):
    """The guard's lookup serves the view too: before its writes, a status change reads the
    session's row once, not once in the guard and again in the view."""
    session_id = create_session(create_event(), status="live").id
    headers = bearer(api_token(create_user("organizer")))
    db.session.remove()  # nothing of the test's own holds the row in the identity map
    statements = statements_of(lambda: _ok(client.post(
        f"/api/v1/sessions/{session_id}/status", json={"status": "paused"},
        headers=headers)))
    first_write = next(i for i, s in enumerate(statements) if s.startswith("UPDATE"))
    reads = [s for s in statements[:first_write] if s.startswith("SELECT sessions.")]
    assert len(reads) == 1, statements[:first_write]


def test_what_a_guard_looked_up_is_not_held_past_its_request(ctx, client, create_event,
                                                            create_session, create_user,
                                                            api_token):
    """Requests made inside one app context (a test's, a CLI's) share its ``g``: rows a guard
    kept there would be served stale to the next request."""
    session_id = create_session(create_event(), status="live").id
    headers = bearer(api_token(create_user("organizer")))
    db.session.remove()
    path = f"/api/v1/sessions/{session_id}"
    _ok(client.post(f"{path}/status", json={"status": "paused"}, headers=headers))
    with db.engine.begin() as connection:  # a change made elsewhere, e.g. by a job
        connection.execute(db.text("UPDATE sessions SET status = 'live' WHERE id = :id"),
                           {"id": session_id})
    response = client.get(path, headers=headers)
    assert response.status_code == 200 and response.json["status"] == "live"
