"""What schemathesis found, one test each: the document and the server agree."""

from __future__ import annotations

import pytest

from tests.conftest import at, bearer

HUGE = 2**63


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").get_json()


def params(doc, path, method):
    return {p["name"]: p for p in doc["paths"][path][method]["parameters"]}


def test_a_switch_documents_no_paging(doc):
    assert not {"limit", "offset"} & set(params(doc, "/events/{event_id}/switch", "post"))
    assert {"limit", "offset"} <= set(params(doc, "/events/{event_id}/sessions", "get"))


def test_only_fields_that_null_clears_are_nullable(doc):
    schemas = doc["components"]["schemas"]
    update = schemas["SessionUpdate"]["properties"]
    assert "null" not in str(update["title"]) and "null" not in str(update["starts_at"])
    assert "null" in str(update["room_id"])
    assert "null" not in str(schemas["EventUpdate"]["properties"]["slug"])
    assert "null" in str(schemas["EventUpdate"]["properties"]["fallback_provider"])


def test_the_import_body_is_documented(doc):
    body = doc["paths"]["/events/{event_id}/import"]["post"]["requestBody"]
    assert body["content"]["text/calendar"]["schema"] == {"type": "string"}


def test_405_says_which_methods_are_allowed(client):
    response = client.put("/api/v1/events")
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


@pytest.mark.parametrize("method", ["PATCH", "DELETE", "POST"])
def test_an_id_past_64_bits_is_404_on_every_method(client, method):
    path = f"/api/v1/sessions/{HUGE}" + ("/status" if method == "POST" else "")
    assert client.open(path, method=method, json={}).status_code == 404


def test_an_arabic_indic_digit_is_not_an_id(client, create_event, create_session):
    event_session = create_session(create_event())
    assert event_session.id == 1
    assert client.get("/api/v1/sessions/1").status_code == 200
    assert client.get("/api/v1/sessions/\u0661").status_code == 404


@pytest.mark.parametrize("field,value", [("starts_at", "1796148000"), ("starts_at", 1796148000),
                                         ("ends_at", "1796148000.5")])
def test_a_unix_time_is_no_datetime(client, create_user, create_event, api_token, field,
                                    value):
    event = create_event()
    token = api_token(create_user("organizer"))
    body = {"title": {"en": "T"}, "starts_at": at(10).isoformat(),
            "ends_at": at(11).isoformat(), field: value}
    response = client.post(f"/api/v1/events/{event.id}/sessions", json=body,
                           headers=bearer(token))
    assert response.status_code == 422 and field in response.get_json()["error"]["fields"]


def test_a_unix_time_is_no_date(client, create_user, api_token):
    token = api_token(create_user("organizer"))
    body = {"slug": "x", "title": {"en": "X"}, "timezone": "Europe/Berlin",
            "start_date": "1796148000", "end_date": "2030-01-02"}
    response = client.post("/api/v1/events", json=body, headers=bearer(token))
    assert response.status_code == 422 and "start_date" in response.get_json()["error"]["fields"]
    body["start_date"] = "2030-01-01"
    created = client.post("/api/v1/events", json=body, headers=bearer(token))
    assert created.status_code == 201, created.get_json()
