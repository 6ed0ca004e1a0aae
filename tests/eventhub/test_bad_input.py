"""Bad input gets a clear 4xx in DESIGN.md's error shape, and changes nothing."""

from __future__ import annotations

import threading

import pytest
from api_support import post_chunked, send, snapshot
from werkzeug.serving import make_server

from tests.conftest import at, bearer


@pytest.fixture
def setup(create_user, create_event, create_room, create_session, api_token):
    organizer = create_user("organizer")
    event = create_event()
    hall = create_room(event)
    event_session = create_session(event, hall)
    return bearer(api_token(organizer)), event.id, event_session.id, hall.id


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


# -- hostile input: huge ids, odd query strings, deep JSON, far-off dates, chunked bodies ------

HUGE = 2**64  # past SQLite's 64-bit INTEGER: binding it raises OverflowError




@pytest.fixture
def with_ids(create_user, create_event, create_room, create_session, create_participant,
             api_token):
    """An organizer's headers, and the ids of an event, its session, its hall and a
    participant."""
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
def test_an_id_past_64_bits_in_the_path_is_404(client, with_ids, path):
    headers, *_, participant_id = with_ids
    response = send(client, "GET", path.format(p=participant_id), headers)
    assert response.status_code == 404, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("query,field", [
    (f"offset={HUGE}", "offset"), ("offset=" + "9" * 30, "offset"), ("limit=%C2%B2", "limit"),
    ("offset=%D9%A3", "offset"), (f"room_id={HUGE}", "room_id"), ("room_id=abc", "room_id"),
])
def test_a_bad_query_parameter_is_422_naming_it(client, with_ids, query, field):
    headers, event_id, *_ = with_ids
    response = send(client, "GET", f"/events/{event_id}/sessions?{query}", headers)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("path", ["/events", "/events/{e}/participants", "/events/{e}/rooms"])
def test_every_list_refuses_an_offset_past_64_bits(client, with_ids, path):
    headers, event_id, *_ = with_ids
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
def test_an_id_past_64_bits_in_a_body_is_422_and_changes_nothing(client, with_ids, method, path,
                                                                   body, field):
    headers, event_id, session_id, *_ = with_ids
    if method == "POST":
        body = {"title": {"en": "x"}, "starts_at": at(14).isoformat(),
                "ends_at": at(15).isoformat(), **body}
    before = snapshot()
    response = send(client, method, path.format(e=event_id, s=session_id), headers, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]
    assert snapshot() == before


def test_deeply_nested_json_is_400_not_500(client, with_ids):
    headers, event_id, *_ = with_ids
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
def test_event_dates_out_of_range_are_422(client, with_ids, dates):
    headers, *_ = with_ids
    before = snapshot()
    response = send(client, "POST", "/events", headers, json={**EVENT, **dates})
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert set(response.get_json()["error"]["fields"]) & set(dates)
    assert snapshot() == before


def test_moving_an_event_to_the_end_of_time_is_422(client, with_ids):
    headers, event_id, *_ = with_ids
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
def test_event_fields_that_are_not_iana_zones_or_providers_are_422(client, with_ids, body, field):
    headers, *_ = with_ids
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
    assert params["offset"]["maximum"] == 2**63 - 1
    assert params["track"] == {"type": "string"}


@pytest.mark.parametrize("method,path,body,field", [
    ("POST", "/events/{e}/rooms", {"name": "Hall\u0000B"}, "name"),
    ("PATCH", "/sessions/{s}", {"title": {"en": "Talk\u0000"}}, "title.en"),
    ("PATCH", "/sessions/{s}", {"track": "\u0000"}, "track"),
    ("PATCH", "/participants/{p}", {"organization": "City\u0000Hall"}, "organization"),
    ("POST", "/tokens", {"email": "org\u0000@example.org", "password": "x" * 10}, "email"),
])
def test_a_nul_character_in_a_string_is_422(client, with_ids, method, path, body, field):
    """PostgreSQL (DESIGN.md's scale-out database) refuses NUL in text: a 500 there."""
    headers, event_id, session_id, _, participant_id = with_ids
    before = snapshot()
    response = send(client, method, path.format(e=event_id, s=session_id, p=participant_id),
                    headers, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]
    assert snapshot() == before


def test_a_nul_character_in_the_track_filter_is_422(client, with_ids):
    headers, event_id, *_ = with_ids
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
def test_a_wrongly_typed_json_value_is_422_not_coerced(client, with_ids, method, path, body,
                                                       field):
    """The issue: wrongly typed fields are 422 naming the field; "5" is not a number."""
    headers, event_id, session_id, *_ = with_ids
    before = snapshot()
    response = send(client, method, path.format(e=event_id, s=session_id), headers, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert field in response.get_json()["error"]["fields"]
    assert snapshot() == before


@pytest.mark.parametrize("raw", [b'{"name": NaN}', b'{"name": "x", "capacity": Infinity}'])
def test_json_extensions_python_accepts_are_400(client, with_ids, raw):
    """NaN and Infinity are not JSON (RFC 8259), though Python's parser takes them."""
    headers, event_id, *_ = with_ids
    response = send(client, "POST", f"/events/{event_id}/rooms", headers, data=raw,
                    content_type="application/json")
    assert response.status_code == 400




@pytest.mark.parametrize("path", [
    f"/join/{HUGE}?t=x", f"/join/{2**63}?t=x", f"/calendars/events/{HUGE}.ics",
    f"/calendars/sessions/{HUGE}.ics", f"/sessions/{HUGE}", f"/console/sessions/{HUGE}/host",
])
def test_an_id_past_64_bits_in_a_page_or_feed_path_is_404(client, path):
    """The pages' and feeds' routes too (the API's are above, with their error body)."""
    assert client.get(path).status_code == 404


def test_every_integer_route_is_bounded(app):
    from eventhub.services.common import MAX_ID

    converters = [conv for rule in app.url_map.iter_rules()
                  for conv in (rule._converters or {}).values()
                  if conv.__class__.__name__ == "BoundedIntegerConverter"]
    assert converters and all(conv.max == MAX_ID for conv in converters)


@pytest.fixture
def server(app):
    """The app on a real socket, so the body can be sent chunked."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    thread.join(5)
    httpd.server_close()


def test_a_chunked_body_over_1_mib_is_413(server, create_user, create_event, api_token):
    token = api_token(create_user("organizer"))
    event = create_event()
    body = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    status = post_chunked(server, f"/api/v1/events/{event.id}/rooms",
                          {**bearer(token), "Content-Type": "application/json"}, body)
    assert status == 413
