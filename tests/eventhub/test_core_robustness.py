"""Hostile input never reaches a 500: huge ids, odd query strings, deep JSON, far-off dates."""

from __future__ import annotations

import pytest

from tests.conftest import at, bearer
from tests.eventhub.test_bad_input import send, snapshot

HUGE = 2**64  # past SQLite's 64-bit INTEGER: binding it raises OverflowError


@pytest.fixture
def setup(create_user, create_event, create_room, create_session, create_participant,
          api_token):
    organizer = create_user("organizer")
    event = create_event()
    hall = create_room(event)
    event_session = create_session(event, hall)
    participant = create_participant(event)
    return bearer(api_token(organizer)), event.id, event_session.id, hall.id, participant.id


@pytest.mark.parametrize("path", [
    f"/events/{HUGE}", f"/events/{2**63}", f"/events/{HUGE}/sessions", f"/events/{HUGE}/rooms",
    f"/events/{HUGE}/participants", f"/sessions/{HUGE}", f"/sessions/{HUGE}/room",
    f"/participants/{HUGE}", "/participants/{p}/agenda/" + str(HUGE),
])
def test_an_id_past_64_bits_in_the_path_is_404(client, setup, path):
    headers, *_, participant_id = setup
    response = send(client, "GET", path.format(p=participant_id), headers)
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("query,field", [
    (f"offset={HUGE}", "offset"), ("offset=" + "9" * 30, "offset"), ("limit=%C2%B2", "limit"),
    ("offset=%D9%A3", "offset"), (f"room_id={HUGE}", "room_id"), ("room_id=abc", "room_id"),
])
def test_a_bad_query_parameter_is_422_naming_it(client, setup, query, field):
    headers, event_id, *_ = setup
    response = send(client, "GET", f"/events/{event_id}/sessions?{query}", headers)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("path", ["/events", "/events/{e}/participants", "/events/{e}/rooms"])
def test_every_list_refuses_an_offset_past_64_bits(client, setup, path):
    headers, event_id, *_ = setup
    response = send(client, "GET", path.format(e=event_id) + f"?offset={HUGE}", headers)
    assert response.status_code == 422
    assert "offset" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/events/{e}/sessions", {"room_id": HUGE}, "room_id"),
    ("POST", "/events/{e}/sessions", {"moderator_ids": [HUGE]}, "moderator_ids.0"),
    ("POST", "/events/{e}/sessions", {"speaker_ids": [1, HUGE]}, "speaker_ids.1"),
    ("PATCH", "/sessions/{s}", {"room_id": HUGE}, "room_id"),
    ("PATCH", "/sessions/{s}", {"moderator_ids": [HUGE]}, "moderator_ids.0"),
    ("PATCH", "/sessions/{s}", {"speaker_ids": [0]}, "speaker_ids.0"),
])
def test_an_id_past_64_bits_in_a_body_is_422_and_changes_nothing(client, setup, method, path,
                                                                   body, field):
    headers, event_id, session_id, *_ = setup
    if method == "POST":
        body = {"title": {"en": "x"}, "starts_at": at(14).isoformat(),
                "ends_at": at(15).isoformat(), **body}
    before = snapshot()
    response = send(client, method, path.format(e=event_id, s=session_id), headers, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]
    assert snapshot() == before


def test_deeply_nested_json_is_400_not_500(client, setup):
    headers, event_id, *_ = setup
    body = b"[" * 100_000 + b"]" * 100_000
    response = send(client, "POST", f"/events/{event_id}/rooms", headers, data=body,
                    content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


EVENT = {"slug": "far", "title": {"en": "Far"}, "timezone": "Pacific/Kiritimati",
         "start_date": "2030-01-01", "end_date": "2030-01-02"}


@pytest.mark.parametrize("dates", [
    {"start_date": "9999-12-31", "end_date": "9999-12-31"},
    {"start_date": "0001-01-01", "end_date": "0001-01-01"},
    {"end_date": "9999-12-31"},
])
def test_event_dates_out_of_range_are_422(client, setup, dates):
    headers, *_ = setup
    before = snapshot()
    response = send(client, "POST", "/events", headers, json={**EVENT, **dates})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert set(response.get_json()["error"]["fields"]) & set(dates)
    assert snapshot() == before


def test_moving_an_event_to_the_end_of_time_is_422(client, setup):
    headers, event_id, *_ = setup
    before = snapshot()
    response = send(client, "PATCH", f"/events/{event_id}", headers,
                    json={"end_date": "9999-12-31"})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert "end_date" in response.get_json()["error"]["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("body,field", [
    ({"timezone": "localtime"}, "timezone"),  # the server's own zone, not an IANA name
    ({"timezone": "Factory"}, "timezone"),
    ({"default_provider": ""}, "default_provider"),
    ({"fallback_provider": ""}, "fallback_provider"),
])
def test_event_fields_that_are_not_iana_zones_or_providers_are_422(client, setup, body, field):
    headers, *_ = setup
    response = send(client, "POST", "/events", headers, json={**EVENT, **body})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]


def test_openapi_declares_ids_as_64_bit_integers(client):
    """A client generated from the document sends ids the API accepts, in path and query."""
    operation = client.get("/api/v1/openapi.json").get_json()["paths"][
        "/events/{event_id}/sessions"]["get"]
    params = {p["name"]: p["schema"] for p in operation["parameters"]}
    int64 = {"type": "integer", "format": "int64", "minimum": 1, "maximum": 2**63 - 1}
    assert params["event_id"] == int64
    assert params["room_id"] == int64
    assert params["track"] == {"type": "string"}


@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/events/{e}/rooms", {"name": "Hall\u0000B"}, "name"),
    ("PATCH", "/sessions/{s}", {"title": {"en": "Talk\u0000"}}, "title.en"),
    ("PATCH", "/sessions/{s}", {"track": "\u0000"}, "track"),
    ("PATCH", "/participants/{p}", {"organization": "City\u0000Hall"}, "organization"),
    ("POST", "/tokens", {"email": "org\u0000@example.org", "password": "x" * 10}, "email"),
])
def test_a_nul_character_in_a_string_is_422(client, setup, method, path, body, field):
    """PostgreSQL (DESIGN.md's scale-out database) refuses NUL in text: a 500 there."""
    headers, event_id, session_id, _, participant_id = setup
    before = snapshot()
    response = send(client, method, path.format(e=event_id, s=session_id, p=participant_id),
                    headers, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]
    assert snapshot() == before


def test_a_nul_character_in_the_track_filter_is_422(client, setup):
    headers, event_id, *_ = setup
    response = send(client, "GET", f"/events/{event_id}/sessions?track=a%00", headers)
    assert response.status_code == 422
    assert "track" in response.get_json()["error"]["fields"]


def test_signing_in_with_a_nul_in_the_email_finds_nobody(ctx):
    """The web login form reaches the same lookup without a schema in front of it."""
    from eventhub.services import users

    assert users.find_user("org\u0000@example.org") is None


@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/events/{e}/rooms", {"name": "B", "capacity": "5"}, "capacity"),
    ("PATCH", "/events/{e}", {"published": "yes"}, "published"),
    ("PATCH", "/events/{e}", {"join_window_minutes": 10.0}, "join_window_minutes"),
    ("PATCH", "/sessions/{s}", {"room_id": "1"}, "room_id"),
    ("PATCH", "/sessions/{s}", {"moderator_ids": [True]}, "moderator_ids.0"),
    ("POST", "/sessions/{s}/status", {"status": "delayed", "delay_minutes": "10"},
     "delay_minutes"),
])
def test_a_wrongly_typed_json_value_is_422_not_coerced(client, setup, method, path, body,
                                                       field):
    """The issue: wrongly typed fields are 422 naming the field; "5" is not a number."""
    headers, event_id, session_id, *_ = setup
    before = snapshot()
    response = send(client, method, path.format(e=event_id, s=session_id), headers, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("raw", [b'{"name": NaN}', b'{"name": "x", "capacity": Infinity}'])
def test_json_extensions_python_accepts_are_400(client, setup, raw):
    """NaN and Infinity are not JSON (RFC 8259), though Python's parser takes them."""
    headers, event_id, *_ = setup
    response = send(client, "POST", f"/events/{event_id}/rooms", headers, data=raw,
                    content_type="application/json")
    assert response.status_code == 400
