"""Version counters bumped inside the writing transaction: the feeds' and the live pages'.

``sessions.version`` orders what :mod:`eventhub.publish` sends: every transaction that changes a
session or its video room bumps the session's counter once, with one atomic ``UPDATE sessions
SET version = version + 1`` run before the flush writes the change. The UPDATE also locks the
session's row until the commit, so two writers of one session (a switch request and a job that
makes its room ready, in any processes) take turns, and the payload each builds after its flush
(:func:`eventhub.publish._before_commit` reads the row again) shows the state of its version.
A page, a subscribe snapshot or a fan-out keeps whichever payload has the higher version.
A participant or user deleted bumps the sessions they spoke at or moderated (the database
removes them from those sessions). What does not bump it: a bulk ``update(VideoRoom)`` of
leases (provisioning's bookkeeping).

``events.programme_version``: one counter that moves whenever an event's feeds may change.

A ``before_flush`` hook on ``db.session`` collects the events whose programme the flush
touches and bumps their counter with one atomic ``UPDATE events SET programme_version =
programme_version + 1`` in the same transaction, so the bump commits (or rolls back) with the
change itself, and two concurrent transactions never lose one. The calendar feeds
(:mod:`eventhub.services.feeds`) read the counter with a primary-key lookup instead of an
aggregate over the event's sessions.

What bumps the event's counter:

- a Session of the event added, deleted, or with any column changed;
- a Room (hall) of the event deleted or renamed;
- any column of the Event itself (they are all feed-visible: ``updated_at`` is the
  feed's DTSTAMP), and its ``sessions``/``rooms`` collections (delete-orphan removals).

A VideoRoom's changes do not count: no feed shows a room's state (a personal feed's join link
is EventHub's own and depends on the session's mode), and a whole event going online would
otherwise make every 1,000-session feed rebuild once per room that becomes ready.

Only ORM unit-of-work changes are seen: a bulk ``update(Session)``/``delete(Session)`` executed
directly bypasses the hook and must bump the counter itself (:func:`bump`). No service does so
today (provisioning's bulk updates touch VideoRoom leases only).

The hooks are registered once per process by :func:`init_app`, as :mod:`eventhub.publish`
registers its own (every app shares the scoped ``db.session``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import inspect, select, update

from .extensions import db
from .models import (
    Event,
    Participant,
    Room,
    Session,
    User,
    VideoRoom,
    session_moderators,
    session_speakers,
)

#: session.info keys: ids of the events bumped in the current (outermost) transaction, not yet
#: committed; and of those already bumped since the last savepoint ended (bumped once only).
BUMPED = "eventhub.programme_bumped"
DONE = "eventhub.programme_bumped_once"
EVENT_COLLECTIONS = ("sessions", "rooms")
#: session.info key: ids of the sessions whose ``version`` this transaction has bumped.
SESSIONS_DONE = "eventhub.session_version_bumped"
#: VideoRoom columns that are bookkeeping, not a change anyone is shown.
ROOM_BOOKKEEPING = frozenset({"lease_until", "updated_at"})


def _columns_changed(obj: Any, names: Iterable[str] | None = None) -> bool:
    """True if a column attribute (``names``, default all) has a net change in this flush."""
    state = inspect(obj)
    attrs = state.mapper.column_attrs
    keys = names if names is not None else [a.key for a in attrs]
    return any(state.attrs[key].history.has_changes() for key in keys)


def _session_event(event_session: Session) -> int | None:
    """The event id of a Session, or None when its event is new in this flush."""
    if event_session.event_id is not None:
        return event_session.event_id
    parent = event_session.event
    return parent.id if parent is not None else None


def _targets(session: Any) -> set[int]:
    """The ids of the events whose programme version the pending flush bumps."""
    event_ids: set[int] = set()

    def add(event_id: int | None) -> None:
        if event_id is not None:
            event_ids.add(event_id)

    for obj in session.new:
        if isinstance(obj, Session):
            add(_session_event(obj))
    for obj in session.deleted:
        if isinstance(obj, Session):
            add(_session_event(obj))
        elif isinstance(obj, Room):
            add(obj.event_id)
    for obj in session.dirty:
        if isinstance(obj, Session):
            if _columns_changed(obj):
                add(_session_event(obj))
                # A session moved to another event changes the old event's programme too.
                old = inspect(obj).attrs.event_id.history.deleted
                for event_id in old or ():
                    add(event_id)
        elif isinstance(obj, Room):
            if _columns_changed(obj, ("name", "event_id")):
                add(obj.event_id)
        elif isinstance(obj, Event) and obj.id is not None and obj not in session.deleted:
            state = inspect(obj)
            if _columns_changed(obj, [a.key for a in state.mapper.column_attrs
                                      if a.key != "programme_version"]) or any(
                    state.attrs[name].history.has_changes() for name in EVENT_COLLECTIONS):
                add(obj.id)
    return event_ids


def bump(session: Any, event_ids: Iterable[int]) -> None:
    """Atomically bump ``programme_version`` of these events.

    One UPDATE computed in SQL (``programme_version + 1``), never from a value read earlier;
    once per event and transaction (a transaction that flushes twice commits one new version).
    ``updated_at`` is kept as it is: the counter is bookkeeping, not a change of the event.
    """
    targets = set(event_ids)
    done = session.info.setdefault(DONE, set())
    targets -= done
    if not targets:
        return
    table = Event.__table__
    session.execute(
        update(table)
        .where(table.c.id.in_(sorted(targets)))
        .values(programme_version=table.c.programme_version + 1,
                updated_at=table.c.updated_at)  # no onupdate: the event itself is unchanged
    )
    done.update(targets)
    session.info.setdefault(BUMPED, set()).update(targets)
    # The in-memory Events hold the old value: read the new one on next access.
    for event_id in targets:
        obj = session.identity_map.get(session.identity_key(Event, event_id))
        if obj is not None:
            session.expire(obj, ["programme_version"])


def bumped_in_transaction(session: Any) -> set[int]:
    """Ids of the events this session has bumped and not yet committed or rolled back."""
    return session.info.get(BUMPED, set())


def _touched_sessions(session: Any) -> set[int]:
    """Ids of the existing sessions that the pending flush changes, or whose room it changes."""
    ids: set[int] = set()

    def room_session(room: VideoRoom) -> int | None:
        if room.session_id is not None:
            return room.session_id
        return room.session.id if room.session is not None else None

    for obj in session.dirty:
        if isinstance(obj, Session) and obj.id is not None and obj not in session.deleted:
            state = inspect(obj)
            if _columns_changed(obj, [a.key for a in state.mapper.column_attrs
                                      if a.key != "version"]):
                ids.add(obj.id)
        elif isinstance(obj, VideoRoom):
            state = inspect(obj)
            if _columns_changed(obj, [a.key for a in state.mapper.column_attrs
                                      if a.key not in ROOM_BOOKKEEPING]):
                ids.add(room_session(obj))
    for obj in list(session.new) + list(session.deleted):
        if isinstance(obj, VideoRoom):
            ids.add(room_session(obj))
    ids.discard(None)
    return ids | _people_removed(session)


def _people_removed(session: Any) -> set[int]:
    """Ids of the sessions whose speakers or moderators the pending flush deletes.

    The database removes them from ``session_speakers``/``session_moderators`` (ON DELETE
    CASCADE), unseen by the unit of work; the session's ``speaker_ids``/``moderator_ids``
    change all the same. One query per kind of person deleted, none otherwise.
    """
    ids: set[int] = set()
    for model, table, column in ((Participant, session_speakers, "participant_id"),
                                 (User, session_moderators, "user_id")):
        people = [obj.id for obj in session.deleted if isinstance(obj, model)]
        if people:
            ids.update(session.execute(select(table.c.session_id)
                                       .where(table.c[column].in_(sorted(people)))).scalars())
    return ids


def bump_sessions(session: Any, session_ids: Iterable[int]) -> None:
    """Atomically bump ``version`` of these sessions, once per transaction."""
    done = session.info.setdefault(SESSIONS_DONE, set())
    targets = set(session_ids) - done
    if not targets:
        return
    table = Session.__table__
    session.execute(update(table).where(table.c.id.in_(sorted(targets)))
                    .values(version=table.c.version + 1))
    done.update(targets)
    for session_id in targets:  # the in-memory rows hold the old value: read it again
        obj = session.identity_map.get(session.identity_key(Session, session_id))
        if obj is not None:
            session.expire(obj, ["version"])


def _before_flush(session: Any, _context: Any, _instances: Any) -> None:
    # The event's row before its sessions' rows: the lock order every writer keeps
    # (services.switching locks the event, then its sessions), or PostgreSQL deadlocks.
    bump(session, _targets(session))
    bump_sessions(session, _touched_sessions(session))


def _end_transaction(session: Any, transaction: Any) -> None:
    """A transaction ended. A savepoint's end (perhaps a rollback of its bump) re-arms the
    bump; the outermost one's (commit or rollback) settles everything."""
    if transaction.parent is None:
        session.info.pop(BUMPED, None)
        session.info.pop(DONE, None)
        session.info.pop(SESSIONS_DONE, None)
    elif transaction.nested:  # not the flush's own subtransaction
        session.info.pop(DONE, None)
        session.info.pop(SESSIONS_DONE, None)


def init_app(app: Any = None) -> None:
    """Hook ``db.session`` (idempotent: once per process, whatever the number of apps)."""
    register()


def register() -> None:
    """Hook ``db.session`` (idempotent: once per process, whatever the number of apps)."""
    if not sa_event.contains(db.session, "before_flush", _before_flush):
        sa_event.listen(db.session, "before_flush", _before_flush)
        sa_event.listen(db.session, "after_transaction_end", _end_transaction)
