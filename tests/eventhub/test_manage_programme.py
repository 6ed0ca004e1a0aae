"""The programme editor: the day x hall grid, and the session form (create, edit, move,
cancel, reinstate, delete). Times are entered in the event's zone; conflicts are shown beside
the field and change nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eventhub.extensions import db
from eventhub.models import Event, Participant, Room, Session, User
from eventhub.services import access
from tests.conftest import START, bearer
from tests.eventhub.manage_support import add_user, field_errors, post, sign_in

DAY = START.isoformat()


@pytest.fixture
def conf(app):
    """An event in Moscow (UTC+3) with two halls, a moderator and a speaker; their ids."""
    with app.app_context():
        event = Event(slug="conf", title={"en": "Conference"}, timezone="Europe/Moscow",
                      start_date=START, end_date=START.replace(day=30), published=True)
        halls = [Room(event=event, name=name, capacity=50) for name in ("Зал 1", "Saal 2")]
        speaker = Participant(event=event, name="Jürgen Groß", email="jg@example.de",
                              role="speaker")
        db.session.add_all([event, *halls, speaker])
        access.issue_participant_token(speaker)
        db.session.commit()
        ids = {"event": event.id, "hall1": halls[0].id, "hall2": halls[1].id,
               "speaker": speaker.id}
    ids["moderator"] = add_user(app, "moderator", "mod@example.org")
    return ids


def form(conf, **changes) -> dict:
    data = {"title.ru": "Открытие", "title.de": "Eröffnung", "title.en": "Opening",
            "description.en": "Welcome", "starts_at": f"{DAY}T10:00",
            "ends_at": f"{DAY}T11:30", "room_id": str(conf["hall1"]), "track": "Plenum",
            "mode": "in_person", "moderator_ids": [str(conf["moderator"])],
            "speaker_ids": [str(conf["speaker"])]}
    data.update(changes)
    return data


def sessions(app) -> list[tuple]:
    with app.app_context():
        return sorted((s.id, s.title.get("en"), s.starts_at, s.ends_at, s.room_id, s.mode,
                       s.status, s.sequence) for s in db.session.query(Session))


def test_create_a_session_in_the_events_time_zone(app, conf):
    organizer = sign_in(app)
    response = post(organizer, f"/manage/events/{conf['event']}/sessions/new", form(conf))
    assert response.status_code == 303
    assert response.location.startswith(f"/manage/events/{conf['event']}/programme?day={DAY}")
    with app.app_context():
        created = db.session.query(Session).one()
        assert created.starts_at == datetime(2030, 6, 28, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
        assert created.ends_at == datetime(2030, 6, 28, 8, 30, tzinfo=UTC)
        assert created.title == {"ru": "Открытие", "de": "Eröffnung", "en": "Opening"}
        assert created.description == {"en": "Welcome"}
        assert (created.room_id, created.track, created.mode) == (conf["hall1"], "Plenum",
                                                                  "in_person")
        assert [u.id for u in created.moderators] == [conf["moderator"]]
        assert [p.id for p in created.speakers] == [conf["speaker"]]
        assert created.video_room is None
        session_id = created.id
    edit = organizer.get(f"/manage/sessions/{session_id}").get_data(as_text=True)
    assert f'value="{DAY}T10:00"' in edit and f'value="{DAY}T11:30"' in edit


def test_an_online_session_gets_its_video_room_at_once(app, conf):
    organizer = sign_in(app)
    response = post(organizer, f"/manage/events/{conf['event']}/sessions/new",
                    form(conf, mode="hybrid"))
    assert response.status_code == 303
    with app.app_context():
        created = db.session.query(Session).one()
        assert created.mode == "hybrid"
        assert created.video_room is not None and created.video_room.provider == "jitsi"


@pytest.mark.parametrize(("changes", "field", "message", "status"), [
    ({"ends_at": f"{DAY}T09:00"}, "f-ends-at", "The end must be after the start.", 422),
    ({"starts_at": "2030-07-05T10:00", "ends_at": "2030-07-05T11:00"}, "f-starts-at",
     "The session must be within the event's dates.", 422),
    ({"starts_at": "tomorrow"}, "f-starts-at", "Enter a date and time.", 422),
    ({"ends_at": ""}, "f-ends-at", "Enter a date and time.", 422),
    ({"title.ru": "", "title.de": "", "title.en": ""}, "f-title",
     "Give a title in at least one language.", 422),
    ({"mode": "teleport"}, "f-mode", "Choose one of the listed values.", 422),
    ({"room_id": "999999"}, "f-room-id", "Choose a hall of this event.", 422),
    ({"room_id": "x"}, "f-room-id", "Enter a whole number.", 422),
    ({"moderator_ids": ["999999"]}, "f-moderator-ids", "Choose from the list.", 422),
    ({"track": "t" * 101}, "f-track", "Too long: at most 100 characters.", 422),
    ({"starts_at": f"{DAY}T11:00", "ends_at": f"{DAY}T12:00"}, "f-room-id",
     "The hall is booked at this time: “Opening”, ", 409),
])
def test_a_conflict_is_shown_beside_its_field_and_nothing_changes(app, conf, changes, field,
                                                                 message, status):
    organizer = sign_in(app)
    post(organizer, f"/manage/events/{conf['event']}/sessions/new", form(conf))
    before = sessions(app)
    response = post(organizer, f"/manage/events/{conf['event']}/sessions/new",
                    form(conf, **changes))
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert field_errors(html)[field].startswith(message)
    assert sessions(app) == before
    # The same change on the existing session is refused the same way (a 409 there means
    # another session: the session does not clash with itself).
    session_id = before[0][0]
    if status == 409:
        post(organizer, f"/manage/events/{conf['event']}/sessions/new",
             form(conf, **{"starts_at": f"{DAY}T13:00", "ends_at": f"{DAY}T14:00"}))
        before = sessions(app)
        changes = {"starts_at": f"{DAY}T13:30", "ends_at": f"{DAY}T14:30"}
    response = post(organizer, f"/manage/sessions/{session_id}", form(conf, **changes))
    assert response.status_code == status
    assert field_errors(response.get_data(as_text=True))[field].startswith(message)
    assert sessions(app) == before


def test_move_a_session_to_another_hour_and_hall(app, conf):
    organizer = sign_in(app)
    post(organizer, f"/manage/events/{conf['event']}/sessions/new", form(conf))
    (session_id, *_rest, sequence), = sessions(app)
    response = post(organizer, f"/manage/sessions/{session_id}",
                    form(conf, starts_at="2030-06-29T15:00", ends_at="2030-06-29T16:00",
                         room_id=str(conf["hall2"]), moderator_ids=[]))
    assert response.status_code == 303
    assert response.location.startswith(f"/manage/events/{conf['event']}/programme"
                                        "?day=2030-06-29")
    with app.app_context():
        moved = db.session.get(Session, session_id)
        assert moved.starts_at == datetime(2030, 6, 29, 12, 0, tzinfo=UTC)
        assert moved.room_id == conf["hall2"] and moved.moderators == []
        assert moved.sequence == sequence + 1


def test_the_edit_form_switches_the_mode(app, conf):
    organizer = sign_in(app)
    post(organizer, f"/manage/events/{conf['event']}/sessions/new", form(conf))
    (session_id, *_rest), = sessions(app)
    assert post(organizer, f"/manage/sessions/{session_id}",
                form(conf, mode="online")).status_code == 303
    with app.app_context():
        switched = db.session.get(Session, session_id)
        assert switched.mode == "online" and switched.video_room is not None


def test_cancel_after_asking_then_reinstate_then_delete_after_asking(app, conf):
    organizer = sign_in(app)
    post(organizer, f"/manage/events/{conf['event']}/sessions/new", form(conf))
    (session_id, *_rest), = sessions(app)
    ask = organizer.get(f"/manage/sessions/{session_id}/cancel").get_data(as_text=True)
    assert 'name="status" value="cancelled"' in ask
    assert sessions(app)[0][6] == "scheduled"  # asking changes nothing
    assert post(organizer, f"/manage/sessions/{session_id}/status",
                {"status": "cancelled"}).status_code == 303
    assert sessions(app)[0][6] == "cancelled"
    page = organizer.get(f"/manage/sessions/{session_id}").get_data(as_text=True)
    assert 'value="scheduled"' in page  # the reinstate button
    assert post(organizer, f"/manage/sessions/{session_id}/status",
                {"status": "scheduled"}).status_code == 303
    assert sessions(app)[0][6] == "scheduled"
    assert post(organizer, f"/manage/sessions/{session_id}/status",
                {"status": "live"}).status_code == 400  # the back office cancels and reinstates
    assert "cannot be undone" in organizer.get(
        f"/manage/sessions/{session_id}/delete").get_data(as_text=True)
    assert len(sessions(app)) == 1
    assert post(organizer, f"/manage/sessions/{session_id}/delete").status_code == 303
    assert sessions(app) == []


def test_the_grid_shows_days_halls_sessions_and_free_slots(app, conf):
    organizer = sign_in(app)
    post(organizer, f"/manage/events/{conf['event']}/sessions/new", form(conf))
    (session_id, *_rest), = sessions(app)
    page = organizer.get(f"/manage/events/{conf['event']}/programme?day={DAY}&lang=en")
    html = page.get_data(as_text=True)
    assert html.count('<th scope="col">') == 3  # time, and the two halls
    assert "Зал 1" in html and "Saal 2" in html
    assert f'data-session-id="{session_id}"' in html and "Opening" in html
    # 10:00-11:30 in hall 1: no free slot at 10 or 11; hall 2 is free then.
    hall1, hall2 = conf["hall1"], conf["hall2"]
    assert f"starts_at={DAY}T10:00&amp;room_id={hall1}" not in html
    assert f"starts_at={DAY}T11:00&amp;room_id={hall1}" not in html
    assert f"starts_at={DAY}T12:00&amp;room_id={hall1}" in html
    assert f"starts_at={DAY}T10:00&amp;room_id={hall2}" in html
    # Three day tabs, the first with one session.
    assert html.count('href="/manage/events/') >= 3 and "(1)" in html
    new = organizer.get(f"/manage/events/{conf['event']}/sessions/new"
                        f"?starts_at={DAY}T12:00&room_id={hall1}").get_data(as_text=True)
    assert f'value="{DAY}T12:00"' in new and f'value="{DAY}T13:00"' in new
    assert f'<option value="{hall1}" selected>' in new
    other_day = organizer.get(f"/manage/events/{conf['event']}/programme?day=2030-06-29")
    assert f'data-session-id="{session_id}"' not in other_day.get_data(as_text=True)
    bad_day = organizer.get(f"/manage/events/{conf['event']}/programme?day=not-a-day")
    assert bad_day.status_code == 200


def test_the_form_offers_moderators_and_speakers(app, conf):
    inactive = add_user(app, "moderator", "gone@example.org", active=False)
    organizer = sign_in(app)
    html = organizer.get(f"/manage/events/{conf['event']}/sessions/new").get_data(as_text=True)
    assert f'name="moderator_ids" value="{conf["moderator"]}"' in html
    assert f'name="moderator_ids" value="{inactive}"' not in html
    assert f'name="speaker_ids" value="{conf["speaker"]}"' in html
    assert "Jürgen Groß" in html


def test_the_api_creates_a_session_with_a_mode(app, client, conf):
    with app.app_context():
        from eventhub.models import ApiToken

        organizer = User(email="api@example.org", role="organizer", password_hash="x")
        token = access.new_token()
        db.session.add_all([organizer, ApiToken(user=organizer, digest=access.digest(token))])
        db.session.commit()
    body = {"title": {"en": "Online talk"}, "starts_at": "2030-06-28T10:00:00+03:00",
            "ends_at": "2030-06-28T11:00:00+03:00", "mode": "online"}
    response = client.post(f"/api/v1/events/{conf['event']}/sessions", json=body,
                           headers=bearer(token))
    assert response.status_code == 201
    assert response.json["mode"] == "online"
    assert response.json["room"]["state"] in ("pending", "ready")
    response = client.post(f"/api/v1/events/{conf['event']}/sessions",
                           json={**body, "mode": "in_person"}, headers=bearer(token))
    assert response.json["mode"] == "in_person" and response.json["room"] is None
    response = client.post(f"/api/v1/events/{conf['event']}/sessions",
                           json={**body, "mode": "beamed"}, headers=bearer(token))
    assert response.status_code == 422 and "mode" in response.json["error"]["fields"]
    assert len(sessions(app)) == 2


def test_saving_an_unchanged_form_changes_nothing(app, conf):
    """A session made through the API may start at seconds the form does not show."""
    with app.app_context():
        event_session = Session(event_id=conf["event"], room_id=conf["hall1"],
                                title={"en": "Opening"},
                                starts_at=datetime(2030, 6, 28, 7, 0, 30, tzinfo=UTC),
                                ends_at=datetime(2030, 6, 28, 8, 0, 45, tzinfo=UTC))
        db.session.add(event_session)
        db.session.commit()
        session_id = event_session.id
    before = sessions(app)
    organizer = sign_in(app)
    response = post(organizer, f"/manage/sessions/{session_id}",
                    {"title.en": "Opening", "starts_at": f"{DAY}T10:00",
                     "ends_at": f"{DAY}T11:00", "room_id": str(conf["hall1"]),
                     "mode": "in_person"})
    assert response.status_code == 303
    assert sessions(app) == before
