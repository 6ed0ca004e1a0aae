"""DESIGN.md's access rules, endpoint by endpoint, for every kind of caller.

Each row: method, path (with placeholders), body, and the expected status for anonymous,
participant, other event's participant, moderator of another session, moderator, organizer.
test_access_routes.py has every route, page, feed and /live event; this module the API's
finer cases: a participant's role, an unpublished event, the order of checks.
"""

from __future__ import annotations

import pytest

from eventhub.extensions import db
from eventhub.models import AgendaItem, VideoRoom
from integrations.base import RoomRequest
from integrations.jitsi import JitsiProvider
from tests.conftest import at, bearer

ACTORS = ("anonymous", "participant", "other_participant", "other_moderator", "moderator",
          "organizer")

SESSION = {"title": {"en": "New"}, "starts_at": at(15).isoformat(),
           "ends_at": at(16).isoformat()}
EVENT = {"slug": "new-event", "title": {"en": "New"}, "timezone": "Europe/Berlin",
         "start_date": "2030-01-01", "end_date": "2030-01-02"}
PERSON = {"name": "New Person", "email": "new@example.org"}

#   method, path, body, statuses per ACTORS. Every route for every caller (with an official)
#   is tests/eventhub/test_access_routes.py's table; here the cases it does not have.
MATRIX = [
    ("PATCH", "/participants/{participant}", {"role": "press"}, (401, 403, 404, 404, 404, 200)),
]

# The same for an unpublished event: it is invisible (404) to those not working on it, for
# writes too (401 first: an anonymous write learns nothing of what exists).
UNPUBLISHED = [
    ("GET", "/events/{event}", None, (404, 200, 404, 200, 200, 200)),
    ("GET", "/events/{event}/sessions", None, (404, 200, 404, 200, 200, 200)),
    ("GET", "/sessions/{session}", None, (404, 200, 404, 200, 200, 200)),
    ("POST", "/sessions/{session}/switch", {"mode": "online"}, (401, 403, 404, 403, 200, 200)),
    ("POST", "/sessions/{session}/status", {"status": "live"}, (401, 403, 404, 403, 200, 200)),
    ("PATCH", "/sessions/{session}", {"track": "x"}, (401, 403, 404, 403, 403, 200)),
    ("DELETE", "/sessions/{session}", None, (401, 403, 404, 403, 403, 204)),
    ("PATCH", "/events/{event}", {"venue": "Moscow"}, (401, 403, 404, 403, 403, 200)),
    ("POST", "/events/{event}/sessions", SESSION, (401, 403, 404, 403, 403, 201)),
    ("POST", "/events/{event}/switch", {"mode": "online"}, (401, 403, 404, 403, 403, 200)),
    ("POST", "/events/{event}/rooms", {"name": "Hall Z"}, (401, 403, 404, 403, 403, 201)),
]

# DESIGN's order of checks: 401, 404, 403, then 422. A body that is invalid in every way
# gets the first answer that applies to the caller, whatever the body says.
BAD = {"title": 5, "mode": "sideways", "status": "nowhere", "name": "", "starts_at": "x"}
ORDER = [
    ("POST", "/events", (401, 403, 403, 403, 403, 422)),
    ("PATCH", "/events/{event}", (401, 403, 404, 403, 403, 422)),
    ("POST", "/events/{event}/sessions", (401, 403, 404, 403, 403, 422)),
    ("POST", "/events/{event}/switch", (401, 403, 404, 403, 403, 422)),
    ("PATCH", "/sessions/{session}", (401, 403, 404, 403, 403, 422)),
    ("POST", "/sessions/{session}/switch", (401, 403, 404, 403, 422, 422)),
    ("POST", "/sessions/{session}/status", (401, 403, 404, 403, 422, 422)),
    ("POST", "/events/{event}/participants", (401, 403, 404, 403, 403, 422)),
    ("PATCH", "/participants/{participant}", (401, 422, 404, 404, 404, 422)),
    ("POST", "/participants/{participant}/invitation", (401, 422, 404, 404, 404, 422)),
]


def build_world(published, create_user, create_event, create_room, create_session,
                create_participant, api_token):
    event = create_event(published=published)
    other_event = create_event(slug="other")
    moderator, other_moderator = create_user("moderator"), create_user("moderator")
    organizer = create_user("organizer")
    hall = create_room(event)
    event_session = create_session(event, hall, moderators=[moderator])
    create_session(event, hall, start=at(12), moderators=[other_moderator])
    participant = create_participant(event)
    other_participant = create_participant(other_event, name="Bob")
    created = JitsiProvider({}).create_room(
        RoomRequest("eventhub-s1-g1", "Talk", event_session.starts_at, event_session.ends_at))
    db.session.add(VideoRoom(session=event_session, provider="jitsi", state="ready",
                             external_id=created.external_id, data=created.data,
                             host_data=created.host_data))
    db.session.add(AgendaItem(participant=participant, session=event_session))
    db.session.commit()
    tokens = {
        "anonymous": None,
        "participant": participant.token,
        "other_participant": other_participant.token,
        "other_moderator": api_token(other_moderator),
        "moderator": api_token(moderator),
        "organizer": api_token(organizer),
    }
    ids = {"event": event.id, "session": event_session.id, "participant": participant.id}
    return tokens, ids


def cases(table):
    for method, path, body, statuses in table:
        for who, status in zip(ACTORS, statuses, strict=True):
            yield pytest.param(method, path, body, who, status,
                               id=f"{method} {path} {body or ''} as {who}")


@pytest.fixture
def world(create_user, create_event, create_room, create_session, create_participant, api_token):
    def make(published=True):
        return build_world(published, create_user, create_event, create_room, create_session,
                           create_participant, api_token)

    return make


@pytest.mark.parametrize("method,path,body,who,status", list(cases(MATRIX)))
def test_access_matrix(client, world, method, path, body, who, status):
    tokens, ids = world()
    response = client.open("/api/v1" + path.format(**ids), method=method, json=body,
                           headers=bearer(tokens[who]))
    assert response.status_code == status, response.get_json()
    if status >= 400:
        assert set(response.get_json()["error"]) == {"code", "message", "fields"}


@pytest.mark.parametrize("method,path,body,who,status", list(cases(UNPUBLISHED)))
def test_access_matrix_unpublished_event(client, world, method, path, body, who, status):
    tokens, ids = world(published=False)
    response = client.open("/api/v1" + path.format(**ids), method=method, json=body,
                           headers=bearer(tokens[who]))
    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize("method,path,body,who,status",
                         list(cases([(m, p, BAD, st) for m, p, st in ORDER])))
def test_order_of_checks_on_an_unpublished_event(client, world, method, path, body, who,
                                                 status):
    tokens, ids = world(published=False)
    response = client.open("/api/v1" + path.format(**ids), method=method, json=body,
                           headers=bearer(tokens[who]))
    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize("path", ["/events/{event}/sessions", "/sessions/{session}/switch",
                                  "/participants/{participant}"])
def test_an_anonymous_write_to_a_missing_object_is_401_like_an_existing_one(client, world,
                                                                            path):
    _tokens, ids = world()
    missing = {key: 999_999 for key in ids}
    for values in (ids, missing):
        response = client.post("/api/v1" + path.format(**values), json={})
        assert response.status_code in (401, 405), response.get_json()
        if response.status_code == 405:  # PATCH-only route
            response = client.patch("/api/v1" + path.format(**values), json={})
        assert response.status_code == 401, response.get_json()


@pytest.mark.parametrize("who", ACTORS)
def test_host_url_only_for_the_sessions_moderators_and_organizers(client, world, who):
    tokens, ids = world()
    body = client.get(f"/api/v1/sessions/{ids['session']}/room",
                      headers=bearer(tokens[who])).get_json()
    assert ("host_url" in body) == (who in ("moderator", "organizer"))
    if who not in ("moderator", "organizer"):
        assert "http" not in str(body)  # no provider URL of any kind


def test_participant_links_only_for_organizers(client, world):
    tokens, ids = world()
    path = f"/api/v1/participants/{ids['participant']}"
    own = client.get(path, headers=bearer(tokens["participant"])).get_json()
    assert "access_url" not in own and tokens["participant"] not in str(own)
    seen = client.get(path, headers=bearer(tokens["organizer"])).get_json()
    assert seen["access_url"].endswith("/p/" + tokens["participant"])
    assert seen["feed_url"].endswith(f"/calendars/p/{tokens['participant']}.ics")


def test_invalid_bearer_token_is_401_even_on_public_routes(client, world):
    world()
    response = client.get("/api/v1/events", headers=bearer("not-a-real-token"))
    assert response.status_code == 401
    response = client.get("/api/v1/events", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//EN\r
BEGIN:VEVENT\r
UID:imported-1@example.org\r
DTSTAMP:20300101T000000Z\r
DTSTART:20300628T150000Z\r
DTEND:20300628T160000Z\r
SUMMARY:Imported\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.mark.parametrize("who,status", list(zip(ACTORS, (401, 403, 403, 403, 403, 200),
                                                strict=True)))
def test_access_matrix_import(client, world, who, status):
    tokens, ids = world()
    response = client.post(f"/api/v1/events/{ids['event']}/import", data=ICS,
                           headers={**bearer(tokens[who]), "Content-Type": "text/calendar"})
    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize("who", ACTORS)
def test_access_matrix_tokens_need_only_the_account(client, world, create_user, who):
    tokens, _ = world()
    create_user("moderator", email="new-mod@example.org", password="secret-pw-1")
    response = client.post("/api/v1/tokens", headers=bearer(tokens[who]),
                           json={"email": "new-mod@example.org", "password": "secret-pw-1"})
    assert response.status_code == 201 and response.get_json()["token"]
