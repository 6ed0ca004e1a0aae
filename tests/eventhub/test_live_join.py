"""``join.open``: a participant's own connection hears when their join link opens, unpolled."""

from __future__ import annotations

import time
from datetime import timedelta

import live_support
import pytest

from eventhub.extensions import db
from eventhub.models import AgendaItem, Session, utcnow
from eventhub.services import provisioning, switching
from tests.conftest import bearer

app_config, live_server, sio = live_support.app_config, live_support.live_server, live_support.sio


@pytest.fixture
def today(create_user, create_event, create_session, create_participant, api_token):
    """An event running today: a session starting in 5 minutes (inside its 15-minute join
    window) and one later in the day; participants with and without agendas."""
    now = utcnow()
    organizer = create_user("organizer")
    event = create_event(start_date=(now - timedelta(days=1)).date(),
                         end_date=(now + timedelta(days=1)).date())
    soon = create_session(event, start=now + timedelta(minutes=5))
    later = create_session(event, start=now + timedelta(hours=3))
    everything = create_participant(event, "Anna", attendance="remote")  # empty agenda: all
    keen = create_participant(event, "Boris", attendance="remote")
    elsewhere = create_participant(event, "Clara", attendance="remote")
    db.session.add_all([AgendaItem(participant=keen, session=soon),
                        AgendaItem(participant=elsewhere, session=later)])
    db.session.commit()
    return {"event": event.id, "soon": soon.id, "later": later.id,
            "organizer": api_token(organizer), "everything": everything.token,
            "keen": keen.token, "elsewhere": elsewhere.token}


def _switch_and_provision(client, app, session_id, token, mode="online"):
    response = client.post(f"/api/v1/sessions/{session_id}/switch", json={"mode": mode},
                           headers=bearer(token))
    assert response.status_code == 200
    with app.app_context():
        provisioning.dispatcher().wait(10)


def test_join_open_reaches_the_participants_whose_agenda_has_the_session(
        sio, today, client, app):
    everything, keen, elsewhere = (sio(today[k]) for k in ("everything", "keen", "elsewhere"))
    anonymous, organizer = sio(), sio(today["organizer"])
    for c in (everything, keen, elsewhere, anonymous, organizer):
        c.subscribe(today["event"])
    _switch_and_provision(client, app, today["soon"], today["organizer"])

    for c in (everything, keen):
        notice = c.wait_for("join.open")
        assert notice == {"session_id": today["soon"], "event_id": today["event"],
                          "join_url": f"/join/{today['soon']}?t={c.token}"}
    live_support.wait_scans(app)  # two more full scans: nothing more comes
    assert elsewhere.received("join.open") == []  # their agenda is the later session only
    assert anonymous.received("join.open") == organizer.received("join.open") == []
    assert len(everything.received("join.open")) == 1  # the ready room announced once


def test_join_open_when_the_window_opens_by_time(sio, today, client, app):
    with app.app_context():
        event_session = db.session.get(Session, today["soon"])
        # The window (15 minutes before the start) opens in about a second.
        event_session.starts_at = utcnow() + timedelta(minutes=15, seconds=1)
        event_session.ends_at = event_session.starts_at + timedelta(hours=1)
        db.session.commit()
    _switch_and_provision(client, app, today["soon"], today["organizer"])
    keen = sio(today["keen"])
    ack = keen.subscribe(today["event"])
    soon = next(s for s in ack["sessions"] if s["session_id"] == today["soon"])
    assert soon["room_state"] == "ready" and soon["join_open"] is False
    assert "join_url" not in soon

    notice = keen.wait_for("join.open", timeout=5)
    assert notice["join_url"] == f"/join/{today['soon']}?t={today['keen']}"
    assert keen.received("session.updated") == []  # no change was published: the clock did it
    response = client.get(notice["join_url"])
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    assert "meet.jit.si" in response.headers["Location"]


def test_subscribe_ack_tells_a_participant_which_links_are_open(sio, today, client, app):
    _switch_and_provision(client, app, today["soon"], today["organizer"])
    _switch_and_provision(client, app, today["later"], today["organizer"])
    ack = sio(today["elsewhere"]).subscribe(today["event"])
    flags = {s["session_id"]: s["join_open"] for s in ack["sessions"]}
    assert flags == {today["soon"]: True, today["later"]: False}
    soon = next(s for s in ack["sessions"] if s["session_id"] == today["soon"])
    assert soon["join_url"] == f"/join/{today['soon']}?t={today['elsewhere']}"
    for token in (None, today["organizer"]):
        plain = sio(token).subscribe(today["event"])
        assert all("join_open" not in s and "join_url" not in s for s in plain["sessions"])


def test_a_link_that_closes_and_reopens_is_announced_again(sio, today, client, app):
    keen = sio(today["keen"])
    keen.subscribe(today["event"])
    _switch_and_provision(client, app, today["soon"], today["organizer"])
    keen.wait_for("join.open")
    _switch_and_provision(client, app, today["soon"], today["organizer"], mode="in_person")
    keen.wait_for("session.updated", lambda p: p["mode"] == "in_person")
    live_support.wait_scans(app)  # the scanner has seen the link closed
    _switch_and_provision(client, app, today["soon"], today["organizer"], mode="hybrid")
    deadline = time.monotonic() + 5
    while len(keen.received("join.open")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [n["session_id"] for n in keen.received("join.open")] == [today["soon"]] * 2


def test_a_live_session_opens_the_link_even_outside_the_window(sio, today, client, app):
    organizer_token = today["organizer"]
    _switch_and_provision(client, app, today["later"], organizer_token)
    everything = sio(today["everything"])
    live_support.wait_scans(app)
    assert everything.received("join.open") == []  # three hours ahead: not yet
    response = client.post(f"/api/v1/sessions/{today['later']}/status", json={"status": "live"},
                           headers=bearer(organizer_token))
    assert response.status_code == 200
    notice = everything.wait_for("join.open")
    assert notice["session_id"] == today["later"]


def test_direct_service_change_in_this_process_announces_at_once(sio, today, app):
    keen = sio(today["keen"])
    with app.app_context():
        from eventhub.models import User

        organizer = db.session.scalar(db.select(User))
        switching.switch_session(db.session.get(Session, today["soon"]), "online",
                                 actor=organizer)
        provisioning.dispatcher().wait(10)
    keen.wait_for("join.open")
