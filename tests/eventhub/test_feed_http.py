"""The ``/calendars/*`` routes: headers, revalidation, access, and the page link helpers."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import render_template_string
from icalendar import Calendar
from werkzeug.http import http_date, parse_date

from eventhub import feeds as feed_routes
from eventhub.services import agenda, feeds, participants
from eventhub.services import events as event_service
from eventhub.services import sessions as session_service
from eventhub.web import calendar_links
from tests.conftest import at


@pytest.fixture
def app(app):
    """The conftest app with the feed routes registered before its first request."""
    feed_routes.init_app(app)
    return app


@pytest.fixture
def world(create_user, create_event, create_room, create_session, create_participant):
    """A published event with two sessions, one of them online, and two participants."""
    organizer = create_user("organizer")
    event = create_event()
    hall = create_room(event, "Hall A")
    talk = create_session(event, hall, at(10), title={"en": "Talk, one; two", "ru": "Доклад"},
                          description={"en": "About twinning."})
    online = create_session(event, hall, at(12), mode="online", title={"en": "Online talk"})
    anna = create_participant(event, "Anna", language="de")
    ben = create_participant(event, "Ben")
    agenda.add_to_agenda(anna, anna, talk)
    agenda.add_to_agenda(anna, anna, online)
    agenda.add_to_agenda(ben, ben, online)
    return {"organizer": organizer, "event": event, "talk": talk, "online": online,
            "anna": anna, "ben": ben}


def paths(world) -> dict[str, str]:
    """The three feed URLs of the world."""
    return {"event": f"/calendars/events/{world['event'].id}.ics",
            "session": f"/calendars/sessions/{world['talk'].id}.ics",
            "personal": f"/calendars/p/{world['anna'].token}.ics"}


@pytest.mark.parametrize("kind,cache", [("event", "public"), ("session", "public"),
                                        ("personal", "private")])
def test_feed_is_text_calendar_with_validators(client, world, kind, cache):
    response = client.get(paths(world)[kind])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["ETag"].startswith('"') and len(response.headers["ETag"]) == 66
    assert parse_date(response.headers["Last-Modified"]) is not None
    assert response.cache_control.max_age == 300
    assert getattr(response.cache_control, cache) is True
    assert response.headers["Content-Disposition"].startswith("inline;")
    Calendar.from_ical(response.data)  # parses back


def test_download_is_an_attachment(client, world):
    response = client.get(paths(world)["event"] + "?download=1")
    assert response.headers["Content-Disposition"] == 'attachment; filename="conf.ics"'
    personal = client.get(paths(world)["personal"] + "?download=1")
    assert personal.headers["Content-Disposition"] == 'attachment; filename="conf-agenda.ics"'


@pytest.mark.parametrize("kind", ["event", "session", "personal"])
def test_if_none_match_and_if_modified_since_answer_304(client, world, kind):
    url = paths(world)[kind]
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    older = http_date(parse_date(modified) - timedelta(seconds=1))
    assert client.get(url, headers={"If-Modified-Since": older}).status_code == 200
    # RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
    stale = client.get(url, headers={"If-None-Match": '"other"', "If-Modified-Since": modified})
    assert stale.status_code == 200


def test_a_change_gives_a_new_etag_and_a_full_answer(client, world):
    url = paths(world)["event"]
    etag = client.get(url).headers["ETag"]
    session_service.set_session_status(world["organizer"], world["talk"], "cancelled")
    response = client.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.headers["ETag"] != etag
    assert b"STATUS:CANCELLED" in response.data


def test_warm_request_does_not_rebuild(client, world, monkeypatch):
    calls: list[int] = []
    real = feeds.build_calendar

    def counting(cal):
        """Record the call, then build for real."""
        calls.append(len(cal.sessions))
        return real(cal)

    monkeypatch.setattr(feeds, "build_calendar", counting)
    url = paths(world)["event"]
    bodies = {client.get(url).data for _ in range(5)}
    assert len(bodies) == 1 and calls == [2]
    agenda.add_to_agenda(world["anna"], world["anna"], world["talk"])  # already there: no-op
    for _ in range(3):
        client.get(paths(world)["personal"])
    assert calls == [2, 2]


def test_rotated_or_unknown_token_is_404(client, world):
    old = paths(world)["personal"]
    assert client.get(old).status_code == 200
    participants.rotate_token(world["organizer"], world["anna"])
    refused = client.get(old)
    assert refused.status_code == 404
    # A calendar app gets a short plain-text answer and no cookie.
    assert refused.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert "Set-Cookie" not in refused.headers
    assert b"<html" not in refused.data.lower()
    assert client.get("/calendars/p/not-a-token.ics").status_code == 404
    assert client.get(f"/calendars/p/{world['anna'].token}.ics").status_code == 200


def test_unpublished_event_is_404_for_anonymous_but_not_for_its_organizer(client, world):
    event_service.update_event(world["organizer"], world["event"], {"published": False})
    assert client.get(paths(world)["event"]).status_code == 404
    assert client.get(paths(world)["session"]).status_code == 404
    assert client.get("/calendars/events/999.ics").status_code == 404
    with client.session_transaction() as browser:
        browser["user_id"] = world["organizer"].id
    response = client.get(paths(world)["event"])
    assert response.status_code == 200
    assert response.cache_control.private is True  # not for shared caches


def test_public_feed_language_and_no_personal_link(client, world):
    body = client.get(paths(world)["event"] + "?lang=ru").data
    assert "SUMMARY:Доклад".encode() in body
    for participant in (world["anna"], world["ben"]):
        assert participant.token.encode() not in body.replace(b"\r\n ", b"")
    assert b"/join/" not in body.replace(b"\r\n ", b"")


def test_personal_feed_has_only_its_participants_links(client, world):
    body = client.get(paths(world)["personal"]).data.replace(b"\r\n ", b"")
    assert f"/join/{world['online'].id}?t={world['anna'].token}".encode() in body
    assert world["ben"].token.encode() not in body
    assert b"Online teilnehmen" in body  # Anna reads German


def test_head_answers_without_a_body(client, world):
    response = client.head(paths(world)["event"])
    assert response.status_code == 200 and response.data == b""
    assert response.headers["ETag"]


# -- page helpers -----------------------------------------------------------------------------


def test_webcal_and_add_to_calendar_links(app, world):
    talk = world["talk"]
    with app.test_request_context("/?lang=en"):
        rendered = render_template_string(
            "{{ webcal_url(event_feed_url(event)) }}|{{ google_calendar_url(s, 'en') }}"
            "|{{ outlook_calendar_url(s, 'en') }}|{{ session_feed_url(s, 'ru') }}",
            event=world["event"], s=talk)
    webcal, google, outlook, single = rendered.replace("&amp;", "&").split("|")
    assert webcal == f"webcal://eventhub.test/calendars/events/{world['event'].id}.ics"
    assert single == f"http://eventhub.test/calendars/sessions/{talk.id}.ics?lang=ru"
    g = parse_qs(urlsplit(google).query)
    assert google.startswith("https://calendar.google.com/calendar/render?")
    assert g["action"] == ["TEMPLATE"] and g["text"] == ["Talk, one; two"]
    assert g["dates"] == [f"{at(10):%Y%m%dT%H%M%SZ}/{at(11):%Y%m%dT%H%M%SZ}"]
    assert g["location"] == ["Hall A"]
    assert g["details"] == [f"About twinning.\n\nhttp://eventhub.test/sessions/{talk.id}"]
    o = parse_qs(urlsplit(outlook).query)
    assert outlook.startswith("https://outlook.live.com/calendar/0/action/compose?")
    assert o["subject"] == ["Talk, one; two"]
    assert o["startdt"] == [f"{at(10):%Y-%m-%dT%H:%M:%SZ}"]
    assert o["enddt"] == [f"{at(11):%Y-%m-%dT%H:%M:%SZ}"]


def test_add_to_calendar_links_never_carry_a_join_link(app, world):
    with app.test_request_context("/"):
        for helper in (calendar_links.google_calendar_url, calendar_links.outlook_calendar_url):
            url = helper(world["online"], "ru")
            assert "join" not in url and world["anna"].token not in url
            assert "location=%D0%9E%D0%BD%D0%BB%D0%B0%D0%B9%D0%BD" in url  # "Онлайн"
