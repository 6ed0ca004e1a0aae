"""``events.programme_version``: bumped by one in the very commit that changes what the public
feeds show (services, background jobs, deletions), never by a rollback, never by a change the
feeds don't show; and the feed cache keyed by it.

Every DBAPI commit is watched from inside (the committing connection, just before COMMIT) and
from outside (a separate SQLite connection, which sees only committed data): a commit that
changes the event's programme must carry exactly one bump, and no other commit any.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from lifecycle_support import wait_jobs
from sqlalchemy import event as sa_event
from sqlalchemy import select

from eventhub import versioning
from eventhub.extensions import db
from eventhub.models import Event, Room, VideoRoom
from eventhub.services import agenda, feeds, participants, provisioning, switching
from eventhub.services import events as event_service
from eventhub.services import sessions as session_service
from tests.conftest import at


@pytest.fixture
def world(create_user, create_event, create_room, create_session, create_participant):
    """An organizer, a published event with two halls and three sessions, a participant; and
    a second event whose version must never move."""
    organizer = create_user("organizer")
    event = create_event()
    other = create_event(slug="other")
    hall_a, hall_b = create_room(event, "Hall A"), create_room(event, "Hall B")
    plenary = create_session(event, hall_a, at(10), title={"en": "Plenary"})
    panel = create_session(event, hall_b, at(12), title={"en": "Panel"})
    workshop = create_session(event, hall_b, at(15, day=1), title={"en": "Workshop"})
    create_session(other, None, at(10), title={"en": "Elsewhere"})
    anna = create_participant(event, "Anna")
    agenda.add_to_agenda(anna, anna, plenary)
    return {"organizer": organizer, "event": event, "other": other, "halls": (hall_a, hall_b),
            "sessions": [plenary, panel, workshop], "anna": anna}


@dataclass
class Commit:
    """One DBAPI commit as seen just before it: inside the transaction and from outside."""

    inside: dict[int, tuple[int, Any]]  # event id -> (programme_version, programme content)
    outside: dict[int, tuple[int, Any]]


class Watcher:
    """Reads every event's version and programme content, from any connection."""

    def __init__(self, path: str):
        self.outside = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.lock = threading.Lock()
        self.commits: list[Commit] = []

    @staticmethod
    def read(connection: Any) -> dict[int, tuple[int, Any]]:
        """{event id: (programme_version, everything a public feed of it could show)}."""
        cursor = connection.cursor()
        cursor.execute("SELECT * FROM events ORDER BY id")
        names = [d[0] for d in cursor.description]
        found = {}
        for row in cursor.fetchall():
            values = dict(zip(names, row, strict=True))
            event_id, version = values["id"], values.pop("programme_version")
            sessions = cursor.execute("SELECT * FROM sessions WHERE event_id = ? ORDER BY id",
                                      (event_id,))
            columns = [d[0] for d in sessions.description]
            content = (
                tuple(sorted(values.items())),
                # not sessions.version: the order of live states, which no feed shows
                [tuple(v for c, v in zip(columns, row, strict=True) if c != "version")
                 for row in sessions.fetchall()],
                cursor.execute("SELECT id, name FROM rooms WHERE event_id = ? ORDER BY id",
                               (event_id,)).fetchall(),
            )  # not video_rooms: no feed shows a room's state
            found[event_id] = (version, content)
        cursor.close()
        return found

    def version(self, event_id: int) -> int:
        """The committed programme_version."""
        with self.lock:
            return self.read(self.outside)[event_id][0]

    def on_commit(self, connection: Any) -> None:
        """Engine ``commit`` event: runs on the committing connection before COMMIT."""
        inside = self.read(connection.connection.dbapi_connection)
        with self.lock:
            self.commits.append(Commit(inside, self.read(self.outside)))

    def bumps(self, event_id: int) -> list[int]:
        """For each commit that touched the event: its version increase."""
        steps = []
        for commit in self.commits:
            before, after = commit.outside.get(event_id), commit.inside.get(event_id)
            if before is None or after is None:
                continue
            if before != after:
                steps.append(after[0] - before[0])
            # Content changed <=> the version moved, in this very commit.
            assert (before[1] != after[1]) == (before[0] != after[0]), (before, after)
        return steps


@pytest.fixture
def watcher(world):
    """Watch every commit made after the world was built."""
    watch = Watcher(db.engine.url.database)
    sa_event.listen(db.engine, "commit", watch.on_commit)
    yield watch
    wait_jobs()
    sa_event.remove(db.engine, "commit", watch.on_commit)
    watch.outside.close()


def _title(w):
    session_service.update_session(w["organizer"], w["sessions"][0], {"title": {"en": "New"}})


def _status(w):
    session_service.set_session_status(w["organizer"], w["sessions"][0], "live")


def _delay(w):
    session_service.set_session_status(w["organizer"], w["sessions"][0], "delayed", 10)


def _cancel(w):
    session_service.set_session_status(w["organizer"], w["sessions"][0], "cancelled")


def _move(w):
    session_service.update_session(w["organizer"], w["sessions"][0],
                                   {"room_id": w["halls"][1].id, "starts_at": at(16),
                                    "ends_at": at(17)})


def _create(w):
    session_service.create_session(w["organizer"], w["event"], {
        "title": {"en": "Late addition"}, "starts_at": at(18), "ends_at": at(19)})


def _delete(w):
    session_service.delete_session(w["organizer"], w["sessions"][1])


def _event_title(w):
    event_service.update_event(w["organizer"], w["event"], {"title": {"en": "Renamed"}})


def _publish(w):
    event_service.update_event(w["organizer"], w["event"], {"published": False})


def _rename_hall(w):
    w["halls"][0].name = "Great Hall"
    db.session.commit()


def _delete_hall(w):
    db.session.delete(w["halls"][1])  # its sessions' room_id: SET NULL in the database
    db.session.commit()


def _orphan(w):
    w["event"].sessions.remove(w["sessions"][2])  # delete-orphan, found during the flush
    db.session.commit()


def _video_room(w):
    db.session.add(VideoRoom(session=w["sessions"][2], provider="jitsi", state="failed"))
    db.session.commit()


# One commit, one bump: the service's change and the bump are the same transaction.
CHANGES: list[tuple[str, Callable]] = [
    ("title", _title), ("status", _status), ("delay", _delay), ("cancel", _cancel),
    ("move", _move), ("create", _create), ("delete", _delete), ("event title", _event_title),
    ("unpublish", _publish), ("rename hall", _rename_hall), ("delete hall", _delete_hall),
    ("orphan", _orphan),
]


@pytest.mark.parametrize("change", [c for _, c in CHANGES], ids=[n for n, _ in CHANGES])
def test_each_change_bumps_once_in_its_own_commit(world, watcher, change):
    event_id, other_id = world["event"].id, world["other"].id
    before, other = watcher.version(event_id), watcher.version(other_id)
    change(world)
    assert watcher.bumps(event_id) == [1]
    assert watcher.version(event_id) == before + 1
    assert watcher.version(other_id) == other and watcher.bumps(other_id) == []


def test_switch_bumps_and_background_provisioning_does_not(world, watcher):
    """The switch (a new mode: LOCATION, CONFERENCE) bumps; the job that makes the room ready
    (another thread, another database session) changes nothing a feed shows."""
    event_id, panel = world["event"].id, world["sessions"][1]
    before = watcher.version(event_id)
    switching.switch_session(panel, "online", actor=world["organizer"])
    wait_jobs()
    room = db.session.get(VideoRoom, panel.video_room.id)
    assert room.state == "ready", room.last_error
    assert watcher.bumps(event_id) == [1]
    assert watcher.version(event_id) == before + 1


def test_room_marked_ready_by_the_job_does_not_bump(world, watcher):
    event_id, workshop = world["event"].id, world["sessions"][2]
    room = VideoRoom(session=workshop, provider="jitsi")
    db.session.add(room)
    db.session.commit()
    pending = watcher.version(event_id)
    watcher.commits.clear()
    provisioning.enqueue_provision(room.id)
    wait_jobs()
    assert db.session.get(VideoRoom, room.id).state == "ready"
    assert watcher.bumps(event_id) == []  # lease and ready: nothing a feed shows
    assert len(watcher.commits) >= 2
    assert watcher.version(event_id) == pending


def _agenda(w):
    agenda.add_to_agenda(w["anna"], w["anna"], w["sessions"][1])
    agenda.remove_from_agenda(w["anna"], w["anna"], w["sessions"][0])


def _participant(w):
    participants.create_participant(w["organizer"], w["event"],
                                    {"name": "Ben", "email": "ben@example.org"})
    participants.rotate_token(w["organizer"], w["anna"])


def _no_op(w):
    plenary = w["sessions"][0]
    session_service.update_session(w["organizer"], plenary, {"track": plenary.track})
    session_service.set_session_status(w["organizer"], plenary, "scheduled")


def _capacity(w):
    w["halls"][0].capacity = 7
    db.session.commit()


QUIET: list[tuple[str, Callable]] = [("agenda", _agenda), ("participants", _participant),
                                     ("no-op", _no_op), ("hall capacity", _capacity),
                                     ("video room", _video_room)]


@pytest.mark.parametrize("change", [c for _, c in QUIET], ids=[n for n, _ in QUIET])
def test_changes_no_public_feed_shows_leave_the_version(world, watcher, change, builds):
    event = world["event"]
    feed = feeds.get_public_feed(None, event.id, "en")
    before = watcher.version(event.id)
    change(world)
    assert watcher.version(event.id) == before and watcher.bumps(event.id) == []
    assert feeds.get_public_feed(None, event.id, "en") is feed
    assert len(builds) == 1


def test_rollback_takes_the_bump_back(world, watcher):
    event, plenary = world["event"], world["sessions"][0]
    before = watcher.version(event.id)
    plenary.title = {"en": "Never"}
    db.session.flush()
    assert db.session.get(Event, event.id).programme_version == before + 1  # inside
    assert watcher.version(event.id) == before  # not committed
    db.session.rollback()
    assert watcher.version(event.id) == before
    assert db.session.get(Event, event.id).programme_version == before
    assert watcher.commits == []


def test_bump_is_computed_in_sql_not_from_a_stale_object(world, watcher):
    """Another transaction bumped the row after this session loaded the event: the increment
    starts from the database's value, so no bump is lost."""
    event, plenary = world["event"], world["sessions"][0]
    stale = event.programme_version
    with watcher.lock:
        watcher.outside.execute("UPDATE events SET programme_version = programme_version + 5 "
                                "WHERE id = ?", (event.id,))
    assert event.programme_version == stale  # the identity map still has the old value
    plenary.title = {"en": "After the other writer"}
    db.session.commit()
    assert watcher.version(event.id) == stale + 6


def test_feed_built_inside_a_rolled_back_transaction_is_not_reused(world, builds):
    """The version a rollback gives back is reached again by the next change: a feed built
    from the uncommitted change must not be served for it."""
    event, plenary = world["event"], world["sessions"][0]
    feeds.get_public_feed(None, event.id, "en")
    plenary.title = {"en": "Uncommitted title"}
    db.session.flush()
    assert b"Uncommitted title" in feeds.get_public_feed(None, event.id, "en").body
    assert b"Uncommitted title" in feeds.get_session_feed(None, plenary.id, "en").body
    db.session.rollback()
    session_service.update_session(world["organizer"], plenary, {"title": {"en": "Committed"}})
    public = feeds.get_public_feed(None, event.id, "en").body
    single = feeds.get_session_feed(None, plenary.id, "en").body
    assert b"Committed" in public and b"Uncommitted" not in public
    assert b"Committed" in single and b"Uncommitted" not in single


def test_hall_rename_gives_public_and_session_feeds_a_new_etag(world, builds):
    event, plenary = world["event"], world["sessions"][0]
    public = feeds.get_public_feed(None, event.id, "en")
    single = feeds.get_session_feed(None, plenary.id, "en")
    _rename_hall(world)
    assert feeds.get_public_feed(None, event.id, "en").etag != public.etag
    assert b"Great Hall" in feeds.get_session_feed(None, plenary.id, "en").body
    assert feeds.get_session_feed(None, plenary.id, "en").etag != single.etag


def test_public_state_is_a_primary_key_lookup(world):
    statement = str(feeds._PUBLIC_STATE.compile(db.engine)).lower()
    assert "join" not in statement and "group by" not in statement
    assert "sessions" not in statement


def test_hook_is_registered_once_however_many_apps(world, watcher, app_config):
    from eventhub import create_app

    create_app(app_config)
    versioning.register()
    _title(world)
    assert watcher.bumps(world["event"].id) == [1]  # not one per app or per register()
    assert sa_event.contains(db.session, "before_flush", versioning._before_flush)


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


def test_deleting_the_room_of_a_session_is_seen(world, watcher):
    """Deleting a hall row directly through the ORM (no service) still bumps."""
    event_id = world["event"].id
    before = watcher.version(event_id)
    hall = db.session.get(Room, world["halls"][0].id)
    db.session.delete(hall)
    db.session.commit()
    assert watcher.version(event_id) == before + 1


def test_savepoint_rollback_does_not_swallow_a_later_bump(world, watcher):
    """The bump made inside a savepoint goes with its rollback; the next change bumps anew."""
    event, plenary = world["event"], world["sessions"][0]
    before = watcher.version(event.id)
    # pysqlite opens BEGIN at the first DML only: some DML first, so the savepoint nests.
    db.session.execute(Event.__table__.update().where(Event.id == -1).values(venue=""))
    savepoint = db.session.begin_nested()
    plenary.title = {"en": "Rolled back"}
    db.session.flush()  # bumped inside the savepoint
    assert db.session.get(Event, event.id).programme_version == before + 1
    savepoint.rollback()
    assert db.session.scalar(select(Event.programme_version).where(Event.id == event.id)) \
        == before
    plenary.title = {"en": "Committed"}
    db.session.commit()
    assert watcher.bumps(event.id) == [1]
    assert watcher.version(event.id) == before + 1
