"""``GET /api/v1/events/<id>/sessions`` is cached under what changes it, on SQLite and
PostgreSQL: any change of a session, its room or its people is a new answer (also one
committed by another app on the same database), parameters and callers' kinds never share an
entry, hidden events stay hidden from a warm cache, and ETag / If-None-Match gives 304.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import db_support
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import update

from eventhub import create_app
from eventhub.api.programme_cache import STATE_SECONDS, programme_cache
from eventhub.extensions import db
from eventhub.models import Event, Session, VideoRoom
from eventhub.services import participants as participant_service
from eventhub.services import sessions as session_service
from tests.conftest import at, bearer

database, app_config = db_support.database, db_support.app_config

SECRET_JOIN = "https://video.example/join/secret-join-key"
SECRET_HOST = "https://video.example/start/secret-host-key"


@pytest.fixture
def world(create_user, create_event, create_room, create_session, create_participant,
          api_token):
    """A published event of four sessions in two halls and tracks, one with a ready room
    holding join and host secrets, a speaker, a moderator; the organizer's token."""
    organizer = create_user("organizer")
    moderator = create_user("moderator")
    event = create_event()
    halls = [create_room(event, "Hall A"), create_room(event, "Hall B")]
    speaker = create_participant(event, role="speaker")
    talks = [create_session(event, halls[i % 2], at(9 + i), track=("ai", "web")[i % 2],
                            moderators=[moderator], speakers=[speaker]) for i in range(4)]
    db.session.add(VideoRoom(session=talks[0], provider="jitsi", state="ready",
                             data={"url": SECRET_JOIN}, host_data={"start_url": SECRET_HOST}))
    db.session.commit()
    return {"organizer": organizer, "moderator": moderator, "event": event, "halls": halls,
            "speaker": speaker, "talks": talks, "token": api_token(organizer)}


def url(world, query: str = "") -> str:
    return f"/api/v1/events/{world['event'].id}/sessions{query}"


def builds(app) -> int:
    with app.app_context():
        return programme_cache().builds


def fresh(app, client, path: str, headers=None) -> bytes:
    """The answer built anew (the cache emptied first)."""
    with app.app_context():
        programme_cache().entries.clear()
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200
    return answer.data


def queries_for(client, path: str, headers=None) -> int:
    count = 0

    def counted(*_args, **_kwargs):
        nonlocal count
        count += 1

    db.session.expire_all()  # what the test's session holds, a server's request reads
    sa_event.listen(db.engine, "before_cursor_execute", counted)
    try:
        assert client.get(path, headers=headers).status_code == 200
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", counted)
    return count


def test_a_warm_list_reads_nothing_and_revalidates_to_304(app, client, world, create_user):
    first = client.get(url(world))
    assert first.status_code == 200 and len(first.json["items"]) == 4
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.cache_control.no_cache
    assert "Authorization" in first.headers["Vary"]
    # The event's state was read a moment ago and nothing was committed since: no query.
    assert queries_for(client, url(world)) == 0
    # A token adds its own lookup (the token with its user), nothing else.
    client.get(url(world), headers=bearer(world["token"]))
    assert queries_for(client, url(world), bearer(world["token"])) == 1
    # Any commit of this process (here: a new account) has the state read again: one query.
    create_user("moderator")
    assert queries_for(client, url(world)) == 1
    again = client.get(url(world), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(url(world)).data == first.data
    assert builds(app) == 2  # anonymous, and an organizer: one build each (the commit
    # above changed no session: the same state, the same entries)


def test_the_list_shows_no_host_data_or_join_links(client, world):
    for headers in ({}, bearer(world["token"])):
        body = client.get(url(world), headers=headers)
        assert SECRET_JOIN.encode() not in body.data and SECRET_HOST.encode() not in body.data
        room = next(item["room"] for item in body.json["items"] if item["room"])
        assert set(room) == {"state", "provider", "error"}
        for item in body.json["items"]:
            assert not {"host", "host_url", "join_url", "host_data", "data"} & set(item)


def change_title(world):
    session_service.update_session(world["organizer"], world["talks"][1],
                                   {"title": {"en": "Renamed"}})


def go_live(world):
    session_service.set_session_status(world["organizer"], world["talks"][0], "live")


def room_fails(world):
    room = db.session.get(VideoRoom, world["talks"][0].video_room.id)
    room.state, room.last_error = "failed", "the provider refused"
    db.session.commit()


def new_moderators(world):
    session_service.update_session(world["organizer"], world["talks"][2], {"moderator_ids": []})


def speaker_deleted(world):
    participant_service.delete_participant(world["organizer"], world["speaker"])


def session_added(world):
    session_service.create_session(world["organizer"], world["event"], {
        "title": {"en": "Late addition"}, "starts_at": at(15),
        "ends_at": at(15) + timedelta(minutes=30)})


def session_deleted(world):
    session_service.delete_session(world["organizer"], world["talks"][3])


@pytest.mark.parametrize("change", [change_title, go_live, room_fails, new_moderators,
                                    speaker_deleted, session_added, session_deleted])
def test_every_change_is_a_new_answer(app, client, world, change):
    headers = bearer(world["token"])
    before = client.get(url(world), headers=headers)
    change(world)
    after = client.get(url(world), headers={**headers, "If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.data != before.data
    assert after.headers["ETag"] != before.headers["ETag"]
    assert after.data == fresh(app, client, url(world), headers)


def test_a_change_committed_by_another_app_is_seen(app, client, world, app_config):
    before = client.get(url(world))
    other = create_app(app_config)  # another process, as far as the caches go
    with other.app_context():
        talk = db.session.get(Session, world["talks"][1].id)
        talk.title = {"en": "Changed elsewhere"}
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    # The requests here share the test's session, which still holds the sessions as they
    # were; a server's next request has a session of its own.
    db.session.expire_all()
    after = client.get(url(world), headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and b"Changed elsewhere" in after.data
    assert builds(app) == 2
    assert after.data == fresh(app, client, url(world))


def test_a_change_committed_by_another_process_is_seen_within_state_seconds(app, client,
                                                                         world):
    """Another process's commit fires no hook here: its change shows once the kept state
    (at most STATE_SECONDS old) is read again."""
    before = client.get(url(world))
    talk = world["talks"][2]
    with db.engine.begin() as other:  # what a second worker's ORM writes, bumps included
        other.execute(update(Session).where(Session.id == talk.id).values(
            title={"en": "From another worker"}, version=Session.version + 1))
        other.execute(update(Event).where(Event.id == world["event"].id).values(
            programme_version=Event.programme_version + 1))
    db.session.expire_all()  # the test's session stands in for the server's next request's
    deadline = time.monotonic() + 10 * STATE_SECONDS + 5
    while time.monotonic() < deadline:
        after = client.get(url(world), headers={"If-None-Match": before.headers["ETag"]})
        if after.status_code == 200:
            break
        db.session.expire_all()
        time.sleep(0.05)  # polling for the condition, with a deadline
    assert after.status_code == 200 and b"From another worker" in after.data
    assert after.data == fresh(app, client, url(world))


def test_parameters_never_share_an_entry(app, client, world):
    queries = ["", "?limit=2", "?limit=2&offset=2", f"?room_id={world['halls'][1].id}",
               "?track=ai", "?track=ai&limit=1"]
    answers = {query: client.get(url(world, query)) for query in queries}
    assert builds(app) == len(queries)
    ids = {query: [item["id"] for item in answer.json["items"]]
           for query, answer in answers.items()}
    talks = [talk.id for talk in world["talks"]]
    assert ids[""] == talks and ids["?limit=2"] == talks[:2]
    assert ids["?limit=2&offset=2"] == talks[2:]
    assert ids[f"?room_id={world['halls'][1].id}"] == talks[1::2]
    assert ids["?track=ai"] == talks[::2] and ids["?track=ai&limit=1"] == talks[:1]
    for query, answer in answers.items():  # each warm entry answers its own parameters
        assert client.get(url(world, query)).data == answer.data
    assert builds(app) == len(queries)


def test_bad_parameters_are_refused_and_nothing_is_kept(app, client, world):
    for query in ("?limit=0", "?offset=-1", "?room_id=abc", "?track=a%00b"):
        assert client.get(url(world, query)).status_code == 422
    assert client.get("/api/v1/events/999999/sessions").status_code == 404
    assert builds(app) == 0


def test_a_hidden_event_stays_hidden_from_a_warm_cache(app, client, world, create_user,
                                                        create_event, create_participant,
                                                        api_token):
    event = world["event"]
    event.published = False
    db.session.commit()
    organizer = client.get(url(world), headers=bearer(world["token"]))
    assert organizer.status_code == 200 and organizer.cache_control.private
    outsider = create_user("moderator")
    stranger = create_participant(create_event(slug="other"))
    for headers in ({}, bearer(api_token(outsider)), bearer(stranger.token)):
        assert client.get(url(world), headers=headers).status_code == 404
        assert client.get(url(world), headers={
            **headers, "If-None-Match": organizer.headers["ETag"]}).status_code == 404
    insiders = (bearer(api_token(world["moderator"])),
                bearer(create_participant(event).token))
    for headers in insiders:  # the same list, each kind of caller from its own entry
        answer = client.get(url(world), headers=headers)
        assert answer.status_code == 200
        assert json.loads(answer.data) == json.loads(organizer.data)
    assert builds(app) == 3
