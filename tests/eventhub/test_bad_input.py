"""Bad input gets a clear 4xx in DESIGN.md's error shape, and changes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from eventhub.extensions import db
from tests.conftest import at, bearer

TABLES = ("events", "rooms", "sessions", "participants", "agenda_items", "video_rooms",
          "session_moderators", "session_speakers", "users")


def snapshot() -> dict[str, list]:
    """Every row of every table: equal snapshots mean the request changed nothing."""
    db.session.remove()
    return {t: [tuple(r) for r in db.session.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]  # noqa: S608
            for t in TABLES}


@pytest.fixture
def setup(create_user, create_event, create_room, create_session, api_token):
    organizer = create_user("organizer")
    event = create_event()
    hall = create_room(event)
    event_session = create_session(event, hall)
    return bearer(api_token(organizer)), event.id, event_session.id, hall.id


def send(client, method, path, headers, **kwargs):
    return client.open("/api/v1" + path, method=method, headers=headers, **kwargs)


BAD = [
    # (what, method, path, kwargs, status, field expected in "fields")
    ("malformed JSON", "POST", "/events/{e}/sessions",
     {"data": b'{"title": ', "content_type": "application/json"}, 400, None),
    ("JSON array", "POST", "/events/{e}/sessions", {"json": [1, 2]}, 400, None),
    ("empty body", "POST", "/events/{e}/rooms", {"data": b""}, 400, None),
    ("unknown field", "POST", "/events/{e}/rooms", {"json": {"name": "B", "colour": "red"}},
     422, "colour"),
    ("wrong type", "POST", "/events/{e}/rooms", {"json": {"name": "B", "capacity": "many"}},
     422, "capacity"),
    ("missing field", "POST", "/events/{e}/sessions", {"json": {"title": {"en": "x"}}},
     422, "starts_at"),
    ("naive datetime", "POST", "/events/{e}/sessions",
     {"json": {"title": {"en": "x"}, "starts_at": "2030-06-28T10:00:00",
               "ends_at": "2030-06-28T11:00:00"}}, 422, "starts_at"),
    ("unknown language", "PATCH", "/sessions/{s}", {"json": {"title": {"fr": "Bonjour"}}},
     422, "title.fr"),
    ("bad mode", "POST", "/sessions/{s}/switch", {"json": {"mode": "teleport"}}, 422, "mode"),
    ("unconfigured provider", "POST", "/sessions/{s}/switch",
     {"json": {"mode": "online", "provider": "zoom"}}, 422, "provider"),
    ("bad status", "POST", "/sessions/{s}/status", {"json": {"status": "asleep"}}, 422,
     "status"),
    ("illegal transition", "POST", "/sessions/{s}/status", {"json": {"status": "ended"}}, 409,
     "status"),
    ("double booking", "POST", "/events/{e}/sessions",
     {"json": {"title": {"en": "x"}, "room_id": "{h}", "starts_at": at(10, 30).isoformat(),
               "ends_at": at(11, 30).isoformat()}}, 409, "room_id"),
    ("null for a required field", "PATCH", "/sessions/{s}", {"json": {"starts_at": None}}, 422,
     "starts_at"),
    ("end before start", "PATCH", "/sessions/{s}", {"json": {"ends_at": at(9).isoformat()}},
     422, "ends_at"),
    ("unknown time zone", "PATCH", "/events/{e}", {"json": {"timezone": "Europe/Atlantis"}},
     422, "timezone"),
    ("bad e-mail", "POST", "/events/{e}/participants",
     {"json": {"name": "X", "email": "not-an-address"}}, 422, "email"),
    ("limit too large", "GET", "/events/{e}/sessions?limit=501", {}, 422, "limit"),
    ("negative offset", "GET", "/events/{e}/sessions?offset=-1", {}, 422, "offset"),
    ("body over 1 MiB", "POST", "/events/{e}/rooms",
     {"data": b'{"name": "' + b"x" * (1024 * 1024) + b'"}', "content_type": "application/json"},
     413, None),
    ("unknown session", "GET", "/sessions/999999", {}, 404, None),
    ("unknown route", "GET", "/nothing-here", {}, 404, None),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids) if "{" in value and "}" in value and value[1:2] != '"' \
            else value
    if isinstance(value, dict):
        return {k: (int(_fill(v, ids)) if v == "{h}" else _fill(v, ids))
                for k, v in value.items()}
    return value


@pytest.mark.parametrize("what,method,path,kwargs,status,field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_4xx_and_changes_nothing(client, setup, what, method, path, kwargs,
                                              status, field):
    headers, event_id, session_id, hall_id = setup
    ids = {"e": event_id, "s": session_id, "h": hall_id}
    if "json" in kwargs:
        kwargs = {**kwargs, "json": _fill(kwargs["json"], ids)}
    before = snapshot()
    response = send(client, method, path.format(**ids), headers, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["message"] and error["code"]
    if field:
        assert field in error["fields"], error
    assert snapshot() == before


def test_413_is_refused_before_parsing_by_content_length(client, setup):
    headers, event_id, _, _ = setup
    # The announced length is what counts: the body is never read.
    response = client.post(f"/api/v1/events/{event_id}/rooms", data=b"{}", headers=headers,
                           content_type="application/json",
                           environ_overrides={"CONTENT_LENGTH": str(2 * 1024 * 1024)})
    assert response.status_code == 413


def test_a_service_failure_after_a_write_rolls_back(client, setup):
    """Moving an event's dates away from its sessions is refused whole: nothing is changed."""
    headers, event_id, _, _ = setup
    before = snapshot()
    response = send(client, "PATCH", f"/events/{event_id}", headers,
                    json={"venue": "Elsewhere", "start_date": "2030-06-29"})
    assert response.status_code == 409
    assert snapshot() == before
