"""Events and halls in the back office: create, settings, publish; add, rename, delete halls.
Every rejected form is shown again with the message beside its field, and nothing changes."""

from __future__ import annotations

import pytest

from eventhub.extensions import db
from eventhub.models import Event, Room, Session
from tests.conftest import START, at, bearer
from tests.eventhub.manage_support import field_errors, post, sign_in

GOOD = {"slug": "twin-cities", "title.ru": "Города-побратимы", "title.de": "Partnerstädte",
        "title.en": "Twin cities", "description.en": "Three days", "timezone": "Europe/Moscow",
        "start_date": START.isoformat(), "end_date": "2030-06-30", "venue": "Kaluga",
        "default_provider": "jitsi", "fallback_provider": "", "join_window_minutes": "20"}


def events(app) -> list[dict]:
    with app.app_context():
        return [{"slug": e.slug, "title": e.title, "published": e.published,
                 "version": e.programme_version} for e in db.session.query(Event)]


def test_create_an_event_then_on_to_its_halls(app):
    organizer = sign_in(app)
    response = post(organizer, "/manage/events/new", GOOD)
    assert response.status_code == 303
    with app.app_context():
        event = db.session.query(Event).one()
        assert response.location == f"/manage/events/{event.id}/rooms"
        assert event.title == {"ru": "Города-побратимы", "de": "Partnerstädte",
                               "en": "Twin cities"}
        assert event.description == {"en": "Three days"}
        assert (event.timezone, event.venue, event.join_window_minutes) == (
            "Europe/Moscow", "Kaluga", 20)
        assert event.fallback_provider is None and not event.published
    listing = organizer.get("/manage").get_data(as_text=True)
    assert "Twin cities" in listing and "twin-cities" in listing


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"slug": "Not A Slug"}, "f-slug", "Use lower-case Latin letters, digits and hyphens."),
    ({"slug": ""}, "f-slug", "This field is required."),
    ({"title.ru": "", "title.de": "", "title.en": ""}, "f-title",
     "Give a title in at least one language."),
    ({"timezone": "Mars/Olympus"}, "f-timezone", "Unknown time zone: choose one from the list."),
    ({"timezone": "localtime"}, "f-timezone", "Unknown time zone: choose one from the list."),
    ({"end_date": "2030-06-01"}, "f-end-date", "The event cannot end before it starts."),
    ({"start_date": "28.06.2030"}, "f-start-date", "Enter a date."),
    ({"join_window_minutes": "-5"}, "f-join-window-minutes", "At least 0."),
    ({"join_window_minutes": "soon"}, "f-join-window-minutes", "Enter a whole number."),
    ({"default_provider": "zoom"}, "f-default-provider", "Not available here."),
    ({"title.en": "x" * 5001}, "f-title-en", "Too long: at most 5000 characters."),
    ({"venue": "bad\x00venue"}, "f-venue", "Contains a character that is not allowed."),
])
def test_a_rejected_event_form_says_why_beside_the_field(app, changes, field, message):
    organizer = sign_in(app)
    response = post(organizer, "/manage/events/new", {**GOOD, **changes})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert field_errors(html)[field].startswith(message)
    assert 'aria-invalid="true"' in html
    assert "Nothing was saved." in html
    assert events(app) == []
    for name, value in changes.items():  # the organizer's input is shown again
        if value and "\x00" not in value and len(value) < 100 and not name.startswith("title"):
            assert f'value="{value}"' in html


def test_a_taken_slug_is_409_beside_the_slug(app):
    organizer = sign_in(app)
    post(organizer, "/manage/events/new", GOOD)
    response = post(organizer, "/manage/events/new", {**GOOD, "title.en": "Another"})
    assert response.status_code == 409
    assert field_errors(response.get_data(as_text=True)) == {"f-slug": "This is already taken."}
    assert len(events(app)) == 1


def test_settings_change_the_event_and_publish_it(app):
    organizer = sign_in(app)
    post(organizer, "/manage/events/new", GOOD)
    with app.app_context():
        event_id = db.session.query(Event).one().id
    path = f"/manage/events/{event_id}"
    page = organizer.get(path).get_data(as_text=True)
    assert 'value="Города-побратимы"' in page and 'list="zones"' in page
    assert '<option value="Europe/Berlin">' in page  # the searchable zone list
    response = post(organizer, path, {**GOOD, "title.en": "Partner cities", "venue": "Suhl",
                                      "timezone": "Europe/Berlin", "published": "1"})
    assert response.status_code == 303
    with app.app_context():
        event = db.session.get(Event, event_id)
        assert (event.title["en"], event.venue, event.timezone, event.published) == (
            "Partner cities", "Suhl", "Europe/Berlin", True)
    assert post(organizer, f"{path}/publish", {"published": "0"}).status_code == 303
    assert events(app)[0]["published"] is False
    assert post(organizer, f"{path}/publish", {"published": "1"}).status_code == 303
    assert events(app)[0]["published"] is True
    assert app.test_client().get("/events/twin-cities").status_code == 200


def add_session(app, event_id: int, room_id: int | None = None, **kwargs) -> int:
    """A session on the event's third day at 10:00 Moscow time."""
    with app.app_context():
        event_session = Session(event_id=event_id, room_id=room_id, title={"en": "Plenary"},
                                starts_at=at(10, day=2), ends_at=at(11, day=2), **kwargs)
        db.session.add(event_session)
        db.session.commit()
        return event_session.id


def test_settings_refuse_dates_that_strand_sessions(app):
    organizer = sign_in(app)
    post(organizer, "/manage/events/new", GOOD)
    with app.app_context():
        event_id = db.session.query(Event).one().id
    add_session(app, event_id)
    before = events(app)
    response = post(organizer, f"/manage/events/{event_id}", {**GOOD, "end_date": "2030-06-29"})
    assert response.status_code == 409
    assert field_errors(response.get_data(as_text=True))["f-end-date"].startswith(
        "Sessions of the event would fall outside")
    assert events(app) == before


# -- halls ------------------------------------------------------------------------------------


@pytest.fixture
def event_id(app):
    organizer = sign_in(app)
    post(organizer, "/manage/events/new", GOOD)
    with app.app_context():
        return db.session.query(Event).one().id


def halls(app) -> list[tuple]:
    with app.app_context():
        return sorted((r.name, r.capacity) for r in db.session.query(Room))


def test_add_rename_resize_and_delete_a_hall(app, event_id):
    organizer = sign_in(app)
    path = f"/manage/events/{event_id}/rooms"
    assert post(organizer, path, {"name": "Большой зал", "capacity": "300"}).status_code == 303
    assert post(organizer, path, {"name": "Saal B", "capacity": ""}).status_code == 303
    assert halls(app) == [("Saal B", None), ("Большой зал", 300)]
    with app.app_context():
        room_id = db.session.query(Room).filter_by(name="Saal B").one().id
    response = post(organizer, f"/manage/rooms/{room_id}", {"name": "Saal Suhl",
                                                            "capacity": "80"})
    assert response.status_code == 303
    assert halls(app) == [("Saal Suhl", 80), ("Большой зал", 300)]
    assert post(organizer, f"/manage/rooms/{room_id}/delete").status_code == 303
    assert halls(app) == [("Большой зал", 300)]


@pytest.mark.parametrize(("data", "field", "message", "status"), [
    ({"name": "", "capacity": "10"}, "name", "This field is required.", 422),
    ({"name": "Hall", "capacity": "many"}, "capacity", "Enter a whole number.", 422),
    ({"name": "Hall", "capacity": "-1"}, "capacity", "At least 0.", 422),
    ({"name": "Main", "capacity": "10"}, "name", "This is already taken.", 409),
])
def test_a_rejected_hall_form_says_why_and_changes_nothing(app, event_id, data, field,
                                                           message, status):
    organizer = sign_in(app)
    path = f"/manage/events/{event_id}/rooms"
    post(organizer, path, {"name": "Main", "capacity": "5"})
    post(organizer, path, {"name": "Side", "capacity": "5"})
    before = halls(app)
    response = post(organizer, path, data)  # the add form
    assert response.status_code == status
    assert field_errors(response.get_data(as_text=True)) == {f"f-{field}": message}
    with app.app_context():
        side = db.session.query(Room).filter_by(name="Side").one().id
    response = post(organizer, f"/manage/rooms/{side}", data)  # the hall's own form
    if data["name"] == "Main" or data["name"] == "":
        assert response.status_code == status
    html = response.get_data(as_text=True)
    if response.status_code != 303:
        assert field_errors(html) == {f"room-{side}-{field}": message}
    assert halls(app) == before


def test_a_hall_in_use_is_not_deleted_and_the_page_says_by_what(app, event_id):
    organizer = sign_in(app)
    post(organizer, f"/manage/events/{event_id}/rooms", {"name": "Main", "capacity": "5"})
    with app.app_context():
        room_id = db.session.query(Room).one().id
    add_session(app, event_id, room_id, status="cancelled")
    page = organizer.get(f"/manage/rooms/{room_id}/delete").get_data(as_text=True)
    assert "cannot be deleted" in page and "Plenary" in page
    assert 'class="danger"' not in page  # no delete button to press
    response = post(organizer, f"/manage/rooms/{room_id}/delete")
    assert response.status_code == 409
    assert halls(app) == [("Main", 5)]


def test_the_api_renames_and_deletes_halls_too(app, client, create_user, api_token,
                                              create_event, create_room, create_session):
    token = api_token(create_user("organizer"))
    event = create_event()
    used, free = create_room(event, "Used"), create_room(event, "Free")
    create_session(event, room=used)
    response = client.patch(f"/api/v1/rooms/{free.id}", json={"name": "Renamed",
                                                              "capacity": 7},
                            headers=bearer(token))
    assert response.status_code == 200
    assert response.json == {"id": free.id, "event_id": event.id, "name": "Renamed",
                             "capacity": 7}
    response = client.patch(f"/api/v1/rooms/{free.id}", json={"name": "Used"},
                            headers=bearer(token))
    assert response.status_code == 409
    response = client.delete(f"/api/v1/rooms/{used.id}", headers=bearer(token))
    assert response.status_code == 409 and response.json["error"]["code"] == "room_in_use"
    assert client.delete(f"/api/v1/rooms/{free.id}", headers=bearer(token)).status_code == 204
    assert [r.name for r in db.session.query(Room)] == ["Used"]
    moderator = api_token(create_user("moderator"))
    assert client.delete(f"/api/v1/rooms/{used.id}",
                         headers=bearer(moderator)).status_code == 403
    assert client.delete(f"/api/v1/rooms/{used.id}").status_code == 401


def test_renaming_a_hall_bumps_its_sessions_calendar_sequence(ctx, create_user, create_event,
                                                              create_room, create_session):
    from eventhub.services import events as event_service

    organizer = create_user("organizer")
    event = create_event()
    room = create_room(event)
    event_session = create_session(event, room=room)
    before = event_session.sequence
    event_service.update_room(organizer, room, {"capacity": 5})
    assert event_session.sequence == before  # capacity is not in any calendar
    event_service.update_room(organizer, room, {"name": "Renamed"})
    assert db.session.get(Session, event_session.id).sequence == before + 1
