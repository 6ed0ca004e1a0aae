"""The REST API end to end: shapes, pagination, tokens, OpenAPI, health."""

from __future__ import annotations

import pytest

from eventhub.api.openapi import document
from tests.conftest import at, bearer


@pytest.fixture
def organizer_headers(create_user, api_token):
    return bearer(api_token(create_user("organizer", email="org@example.org")))


def test_event_programme_and_participant_lifecycle(client, organizer_headers):
    event = client.post("/api/v1/events", headers=organizer_headers, json={
        "slug": "kaluga-2030", "title": {"ru": "Конференция", "de": "Konferenz"},
        "timezone": "Europe/Moscow", "start_date": "2030-06-28", "end_date": "2030-06-30",
        "published": True,
    })
    assert event.status_code == 201, event.get_json()
    event = event.get_json()
    assert event["title"] == {"ru": "Конференция", "de": "Konferenz"}
    assert set(event) >= {"id", "slug", "title", "timezone", "start_date", "end_date", "mode",
                          "default_provider", "fallback_provider", "published"}
    hall = client.post(f"/api/v1/events/{event['id']}/rooms", headers=organizer_headers,
                       json={"name": "Großer Saal", "capacity": 300}).get_json()
    created = client.post(f"/api/v1/events/{event['id']}/sessions", headers=organizer_headers,
                          json={"title": {"en": "Opening"}, "room_id": hall["id"],
                                "starts_at": "2030-06-28T10:00:00+03:00",
                                "ends_at": "2030-06-28T11:30:00+03:00", "track": "plenary"})
    assert created.status_code == 201, created.get_json()
    session = created.get_json()
    assert session["starts_at"] == "2030-06-28T07:00:00+00:00"  # ISO 8601 with offset, UTC
    assert session["status"] == "scheduled" and session["room"] is None
    patched = client.patch(f"/api/v1/sessions/{session['id']}", headers=organizer_headers,
                           json={"starts_at": "2030-06-28T10:15:00+03:00"}).get_json()
    assert patched["sequence"] == 1
    status = client.post(f"/api/v1/sessions/{session['id']}/status", headers=organizer_headers,
                         json={"status": "delayed", "delay_minutes": 10}).get_json()
    assert status["status"] == "delayed" and status["delay_minutes"] == 10

    person = client.post(f"/api/v1/events/{event['id']}/participants", headers=organizer_headers,
                         json={"name": "Ирина", "email": "Irina@Example.org", "language": "ru",
                               "role": "official", "attendance": "remote",
                               "organization": "Администрация г. Калуга",
                               "partner_organization": "Stadt Suhl", "country": "RU"})
    assert person.status_code == 201
    person = person.get_json()
    assert person["email"] == "irina@example.org" and person["invitation_status"] == "invited"
    token = person["access_url"].rsplit("/", 1)[1]
    assert len(token) >= 43  # 32 bytes of randomness, URL-safe base64
    mine = bearer(token)
    assert client.post(f"/api/v1/participants/{person['id']}/invitation", headers=mine,
                       json={"status": "accepted"}).get_json()["invitation_status"] == "accepted"
    assert client.put(f"/api/v1/participants/{person['id']}/agenda/{session['id']}",
                      headers=mine).status_code == 200
    agenda = client.get(f"/api/v1/participants/{person['id']}/agenda", headers=mine).get_json()
    assert [s["id"] for s in agenda["items"]] == [session["id"]]
    again = client.post(f"/api/v1/events/{event['id']}/participants", headers=organizer_headers,
                        json={"name": "Dup", "email": "irina@example.org"})
    assert again.status_code == 409

    # Rotating the token revokes the old personal link at once.
    rotated = client.post(f"/api/v1/participants/{person['id']}/token",
                          headers=organizer_headers).get_json()
    assert rotated["access_url"] != person["access_url"]
    assert client.get(f"/api/v1/participants/{person['id']}", headers=mine).status_code == 401
    assert client.get(f"/p/{token}").status_code == 404


def test_pagination(client, organizer_headers, create_event, create_session):
    event = create_event()
    for hour in range(8, 20):
        create_session(event, start=at(hour), minutes=30)
    first = client.get(f"/api/v1/events/{event.id}/sessions?limit=5").get_json()
    assert (first["total"], first["limit"], first["offset"], len(first["items"])) == (12, 5, 0, 5)
    last = client.get(f"/api/v1/events/{event.id}/sessions?limit=5&offset=10").get_json()
    assert len(last["items"]) == 2
    ids = [s["id"] for s in first["items"]] + [s["id"] for s in last["items"]]
    assert len(set(ids)) == 7


def test_tokens_issue_and_revoke(client, create_user):
    create_user("moderator", email="mod@example.org", password="secret-pw-1")
    wrong = client.post("/api/v1/tokens", json={"email": "mod@example.org", "password": "nope"})
    assert wrong.status_code == 401
    unknown = client.post("/api/v1/tokens", json={"email": "who@example.org", "password": "x"})
    assert unknown.get_json() == wrong.get_json()  # the same answer: no account enumeration
    token = client.post("/api/v1/tokens", json={"email": "MOD@example.org",
                                                "password": "secret-pw-1"}).get_json()["token"]
    assert client.delete("/api/v1/tokens/current", headers=bearer(token)).status_code == 204
    assert client.get("/api/v1/events", headers=bearer(token)).status_code == 401


def test_openapi_document_covers_every_route_and_resolves_its_refs(client, app):
    body = client.get("/api/v1/openapi.json").get_json()
    assert body["openapi"].startswith("3.")
    api_rules = {r.rule.removeprefix("/api/v1") for r in app.url_map.iter_rules()
                 if r.rule.startswith("/api/v1") and not r.rule.endswith("openapi.json")}
    documented = {p.replace("{", "<int:").replace("}", ">") for p in body["paths"]}
    assert {r for r in api_rules} == documented
    schemas = body["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    for ref in refs(body):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    # Generated from the validating schemas: unknown fields are refused in the document too.
    assert schemas["SessionCreate"]["additionalProperties"] is False
    assert "starts_at" in schemas["SessionCreate"]["required"]
    with app.app_context():
        assert document()["paths"] == body["paths"]


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_token_requests_are_rate_limited_per_address(app, client):
    app.config["SIGN_IN_LIMIT"] = "3 per minute"
    body = {"email": "who@example.org", "password": "guess"}
    statuses = [client.post("/api/v1/tokens", json=body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    error = client.post("/api/v1/tokens", json=body).get_json()["error"]
    assert error["code"] == "rate_limited"
