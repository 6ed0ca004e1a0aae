"""Programme import: the service, the API route and the CLI command."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask.cli import AppGroup
from icalendar import Calendar, Event
from sqlalchemy import func, select

import eventhub.api.imports  # noqa: F401 - registers the route before any app is built
from eventhub.cli.importing import import_programme_command
from eventhub.errors import BadRequest, Forbidden
from eventhub.extensions import db
from eventhub.models import Room, Session
from eventhub.services import feeds, importing
from eventhub.services import sessions as session_service
from tests.conftest import at, bearer

MOSCOW = ZoneInfo("Europe/Moscow")


def vevent(uid: str, title: str, start: datetime, minutes: int = 60, **props: str) -> Event:
    """A VEVENT with local Moscow times (TZID) and optional extra properties."""
    event = Event()
    event.add("UID", uid)
    event.add("SUMMARY", title)
    event.add("DTSTART", start.astimezone(MOSCOW))
    event.add("DTEND", (start + timedelta(minutes=minutes)).astimezone(MOSCOW))
    event.add("DTSTAMP", datetime(2030, 1, 1, tzinfo=ZoneInfo("UTC")))
    for name, value in props.items():
        event.add(name.upper(), value)
    return event


def ics(*events: Event) -> bytes:
    """A VCALENDAR of ``events``, serialized by icalendar."""
    calendar = Calendar()
    calendar.add("PRODID", "-//Programme committee//EN")
    calendar.add("VERSION", "2.0")
    for event in events:
        calendar.add_component(event)
    return calendar.to_ical()


PROGRAMME = [
    ("plenary@committee", "Plenary: opening; welcome, mayors", at(10), "Great Hall"),
    ("panel@committee", "Panel — Städtepartnerschaft", at(12), "Great Hall"),
    ("workshop@committee", "Семинар, часть 1", at(10, day=1), "Room 2"),
]


def programme(**changes: dict[str, str]) -> bytes:
    """The test programme; ``changes`` maps a UID to SUMMARY/STATUS overrides."""
    events = []
    for uid, title, start, hall in PROGRAMME:
        props = {"location": hall, "description": f"About {title}", "categories": "Main"}
        extra = dict(changes.get(uid, {}))
        title = extra.pop("summary", title)
        props.update(extra)
        events.append(vevent(uid, title, start, **props))
    return ics(*events)


@pytest.fixture
def world(create_user, create_event, create_room):
    """An organizer and a published event that already has the "Great Hall"."""
    organizer = create_user("organizer")
    event = create_event()
    create_room(event, "Great Hall")
    return organizer, event


def count_sessions(event) -> int:
    """How many sessions the event has in the database."""
    return db.session.scalar(select(func.count(Session.id)).where(Session.event_id == event.id))


# -- service ----------------------------------------------------------------------------------


def test_import_creates_sessions_and_missing_halls(world):
    organizer, event = world
    report = importing.import_programme(organizer, event, programme())
    assert len(report.created) == 3 and not report.rejected
    assert report.rooms_created == ["Room 2"]
    sessions = {s.external_uid: s for s in db.session.scalars(select(Session))}
    plenary = sessions["plenary@committee"]
    assert plenary.title == {"en": "Plenary: opening; welcome, mayors"}
    assert plenary.starts_at == at(10) and plenary.ends_at == at(11)
    assert plenary.room.name == "Great Hall" and plenary.track == "Main"
    assert sessions["workshop@committee"].room.name == "Room 2"
    assert db.session.scalar(select(func.count(Room.id))) == 2


def test_reimporting_the_same_file_changes_nothing(world):
    organizer, event = world
    first = importing.import_programme(organizer, event, programme())
    sequences = {s.id: (s.sequence, s.updated_at) for s in db.session.scalars(select(Session))}
    second = importing.import_programme(organizer, event, programme())
    assert second.created == [] and second.updated == [] and second.rejected == []
    assert sorted(second.unchanged) == sorted(first.created)
    assert second.rooms_created == []
    assert count_sessions(event) == 3
    assert {s.id: (s.sequence, s.updated_at) for s in db.session.scalars(select(Session))} \
        == sequences


def test_changed_title_updates_with_a_higher_sequence(world):
    organizer, event = world
    importing.import_programme(organizer, event, programme())
    panel = db.session.scalar(select(Session).where(Session.external_uid == "panel@committee"))
    before = panel.sequence
    report = importing.import_programme(organizer, event, programme(
        **{"panel@committee": {"summary": "Panel, renamed"}}))
    assert report.updated == [panel.id] and len(report.unchanged) == 2
    db.session.refresh(panel)
    assert panel.title["en"] == "Panel, renamed" and panel.sequence > before
    assert count_sessions(event) == 3


def test_other_languages_are_kept_on_update(world):
    organizer, event = world
    importing.import_programme(organizer, event, programme())
    panel = db.session.scalar(select(Session).where(Session.external_uid == "panel@committee"))
    session_service.update_session(organizer, panel, {"title": {**panel.title, "ru": "Панель"}})
    report = importing.import_programme(organizer, event, programme())
    assert panel.id in report.unchanged
    report = importing.import_programme(organizer, event, programme(), language="ru")
    assert panel.id in report.updated
    db.session.refresh(panel)
    assert panel.title == {"en": "Panel — Städtepartnerschaft", "ru": "Panel — Städtepartnerschaft"}


def test_session_outside_the_event_is_rejected_with_its_reason(world):
    organizer, event = world
    data = ics(vevent("early@x", "Too early", at(10, day=-3), location="Nowhere Hall"),
               vevent("fine@x", "Fine", at(9)))
    report = importing.import_programme(organizer, event, data)
    assert len(report.created) == 1
    [(uid, reason)] = report.rejected
    assert uid == "early@x" and "outside the event's dates" in reason
    assert report.rooms_created == []  # no hall made for a rejected session


def test_double_booking_is_rejected_and_the_rest_continues(world, create_session):
    organizer, event = world
    hall = db.session.scalar(select(Room).where(Room.name == "Great Hall"))
    taken = create_session(event, hall, at(12), minutes=90)
    report = importing.import_programme(organizer, event, programme())
    assert len(report.created) == 2
    [(uid, reason)] = report.rejected
    assert uid == "panel@committee"
    assert f"booked by session {taken.id}" in reason and "room_id" in reason


def test_cancelled_in_the_file_cancels_the_session(world):
    organizer, event = world
    importing.import_programme(organizer, event, programme())
    panel = db.session.scalar(select(Session).where(Session.external_uid == "panel@committee"))
    report = importing.import_programme(organizer, event, programme(
        **{"panel@committee": {"status": "CANCELLED"}}))
    assert report.updated == [panel.id]
    db.session.refresh(panel)
    assert panel.status == "cancelled" and panel.sequence == 1
    again = importing.import_programme(organizer, event, programme(
        **{"panel@committee": {"status": "CANCELLED"}}))
    assert panel.id in again.unchanged


def test_reimporting_eventhubs_own_feed_matches_by_uid(world, create_session):
    organizer, event = world
    hall = db.session.scalar(select(Room).where(Room.name == "Great Hall"))
    talk = create_session(event, hall, at(15), title={"en": "Own, talk"}, track="T",
                          description={"en": "Text."})
    online = create_session(event, hall, at(17), mode="online", title={"en": "Online"})
    exported = feeds.get_public_feed(organizer, event.id, "en").body
    report = importing.import_programme(organizer, event, exported)
    assert sorted(report.unchanged) == sorted([talk.id, online.id]), report
    assert report.created == [] and report.rejected == [] and report.rooms_created == []
    db.session.refresh(online)
    assert online.room_id == hall.id  # "Online" kept the hall


def test_recurring_and_broken_events_are_rejected(world):
    organizer, event = world
    series = vevent("series@x", "Daily", at(9))
    series.add("RRULE", {"FREQ": "DAILY", "COUNT": 3})
    report = importing.import_programme(organizer, event, ics(series, vevent("ok@x", "OK", at(9))))
    assert len(report.created) == 1
    assert report.rejected[0][0] == "series@x" and "recurring" in report.rejected[0][1]


def test_malformed_file_is_bad_request(world):
    organizer, event = world
    with pytest.raises(BadRequest):
        importing.import_programme(organizer, event, b"this is not a calendar")
    assert count_sessions(event) == 0


def test_only_organizers_import(world, create_user):
    _organizer, event = world
    with pytest.raises(Forbidden):
        importing.import_programme(create_user("moderator"), event, programme())


# -- API --------------------------------------------------------------------------------------


def test_api_import_answers_the_report(client, world, api_token):
    organizer, event = world
    headers = {**bearer(api_token(organizer)), "Content-Type": "text/calendar"}
    url = f"/api/v1/events/{event.id}/import"
    response = client.post(url, data=programme(), headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["created"]) == 3 and body["rejected"] == [] and body["updated"] == []
    again = client.post(url, data=programme(**{"panel@committee": {"summary": "New"}}),
                        headers=headers).get_json()
    assert len(again["unchanged"]) == 2 and len(again["updated"]) == 1


def test_api_import_reports_rejections(client, world, api_token):
    organizer, event = world
    data = ics(vevent("early@x", "Too early", at(10, day=-3)))
    response = client.post(f"/api/v1/events/{event.id}/import", data=data,
                           headers={**bearer(api_token(organizer)),
                                    "Content-Type": "text/calendar"})
    assert response.status_code == 200
    [rejected] = response.get_json()["rejected"]
    assert rejected["uid"] == "early@x" and "outside" in rejected["reason"]


@pytest.mark.parametrize("data", [b"garbage", b"", b"BEGIN:VEVENT\r\nEND:VEVENT\r\n"])
def test_api_malformed_file_is_400_in_the_error_shape(client, world, api_token, data):
    organizer, event = world
    response = client.post(f"/api/v1/events/{event.id}/import", data=data,
                           headers={**bearer(api_token(organizer)),
                                    "Content-Type": "text/calendar"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("who,status", [("anonymous", 401), ("moderator", 403)])
def test_api_import_is_for_organizers(client, world, api_token, create_user, who, status):
    _organizer, event = world
    headers = bearer(api_token(create_user("moderator"))) if who == "moderator" else {}
    response = client.post(f"/api/v1/events/{event.id}/import", data=programme(),
                           headers=headers)
    assert response.status_code == status
    assert count_sessions(event) == 0


def test_api_import_body_over_one_mib_is_413(client, world, api_token):
    organizer, event = world
    response = client.post(f"/api/v1/events/{event.id}/import", data=b"x" * (1024 * 1024 + 1),
                           headers={**bearer(api_token(organizer)),
                                    "Content-Type": "text/calendar"})
    assert response.status_code == 413


def test_openapi_documents_the_import_route(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/events/{event_id}/import"]["post"]
    assert "ImportReportOut" in document["components"]["schemas"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] \
        .endswith("/ImportReportOut")


# -- CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli():
    """A small command group holding the command, as the lead's ``eventhub`` group will."""
    group = AppGroup("eventhub")
    group.add_command(import_programme_command)
    return group


def test_cli_import_prints_the_report(app, world, cli, tmp_path):
    path = tmp_path / "programme.ics"
    path.write_bytes(programme() + b"")
    runner = app.test_cli_runner()
    result = runner.invoke(cli, ["import-programme", str(path), "--event", "conf"])
    assert result.exit_code == 0, result.output
    assert "created: 3" in result.output and "rejected: 0" in result.output
    assert "halls created: Room 2" in result.output
    again = runner.invoke(cli, ["import-programme", str(path), "--event", "conf"])
    assert "unchanged: 3" in again.output and "created: 0" in again.output


def test_cli_reports_rejections_with_reasons(app, world, cli, tmp_path, create_user):
    create_user("organizer", email="second@example.org")
    path = tmp_path / "programme.ics"
    path.write_bytes(ics(vevent("early@x", "Too early", at(10, day=-3))))
    result = app.test_cli_runner().invoke(
        cli, ["import-programme", str(path), "--event", "conf", "--as", "second@example.org"])
    assert result.exit_code == 0
    assert "rejected: 1" in result.output and "early@x: outside" in result.output


@pytest.mark.parametrize("case", ["missing", "malformed", "no event", "no such organizer"])
def test_cli_fails_non_zero(app, world, cli, tmp_path, case):
    path = tmp_path / "programme.ics"
    path.write_bytes(b"not a calendar" if case == "malformed" else programme())
    args = ["import-programme", str(path if case != "missing" else tmp_path / "nope.ics"),
            "--event", "nope" if case == "no event" else "conf"]
    if case == "no such organizer":
        args += ["--as", "nobody@example.org"]
    result = app.test_cli_runner().invoke(cli, args)
    assert result.exit_code != 0
    assert count_sessions(world[1]) == 0
