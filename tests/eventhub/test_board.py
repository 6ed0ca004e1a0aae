"""The operations board (/console): what a whole-event switch will do, the board's filters, and
every action's handler with its access matrix, its confirmation and its plain-form fallback."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lifecycle_support import sandbox_settings, wait_jobs
from pages_support import csrf, custom_properties, local_day, login, session_ids

from eventhub.extensions import db
from eventhub.models import Mode, Session, Status, VideoRoom, utcnow
from eventhub.services import switching
from tests.browser.world import World

STATIC = Path(__file__).resolve().parents[2] / "eventhub" / "static"
PAST = datetime(2020, 3, 2, 9, 0, tzinfo=UTC)


def signed_in(app, who: str | None):
    """A client signed in as ``who`` (None: anonymous) and a CSRF token for its forms."""
    client = app.test_client()
    if who:
        login(client, who)
    return client, csrf(client.get("/login").get_data(as_text=True))


def state(app, session_id: int) -> tuple[str, str, int]:
    with app.app_context():
        event_session = db.session.get(Session, session_id)
        return event_session.status, event_session.mode, event_session.delay_minutes


# -- preview_event_switch -------------------------------------------------------------------


def test_preview_names_what_moves_and_what_stays(create_event, create_room, create_session):
    event = create_event()
    hall = create_room(event)
    later = create_session(event, hall)  # 2030: ahead
    past = create_session(event, hall, start=PAST)  # its expected end has passed
    ended = create_session(event, hall, status=Status.ENDED)
    cancelled = create_session(event, hall, status=Status.CANCELLED)
    online = create_session(event, hall, mode=Mode.ONLINE)
    failed = create_session(event, hall, mode=Mode.ONLINE)
    db.session.add_all([
        VideoRoom(session=online, provider="jitsi", state="ready", data={}, host_data={}),
        VideoRoom(session=failed, provider="jitsi", state="failed", last_error="HTTP 400",
                  data={}, host_data={}),
    ])
    db.session.commit()

    preview = switching.preview_event_switch(event, Mode.ONLINE, utcnow())
    ids = {name: {s.id for s in getattr(preview, name)}
           for name in ("moving", "over", "unchanged", "retried")}
    assert ids == {"moving": {later.id}, "over": {past.id, ended.id, cancelled.id},
                   "unchanged": {online.id, failed.id}, "retried": {failed.id}}
    back = switching.preview_event_switch(event, Mode.IN_PERSON, utcnow())
    assert {s.id for s in back.moving} == {online.id, failed.id}
    assert {s.id for s in back.unchanged} == {later.id}


def test_preview_follows_the_clock_and_a_delay(create_event, create_room, create_session):
    event = create_event()
    talk = create_session(event, create_room(event), start=PAST, minutes=60)
    at_end = PAST + timedelta(minutes=60)
    assert switching.preview_event_switch(event, Mode.ONLINE, at_end).over == [talk]
    talk.delay_minutes, talk.status = 30, Status.DELAYED
    db.session.commit()
    assert switching.preview_event_switch(event, Mode.ONLINE, at_end).moving == [talk]


def test_whole_event_switch_does_what_the_preview_said(create_user, create_event, create_room,
                                                       create_session):
    organizer = create_user("organizer")
    event = create_event()
    hall = create_room(event)
    ahead = [create_session(event, hall, start=datetime(2030, 6, 28, 7 + n, tzinfo=UTC))
             for n in range(3)]
    past = create_session(event, hall, start=PAST)  # a session over by the clock
    preview = switching.preview_event_switch(event, Mode.ONLINE, utcnow())
    moved = switching.switch_event(event, Mode.ONLINE, actor=organizer)
    assert {s.id for s in moved} == {s.id for s in preview.moving} == {s.id for s in ahead}
    wait_jobs()
    assert db.session.get(Session, past.id).mode == Mode.IN_PERSON
    assert db.session.get(Session, past.id).video_room is None  # no room made for it


def test_preview_refuses_an_unknown_mode(create_event):
    from eventhub.errors import Invalid

    with pytest.raises(Invalid):
        switching.preview_event_switch(create_event(), "underwater", utcnow())


# -- the board page ------------------------------------------------------------------------


def test_board_shows_the_days_halls_and_the_summary(app, world):
    client, _token = signed_in(app, world.organizer)
    html = client.get(f"/console?lang=en&day={local_day(app, world.tomorrow_id)}").get_data(
        as_text=True)
    timeline = html.split('data-timeline', 1)[1]
    day = local_day(app, world.tomorrow_id)
    everyone = (world.now_id, world.soon_id, world.ready_id, world.failed_id,
                world.tomorrow_id, world.cancelled_id)
    assert {int(i) for i in re.findall(r'<article[^>]*id="s(\d+)"', timeline)} == {
        sid for sid in everyone if local_day(app, sid) == day}
    for hall in ("A-101", "B-202", "C-303"):  # a row per hall, for organizers
        assert f">{hall}</h3>" in timeline
    # The summary counts every session in scope, whatever the day shown.
    assert session_ids(html.split("data-timeline", 1)[0]) >= {world.now_id, world.tomorrow_id}
    assert re.search(r'Rooms ready: <b data-sum="ready">1</b>', html)
    assert re.search(r'failed: <b data-sum="failed">1</b>', html)
    assert re.search(r'Remote attendees: <b>1</b>', html)  # Anna
    assert 'data-presence-event="' in html


@pytest.mark.parametrize(("query", "expected"), [
    ("view=problems", {"failed"}),  # the failed room (not over); nothing else needs attention
    ("view=all&hall=HALL_B", {"ready", "failed"}),
    ("hall=not-a-number", None),  # a bad filter falls back to all halls
    ("day=2099-01-01", None),  # a day outside the event falls back to today
])
def test_board_filters(app, world, query, expected):
    client, _token = signed_in(app, world.moderator)
    with app.app_context():
        hall_b = db.session.get(Session, world.ready_id).room_id
    day = local_day(app, world.failed_id)
    query = query.replace("HALL_B", str(hall_b))
    if "day=" not in query:
        query += f"&day={day}"
    response = client.get(f"/console?{query}")
    assert response.status_code == 200
    timeline = response.get_data(as_text=True).split("data-timeline", 1)[1]
    shown = {int(i) for i in re.findall(r'<article[^>]*id="s(\d+)"', timeline)}
    names = {"now": world.now_id, "soon": world.soon_id, "ready": world.ready_id,
             "failed": world.failed_id}
    if expected is None:
        assert shown  # the moderator's sessions of the default day or of the asked one
        assert shown <= set(names.values())
    else:  # the world is built around the clock: near midnight in Moscow, "later" is tomorrow
        assert shown == {names[n] for n in expected if local_day(app, names[n]) == day}


def test_now_and_next_shows_the_running_and_the_next_per_hall(app, world):
    client, _token = signed_in(app, world.moderator)
    html = client.get(f"/console?view=now&day={local_day(app, world.now_id)}").get_data(
        as_text=True)
    shown = {int(i) for i in re.findall(r'<article[^>]*id="s(\d+)"',
                                        html.split("data-timeline", 1)[1])}
    # running now + the next; B-202: the live one + the next (on the same day only).
    assert {world.now_id, world.ready_id} <= shown
    assert world.tomorrow_id not in shown


def test_board_pages_need_no_inline_script_or_style(app, world):
    client, _token = signed_in(app, world.organizer)
    for path in ("/console", f"/console/events/{world.event_id}/switch?mode=online"):
        html = client.get(path).get_data(as_text=True)
        assert " style=" not in html, path
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
    # The confirmation of an end, too.
    html = client.post(f"/console/sessions/{world.ready_id}/status",
                       data={"status": "ended", "csrf_token": csrf(html)}).get_data(as_text=True)
    assert " style=" not in html and "<script>" not in html


def test_board_stylesheet_uses_only_the_checked_colours():

    css = (STATIC / "board.css").read_text()
    assert not re.findall(r"#[0-9a-fA-F]{3,6}\b", css), "colours belong in style.css's :root"
    assert not re.findall(r"\brgba?\(|\bhsla?\(", css)
    assert set(re.findall(r"var\(--([\w-]+)\)", css)) - {
        "start", "span", "lane", "lanes", "at", "now", "label"} <= set(custom_properties())
    assert ":focus-visible" not in css or "outline" in css  # focus stays style.css's


def test_board_strings_are_translated(app, world):
    for lang, words in (("ru", ("Пульт управления", "Все залы", "Удалённые участники")),
                        ("de", ("Leitstand", "Alle Säle", "Teilnehmende aus der Ferne"))):
        client, _token = signed_in(app, world.organizer)
        html = client.get(f"/console?lang={lang}").get_data(as_text=True)
        for word in words:
            assert word in html, (lang, word)
        for english in ("Operations board", "All halls", "Remote attendees", "Whole event"):
            assert english not in html, (lang, english)


# -- actions: access matrix ------------------------------------------------------------------

WHO = {"anonymous": None, "other moderator": "other_moderator", "moderator": "moderator",
       "organizer": "organizer"}


def who(world: World, name: str) -> str | None:
    attr = WHO[name]
    return getattr(world, attr) if attr else None


@pytest.mark.parametrize(("name", "allowed"), [("anonymous", False), ("other moderator", False),
                                               ("moderator", True), ("organizer", True)])
@pytest.mark.parametrize("action", ["online", "hybrid", "in_person", "live", "delayed",
                                    "paused", "ended", "cancelled"])
def test_session_actions_access_matrix(app, world, name, allowed, action):
    client, token = signed_in(app, who(world, name))
    sid = world.ready_id  # live, online, its room ready, moderated by `moderator`
    before = state(app, sid)
    if action in ("online", "hybrid", "in_person"):
        path, data = f"/console/sessions/{sid}/switch", {"mode": action}
    else:
        path, data = f"/console/sessions/{sid}/status", {"status": action, "confirmed": "1"}
        if action == "delayed":
            data["delay_minutes"] = "15"
    if action == "live":  # already live: go through a pause first, so live is a change
        data["status"] = "paused"
    response = client.post(path, data={**data, "csrf_token": token})
    after = state(app, sid)
    if name == "anonymous":
        assert response.status_code == 302 and "/login" in response.location
        assert after == before
        return
    assert response.status_code == 303
    assert response.location.startswith("/console#s") or response.location.startswith(
        f"/console#s{sid}")
    if not allowed:
        assert after == before
        page = client.get("/console?lang=en").get_data(as_text=True)
        assert "Not done: You may not do this." in page
        return
    status, mode, delay = after
    if action in ("online", "hybrid", "in_person"):
        assert mode == action
    elif action == "delayed":  # live cannot be delayed: refused with a reason, nothing changes
        assert after == before
        assert "Not done: This change is not possible" in client.get("/console?lang=en").get_data(
            as_text=True)
    else:
        assert status == data["status"]


def test_ending_and_cancelling_ask_first_without_javascript(app, world):
    client, token = signed_in(app, world.moderator)
    sid = world.ready_id
    for status, question, yes in (("ended", "ends now", "Yes, end it"),
                                  ("cancelled", "is cancelled", "Yes, cancel it")):
        back = f"/console?day={local_day(app, sid)}&view=all"
        response = client.post(f"/console/sessions/{sid}/status?lang=en", data={
            "status": status, "csrf_token": token, "back": back})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert question in page and yes in page and "Twin towns online" in page
        assert 'name="confirmed" value="1"' in page
        assert f'href="{back.replace("&", "&amp;")}#s{sid}"' in page  # "no" goes back there
        assert state(app, sid)[0] == "live"  # nothing changed yet
    response = client.post(f"/console/sessions/{sid}/status", data={
        "status": "ended", "confirmed": "1", "csrf_token": token, "back": back})
    assert response.status_code == 303 and response.location == f"{back}#s{sid}"
    assert state(app, sid)[0] == "ended"


def test_confirmation_page_is_refused_to_other_moderators(app, world):
    client, token = signed_in(app, world.other_moderator)
    response = client.post(f"/console/sessions/{world.ready_id}/status",
                           data={"status": "cancelled", "csrf_token": token})
    assert response.status_code == 403
    assert state(app, world.ready_id)[0] == "live"


def test_back_never_leaves_the_board(app, world):
    client, token = signed_in(app, world.moderator)
    for back in ("https://evil.example/console?x", "//evil.example/console?", "/console?\\x",
                 "/manage?x"):
        response = client.post(f"/console/sessions/{world.now_id}/switch", data={
            "mode": "hybrid", "csrf_token": token, "back": back})
        assert response.location == f"/console#s{world.now_id}", back


@pytest.mark.parametrize(("name", "get_status", "post_status"), [
    ("anonymous", 302, 302), ("other moderator", 403, 403), ("moderator", 403, 403),
    ("organizer", 200, 303)])
def test_whole_event_switch_access_matrix(app, world, name, get_status, post_status):
    client, token = signed_in(app, who(world, name))
    path = f"/console/events/{world.event_id}/switch"
    assert client.get(f"{path}?mode=online").status_code == get_status
    preview = client.get(f"/console/events/{world.event_id}/preview?mode=online")
    assert preview.status_code == {302: 401}.get(get_status, get_status)
    assert preview.is_json
    response = client.post(path, data={"mode": "online", "csrf_token": token})
    assert response.status_code == post_status
    with app.app_context():
        mode = db.session.get(Session, world.tomorrow_id).mode
    assert mode == ("online" if name == "organizer" else "in_person")


def test_whole_event_preview_json_and_bad_mode(app, world):
    client, token = signed_in(app, world.organizer)
    body = client.get(f"/console/events/{world.event_id}/preview?mode=online&lang=en").get_json()
    assert (body["moving"], body["over"], body["unchanged"], body["retried"]) == (3, 1, 2, 1)
    assert body["lines"][0] == "3 sessions move online."
    assert body["confirm"] == "Yes, move 3 sessions"
    de = client.get(f"/console/events/{world.event_id}/preview?mode=in_person&lang=de").get_json()
    assert de["lines"][0].startswith("2 Sitzungen finden wieder vor Ort statt")
    assert client.get(f"/console/events/{world.event_id}/preview?mode=x").status_code == 400
    response = client.post(f"/console/events/{world.event_id}/switch",
                           data={"mode": "underwater", "csrf_token": token})
    assert response.status_code == 400
    assert state(app, world.tomorrow_id)[1] == "in_person"


def test_whole_event_switch_flashes_and_returns_to_the_day(app, world):
    client, token = signed_in(app, world.organizer)
    back = f"/console?day={local_day(app, world.tomorrow_id)}"
    response = client.post(f"/console/events/{world.event_id}/switch",
                           data={"mode": "hybrid", "csrf_token": token, "back": back})
    assert response.status_code == 303 and response.location == back
    assert "5 sessions moved: hybrid." in client.get(back + "&lang=en").get_data(as_text=True)


# -- the provider choice --------------------------------------------------------------------


@pytest.fixture
def app_config(app_config, sandbox):
    """Every provider configured against the loopback sandbox."""
    return {**app_config, **sandbox_settings(sandbox)}


def test_switch_offers_the_configured_providers_and_uses_the_one_chosen(app, world, sandbox):
    client, token = signed_in(app, world.moderator)
    html = client.get(f"/console?day={local_day(app, world.now_id)}").get_data(as_text=True)
    card = html.split(f'id="s{world.now_id}"', 1)[1].split("</article>", 1)[0]
    options = re.findall(r'<option value="(\w+)"', card)
    assert {"jitsi", "zoom", "daily", "whereby", "bigbluebutton", "teams"} <= set(options)
    response = client.post(f"/console/sessions/{world.now_id}/switch",
                           data={"mode": "online", "provider": "daily", "csrf_token": token})
    assert response.status_code == 303
    with app.app_context():
        wait_jobs()
        room = db.session.get(Session, world.now_id).video_room
        assert (room.provider, room.state) == ("daily", "ready")
    # An unknown provider is refused with the reason, and nothing changes.
    client.post(f"/console/sessions/{world.soon_id}/switch",
                data={"mode": "online", "provider": "skype", "csrf_token": token})
    assert "Not done: Please check the values you entered." in client.get(
        "/console?lang=en").get_data(as_text=True)
    assert state(app, world.soon_id)[1] == "in_person"


def test_retry_of_a_failed_room_uses_its_provider(app, world, sandbox):
    client, token = signed_in(app, world.moderator)
    html = client.get(f"/console?day={local_day(app, world.failed_id)}").get_data(as_text=True)
    card = html.split(f'id="s{world.failed_id}"', 1)[1].split("</article>", 1)[0]
    retry = card.split("data-retry", 1)[1].split("</form>", 1)[0]
    assert 'name="mode" value="online"' in retry and 'name="provider" value="jitsi"' in retry
    client.post(f"/console/sessions/{world.failed_id}/switch",
                data={"mode": "online", "provider": "jitsi", "csrf_token": token})
    with app.app_context():
        wait_jobs()
        room = db.session.get(Session, world.failed_id).video_room
        assert (room.provider, room.state, room.last_error) == ("jitsi", "ready", None)


def test_organizers_choose_the_event_on_the_board(app, world):
    with app.app_context():
        from eventhub.models import Event

        other = Event(slug="second", published=True, timezone="Europe/Berlin",
                      title={"en": "Second conference"}, start_date=PAST.date(),
                      end_date=PAST.date(), venue="Suhl", default_provider="jitsi")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    client, _token = signed_in(app, world.organizer)
    html = client.get("/console?lang=en").get_data(as_text=True)
    assert '<select id="f-event" name="event">' in html and "Second conference" in html
    html = client.get(f"/console?lang=en&event={other_id}").get_data(as_text=True)
    assert "Times in Europe/Berlin." in html and session_ids(html) == set()
    # A moderator's board has only the events they moderate in: no choice to make.
    client, _token = signed_in(app, world.moderator)
    html = client.get(f"/console?event={other_id}").get_data(as_text=True)
    assert 'id="f-event"' not in html and world.now_id in session_ids(html)
