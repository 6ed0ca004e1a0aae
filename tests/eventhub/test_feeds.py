"""The feed service: what each feed contains, what it must never contain, and its cache."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import recurring_ical_events
from icalendar import Calendar

from calendars.build import session_uid
from eventhub.errors import NotFound
from eventhub.extensions import db
from eventhub.models import VideoRoom
from eventhub.services import agenda, feeds, participants, provisioning, switching
from eventhub.services import events as event_service
from eventhub.services import sessions as session_service
from integrations.base import RoomRequest
from integrations.jitsi import JitsiProvider
from tests.conftest import at

DOMAIN = "eventhub.test"
BASE = "http://eventhub.test"
LONG_RU = ("Пленарное заседание: «Города-побратимы, муниципальное партнёрство; опыт и "
           "перспективы»\nмодератор: глава администрации городского округа «Город Калуга»")
LONG_DE = ("Städtepartnerschaften zwischen Kaluga, Suhl; Gießen und Jena: Erfahrungsaustausch der "
           "Oberbürgermeister — Grußworte, Fragen & Antworten\n(Übersetzung)")


@pytest.fixture
def world(create_user, create_event, create_room, create_session, create_participant):
    """An organizer, a published event with two halls, four sessions, two participants."""
    organizer = create_user("organizer")
    event = create_event()
    hall_a, hall_b = create_room(event, "Hall A"), create_room(event, "Зал Б")
    plenary = create_session(event, hall_a, at(10), title={"ru": LONG_RU, "de": LONG_DE,
                                                           "en": "Plenary, part 1; opening"},
                             track="Economy")
    online = create_session(event, hall_b, at(12), mode="online", title={"en": "Online talk",
                                                                         "ru": "Онлайн-доклад"})
    hybrid = create_session(event, hall_a, at(11, day=1), mode="hybrid",
                            title={"en": "Hybrid panel"})
    workshop = create_session(event, hall_b, at(15, day=2), title={"en": "Workshop"})
    anna = create_participant(event, "Anna", language="ru")
    ben = create_participant(event, "Ben", language="de")
    for event_session in (plenary, online, hybrid):
        agenda.add_to_agenda(anna, anna, event_session)
    agenda.add_to_agenda(ben, ben, workshop)
    agenda.add_to_agenda(ben, ben, online)
    return {"organizer": organizer, "event": event, "sessions": [plenary, online, hybrid,
                                                                  workshop],
            "anna": anna, "ben": ben, "halls": (hall_a, hall_b)}


@pytest.fixture
def ready_room(world) -> str:
    """A ready Jitsi room for the online session; returns its provider URL."""
    online = world["sessions"][1]
    provider = JitsiProvider({})
    room = provider.create_room(RoomRequest(key=f"eventhub-s{online.id}-g1", title="Online talk",
                                            starts_at=online.starts_at, ends_at=online.ends_at))
    db.session.add(VideoRoom(session=online, provider="jitsi", external_id=room.external_id,
                             state="ready", data=room.data, host_data=room.host_data))
    db.session.commit()
    return room.data["url"]


def parse(body: bytes) -> dict[str, object]:
    """VEVENTs by UID."""
    return {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """Count real calls of the feed builder (the builder still runs)."""
    calls: list[int] = []
    real = feeds.build_calendar

    def counting(cal):
        """Record the call, then build for real."""
        calls.append(len(cal.sessions))
        return real(cal)

    monkeypatch.setattr(feeds, "build_calendar", counting)
    return calls


# -- contents --------------------------------------------------------------------------------


def test_public_feed_round_trips_every_instant_and_field(world):
    body = feeds.get_public_feed(None, world["event"].id, "en").body
    events = parse(body)
    assert len(events) == 4
    for event_session in world["sessions"]:
        db.session.refresh(event_session)
        vevent = events[session_uid(event_session.id, DOMAIN)]
        assert vevent["DTSTART"].dt.astimezone(UTC) == event_session.starts_at
        assert vevent["DTEND"].dt.astimezone(UTC) == event_session.ends_at
        assert vevent["DTSTART"].params["TZID"] == "Europe/Moscow"
        assert int(vevent["SEQUENCE"]) == event_session.sequence
        assert vevent["LAST-MODIFIED"].dt == event_session.updated_at.replace(microsecond=0)
        assert str(vevent["URL"]) == f"{BASE}/sessions/{event_session.id}"
        assert "CONFERENCE" not in vevent
    calendar = Calendar.from_ical(body)
    assert str(calendar["X-WR-CALNAME"]) == "Conference"
    assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Moscow"]
    plenary = events[session_uid(world["sessions"][0].id, DOMAIN)]
    assert str(plenary["SUMMARY"]) == "Plenary, part 1; opening"
    assert str(plenary["LOCATION"]) == "Hall A"
    assert plenary["CATEGORIES"].cats == ["Economy"]


@pytest.mark.parametrize("language,title,online", [
    ("ru", LONG_RU, "Онлайн"), ("de", LONG_DE, "Online"), ("en", "Plenary, part 1; opening",
                                                           "Online"),
])
def test_public_feed_text_in_the_asked_language_folded_and_escaped(world, language, title,
                                                                    online):
    body = feeds.get_public_feed(None, world["event"].id, language).body
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # RFC 5545 §3.1 octets
    events = parse(body)
    plenary = events[session_uid(world["sessions"][0].id, DOMAIN)]
    assert str(plenary["SUMMARY"]) == title
    online_session = events[session_uid(world["sessions"][1].id, DOMAIN)]
    assert str(online_session["LOCATION"]) == online
    hybrid = events[session_uid(world["sessions"][2].id, DOMAIN)]
    assert str(hybrid["LOCATION"]) == f"Hall A / {online}"


def test_public_feed_never_carries_a_join_link_token_or_provider_url(world, ready_room):
    for language in ("ru", "de", "en"):
        body = feeds.get_public_feed(None, world["event"].id, language).body
        for leak in (b"/join/", world["anna"].token.encode(), world["ben"].token.encode(),
                     ready_room.encode(), b"meet.jit.si"):
            assert leak not in body.replace(b"\r\n ", b"")


def test_personal_feed_has_own_join_links_only(world, ready_room):
    anna, ben = world["anna"], world["ben"]
    body = feeds.get_personal_feed(anna.token).body
    flat = body.replace(b"\r\n ", b"")
    assert anna.token.encode() in flat
    assert ben.token.encode() not in flat
    assert ready_room.encode() not in flat and b"meet.jit.si" not in flat
    events = parse(body)
    assert set(events) == {session_uid(s.id, DOMAIN) for s in world["sessions"][:3]}
    online = events[session_uid(world["sessions"][1].id, DOMAIN)]
    join = f"{BASE}/join/{world['sessions'][1].id}?t={anna.token}"
    assert str(online["URL"]) == join
    assert str(online["CONFERENCE"]) == join
    assert online["CONFERENCE"].params["FEATURE"] == "VIDEO"
    assert join in str(online["DESCRIPTION"])
    in_person = events[session_uid(world["sessions"][0].id, DOMAIN)]
    assert "CONFERENCE" not in in_person
    assert str(in_person["URL"]) == f"{BASE}/sessions/{world['sessions'][0].id}"
    ben_flat = feeds.get_personal_feed(ben.token).body.replace(b"\r\n ", b"")
    assert ben.token.encode() in ben_flat and anna.token.encode() not in ben_flat


def test_personal_feed_language_is_lang_else_the_participants(world):
    anna = world["anna"]  # speaks Russian
    online_uid = session_uid(world["sessions"][1].id, DOMAIN)
    assert str(parse(feeds.get_personal_feed(anna.token).body)[online_uid]["SUMMARY"]) \
        == "Онлайн-доклад"
    assert str(parse(feeds.get_personal_feed(anna.token, "en").body)[online_uid]["SUMMARY"]) \
        == "Online talk"
    assert str(parse(feeds.get_personal_feed(anna.token, "xx").body)[online_uid]["SUMMARY"]) \
        == "Онлайн-доклад"


def test_personal_feed_unknown_or_rotated_token_is_not_found(world):
    anna = world["anna"]
    old = anna.token
    feeds.get_personal_feed(old)
    participants.rotate_token(world["organizer"], anna)
    with pytest.raises(NotFound):
        feeds.get_personal_feed(old)
    with pytest.raises(NotFound):
        feeds.get_personal_feed("no-such-token")
    body = feeds.get_personal_feed(anna.token).body
    assert anna.token.encode() in body.replace(b"\r\n ", b"")


def test_session_feed_has_one_event_and_the_public_page(world, ready_room):
    online = world["sessions"][1]
    body = feeds.get_session_feed(None, online.id, "en").body
    events = parse(body)
    assert list(events) == [session_uid(online.id, DOMAIN)]
    assert str(events[session_uid(online.id, DOMAIN)]["URL"]) == f"{BASE}/sessions/{online.id}"
    assert b"/join/" not in body and ready_room.encode() not in body


def test_unpublished_event_feeds_are_not_found_for_anonymous(world):
    event = world["event"]
    event_service.update_event(world["organizer"], event, {"published": False})
    with pytest.raises(NotFound):
        feeds.get_public_feed(None, event.id, "en")
    with pytest.raises(NotFound):
        feeds.get_session_feed(None, world["sessions"][0].id, "en")
    assert feeds.get_public_feed(world["organizer"], event.id, "en").body


def test_update_keeps_uid_and_carries_higher_sequence(world):
    event, plenary = world["event"], world["sessions"][0]
    uid = session_uid(plenary.id, DOMAIN)
    before = int(parse(feeds.get_public_feed(None, event.id, "en").body)[uid]["SEQUENCE"])
    session_service.update_session(world["organizer"], plenary,
                                   {"starts_at": at(9), "ends_at": at(10)})
    after = parse(feeds.get_public_feed(None, event.id, "en").body)[uid]
    assert int(after["SEQUENCE"]) > before
    assert after["DTSTART"].dt.astimezone(UTC) == at(9)


def test_cancelled_session_stays_in_the_feed_as_cancelled(world):
    event, workshop = world["event"], world["sessions"][3]
    session_service.set_session_status(world["organizer"], workshop, "cancelled")
    events = parse(feeds.get_public_feed(None, event.id, "en").body)
    assert len(events) == 4
    vevent = events[session_uid(workshop.id, DOMAIN)]
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert int(vevent["SEQUENCE"]) == 1
    assert str(events[session_uid(world["sessions"][0].id, DOMAIN)]["STATUS"]) == "CONFIRMED"


def test_recurring_ical_events_expands_the_public_feed_at_the_db_instants(world):
    calendar = Calendar.from_ical(feeds.get_public_feed(None, world["event"].id, "en").body)
    found = recurring_ical_events.of(calendar).between(at(0, day=-1), at(0, day=4))
    assert sorted((str(e["UID"]), e["DTSTART"].dt.astimezone(UTC), e["DTEND"].dt.astimezone(UTC))
                  for e in found) == sorted(
        (session_uid(s.id, DOMAIN), s.starts_at, s.ends_at) for s in world["sessions"])
    day_two = recurring_ical_events.of(calendar).at(at(12, day=1).date())
    assert [str(e["UID"]) for e in day_two] == [session_uid(world["sessions"][2].id, DOMAIN)]


def test_dtstamp_and_bytes_are_stable_between_builds(world):
    first = feeds.get_public_feed(None, world["event"].id, "de").body
    feeds.feed_cache().clear()
    assert feeds.get_public_feed(None, world["event"].id, "de").body == first
    newest = max(s.updated_at for s in world["sessions"])
    stamp = Calendar.from_ical(first).walk("VEVENT")[0]["DTSTAMP"].dt
    assert stamp == max(newest, world["event"].updated_at).replace(microsecond=0)


def test_a_delay_moves_the_times_and_raises_the_sequence(world):
    event, plenary = world["event"], world["sessions"][0]
    uid = session_uid(plenary.id, DOMAIN)
    before = parse(feeds.get_public_feed(None, event.id, "en").body)[uid]
    session_service.set_session_status(world["organizer"], plenary, "delayed", 30)
    delayed = parse(feeds.get_public_feed(None, event.id, "en").body)[uid]
    assert delayed["DTSTART"].dt.astimezone(UTC) == at(10) + timedelta(minutes=30)
    assert delayed["DTEND"].dt.astimezone(UTC) == at(11) + timedelta(minutes=30)
    assert int(delayed["SEQUENCE"]) > int(before["SEQUENCE"])
    session_service.set_session_status(world["organizer"], plenary, "delayed", 45)
    longer = parse(feeds.get_personal_feed(world["anna"].token).body)[uid]
    assert longer["DTSTART"].dt.astimezone(UTC) == at(10) + timedelta(minutes=45)
    assert int(longer["SEQUENCE"]) > int(delayed["SEQUENCE"])
    single = parse(feeds.get_session_feed(None, plenary.id, "en").body)[uid]
    assert single["DTEND"].dt.astimezone(UTC) == at(11) + timedelta(minutes=45)


def test_every_vevent_has_the_configured_organizer(world, app):
    calendar = Calendar.from_ical(feeds.get_public_feed(None, world["event"].id, "en").body)
    assert str(calendar["METHOD"]) == "PUBLISH"
    name, email = "EventHub", "eventhub@localhost"  # MAIL_FROM's default
    assert app.config["MAIL_FROM"] == f"{name} <{email}>"
    for vevent in calendar.walk("VEVENT"):
        assert str(vevent["ORGANIZER"]) == f"mailto:{email}"
        assert vevent["ORGANIZER"].params["CN"] == name


def test_a_cancelled_hybrid_session_is_in_its_hall_and_frees_the_time(world):
    hybrid = world["sessions"][2]
    session_service.set_session_status(world["organizer"], hybrid, "cancelled")
    for body in (feeds.get_public_feed(None, world["event"].id, "en").body,
                 feeds.get_personal_feed(world["anna"].token).body):
        vevent = parse(body)[session_uid(hybrid.id, DOMAIN)]
        assert str(vevent["LOCATION"]) == "Hall A"
        assert str(vevent["TRANSP"]) == "TRANSPARENT"
        assert "CONFERENCE" not in vevent


def test_last_modified_never_goes_back_across_restarts_and_processes(world, app_config):
    from eventhub import create_app

    anna = world["anna"]
    first = feeds.get_personal_feed(anna.token)
    public = feeds.get_public_feed(None, world["event"].id, "en")
    agenda.remove_from_agenda(anna, anna, world["sessions"][0])  # leaves no newer timestamp
    session_service.delete_session(world["organizer"], world["sessions"][3])
    removed = feeds.get_personal_feed(anna.token)
    shrunk = feeds.get_public_feed(None, world["event"].id, "en")
    assert removed.last_modified > first.last_modified
    assert shrunk.last_modified > public.last_modified
    feeds.feed_cache().clear()  # a restart
    assert feeds.get_personal_feed(anna.token).last_modified == removed.last_modified
    other = create_app(app_config)  # a second process on the same database
    with other.app_context():
        assert feeds.get_personal_feed(anna.token).last_modified == removed.last_modified
        again = feeds.get_public_feed(None, world["event"].id, "en")
        assert (again.etag, again.last_modified) == (shrunk.etag, shrunk.last_modified)


# -- cache -----------------------------------------------------------------------------------


def test_warm_public_feed_does_not_rebuild(world, builds):
    event = world["event"]
    first = feeds.get_public_feed(None, event.id, "en")
    for _ in range(5):
        assert feeds.get_public_feed(None, event.id, "en") is first
    assert builds == [4]
    feeds.get_public_feed(None, event.id, "ru")  # another language is another feed
    assert builds == [4, 4]


def test_warm_personal_and_session_feeds_do_not_rebuild(world, builds):
    anna, plenary = world["anna"], world["sessions"][0]
    personal = feeds.get_personal_feed(anna.token)
    single = feeds.get_session_feed(None, plenary.id, "en")
    for _ in range(3):
        assert feeds.get_personal_feed(anna.token) is personal
        assert feeds.get_session_feed(None, plenary.id, "en") is single
    assert builds == [3, 1]


def _status_live(w):
    """Change: status live."""
    session_service.set_session_status(w["organizer"], w["sessions"][0], "live")


def _delay(w):
    """Change: delay."""
    session_service.set_session_status(w["organizer"], w["sessions"][0], "delayed", 10)


def _cancel(w):
    """Change: cancel."""
    session_service.set_session_status(w["organizer"], w["sessions"][0], "cancelled")


def _switch(w):
    """Change: switch (and the background job's room, ready: a version bump of its own)."""
    switching.switch_session(w["sessions"][0], "online", actor=w["organizer"])
    assert provisioning.dispatcher().wait(30)


def _switch_event(w):
    """Change: switch event (and the background jobs' rooms)."""
    switching.switch_event(w["event"], "online", actor=w["organizer"])
    assert provisioning.dispatcher().wait(30)


def _title(w):
    """Change: title."""
    session_service.update_session(w["organizer"], w["sessions"][0], {"title": {"en": "New"}})


def _move(w):
    """Change: move."""
    session_service.update_session(w["organizer"], w["sessions"][0],
                                   {"room_id": w["halls"][1].id, "starts_at": at(16),
                                    "ends_at": at(17)})


def _event_title(w):
    """Change: event title."""
    event_service.update_event(w["organizer"], w["event"], {"title": {"en": "Renamed"}})


def _delete(w):
    """Change: delete."""
    session_service.delete_session(w["organizer"], w["sessions"][0])


def _add(w):
    """Change: add."""
    session_service.create_session(w["organizer"], w["event"], {
        "title": {"en": "Late addition"}, "starts_at": at(18), "ends_at": at(19)})


# Changes a calendar shows: a new ETag. Going live shows in no iCalendar property (only
# LAST-MODIFIED, to the second), so for it the feed is rebuilt but may keep its bytes.
CHANGES: list[tuple[str, Callable, bool]] = [
    ("status", _status_live, False), ("delay", _delay, True), ("cancel", _cancel, True),
    ("switch", _switch, True), ("switch event", _switch_event, True), ("title", _title, True),
    ("move", _move, True), ("event title", _event_title, True), ("delete", _delete, True),
    ("create", _add, True),
]


@pytest.mark.parametrize("change,visible", [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES])
def test_every_change_rebuilds_the_public_feed(world, builds, change, visible):
    event = world["event"]
    before = feeds.get_public_feed(None, event.id, "en")
    state = feeds.public_state(event.id)
    change(world)
    assert feeds.public_state(event.id) != state
    after = feeds.get_public_feed(None, event.id, "en")
    assert len(builds) == 2
    assert (after.etag != before.etag) == (after.body != before.body)
    if visible:
        assert after.etag != before.etag
    assert after.last_modified >= before.last_modified
    assert feeds.get_public_feed(None, event.id, "en") is after  # and warm again


def test_no_op_update_keeps_the_cached_feed(world, builds):
    event, plenary = world["event"], world["sessions"][0]
    before = feeds.get_public_feed(None, event.id, "en")
    session_service.update_session(world["organizer"], plenary, {"track": plenary.track})
    session_service.set_session_status(world["organizer"], plenary, "scheduled")
    assert feeds.get_public_feed(None, event.id, "en") is before
    assert len(builds) == 1


def _agenda_add(w):
    """Change: agenda add."""
    agenda.add_to_agenda(w["anna"], w["anna"], w["sessions"][3])


def _agenda_remove(w):
    """Change: agenda remove."""
    agenda.remove_from_agenda(w["anna"], w["anna"], w["sessions"][0])


def _agenda_session_switch(w):
    """Change: agenda session switch."""
    switching.switch_session(w["sessions"][0], "hybrid", actor=w["organizer"])


def _agenda_session_cancel(w):
    """Change: agenda session cancel."""
    session_service.set_session_status(w["organizer"], w["sessions"][1], "cancelled")


PERSONAL_CHANGES = [("agenda add", _agenda_add), ("agenda remove", _agenda_remove),
                    ("switch", _agenda_session_switch), ("cancel", _agenda_session_cancel),
                    ("event title", _event_title), ("title", _title)]


@pytest.mark.parametrize("change", [c for _, c in PERSONAL_CHANGES],
                         ids=[n for n, _ in PERSONAL_CHANGES])
def test_every_change_gives_the_personal_feed_a_new_etag(world, builds, change):
    anna = world["anna"]
    before = feeds.get_personal_feed(anna.token)
    change(world)
    after = feeds.get_personal_feed(anna.token)
    assert after.etag != before.etag
    assert after.last_modified >= before.last_modified
    assert len(builds) == 2


def test_removal_moves_last_modified_on(world):
    anna = world["anna"]
    before = feeds.get_personal_feed(anna.token)
    agenda.remove_from_agenda(anna, anna, world["sessions"][0])
    after = feeds.get_personal_feed(anna.token)
    assert after.last_modified > before.last_modified


def test_changes_elsewhere_leave_the_personal_feed_as_it_was(world, builds):
    anna, ben = world["anna"], world["ben"]
    before = feeds.get_personal_feed(anna.token)
    agenda.add_to_agenda(ben, ben, world["sessions"][0])
    assert feeds.get_personal_feed(anna.token) is before  # another agenda: still cached
    session_service.update_session(world["organizer"], world["sessions"][3],
                                   {"title": {"en": "Not on Anna's agenda"}})
    after = feeds.get_personal_feed(anna.token)  # the programme moved: rebuilt, same bytes
    assert (after.etag, after.last_modified) == (before.etag, before.last_modified)
    assert len(builds) == 2


def test_a_renamed_hall_reaches_the_personal_feed(world):
    anna, hall = world["anna"], world["halls"][0]
    before = feeds.get_personal_feed(anna.token)
    hall.name = "Great Hall"
    db.session.commit()
    after = feeds.get_personal_feed(anna.token)
    assert b"Great Hall" in after.body and after.etag != before.etag


def test_session_feed_changes_with_its_session_only(world, builds):
    plenary, workshop = world["sessions"][0], world["sessions"][3]
    before = feeds.get_session_feed(None, plenary.id, "en")
    session_service.update_session(world["organizer"], workshop, {"title": {"en": "Other"}})
    assert feeds.get_session_feed(None, plenary.id, "en") is before
    _cancel(world)
    assert feeds.get_session_feed(None, plenary.id, "en").etag != before.etag
    assert len(builds) == 2


def test_cache_is_bounded_by_bytes():
    cache = feeds.FeedCache(max_bytes=10)
    stamp = datetime(2030, 1, 1, tzinfo=UTC)

    def make(body: bytes) -> Callable:
        """A builder returning a feed of ``body``."""
        return lambda: feeds.Feed(body, f'"{body!r}"', stamp, "x.ics", True)

    cache.fetch("a", 1, make(b"aaaa"))
    cache.fetch("b", 1, make(b"bbbb"))
    cache.fetch("c", 1, make(b"cccc"))
    assert len(cache) == 2  # "a" evicted: 12 bytes would not fit
    cache.fetch("d", 1, make(b"dddddddd"))
    assert len(cache) == 1
    assert cache.fetch("d", 1, make(b"zz")).body == b"dddddddd"  # warm
    assert cache.fetch("d", 2, make(b"zz")).body == b"zz"  # another state: rebuilt
    assert cache.fetch("e", 1, make(b"e" * 11)).body == b"e" * 11  # too large: served
    assert cache.fetch("e", 1, make(b"again")).body == b"again"  # ... not kept


def test_last_modified_is_whole_seconds_utc(world):
    feed = feeds.get_public_feed(None, world["event"].id, "en")
    assert feed.last_modified.microsecond == 0
    assert feed.last_modified.utcoffset() == timedelta(0)
    assert feed.etag.startswith('"') and len(feed.etag) == 66


def test_under_gevent_the_calendar_is_serialized_off_the_event_loop(monkeypatch):
    """The CPU-bound serialization runs in another OS thread, and gives the same bytes."""
    import threading

    from calendars.model import FeedCalendar
    from eventhub.extensions import socketio
    from eventhub.services import feeds as feed_service

    cal = FeedCalendar(name="Test", timezone="Europe/Moscow")
    threads = []
    real = feed_service.build_calendar

    def recording(calendar):
        threads.append(threading.get_ident())
        return real(calendar)

    monkeypatch.setattr(feed_service, "build_calendar", recording)
    plain = feed_service.render(cal)
    monkeypatch.setattr(socketio, "async_mode", "gevent", raising=False)
    offloaded = feed_service.render(cal)
    assert offloaded == plain
    assert threads[0] == threading.get_ident() and threads[1] != threading.get_ident()
