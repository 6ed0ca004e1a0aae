"""Moving sessions, or a whole event, online, hybrid, or back in person.

The switch itself is one quick transaction: the new mode and a ``pending`` VideoRoom. The
provider is called afterwards by :mod:`.provisioning`, so the caller answers at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import MODES, Event, Session, VideoRoom, utcnow
from . import access, provisioning
from .access import Actor
from .common import lock_rows
from .providers import check_provider

log = logging.getLogger(__name__)

ONLINE_MODES = ("online", "hybrid")
#: A whole-event switch back: every session returns to the mode it was planned with.
AS_PLANNED = "as_planned"
EVENT_MODES = (*MODES, AS_PLANNED)


def _check_mode(mode: str, modes: tuple[str, ...] = MODES) -> None:
    if mode not in modes:
        raise Invalid(f"unknown mode {mode!r}", fields={"mode": f"one of {', '.join(modes)}"})


def _prepare_room(event_session: Session, provider: str | None) -> VideoRoom | None:
    """Give the session a pending room, keeping a pending or ready one on the same provider.

    Returns the room to provision, or None when the current one can stay.
    """
    room = event_session.video_room
    wanted = provider or (room.provider if room and room.state != "deleted" else None)
    wanted = wanted or event_session.event.default_provider
    if room is not None and room.state in ("pending", "ready") and room.provider == wanted:
        return room if room.state == "pending" else None
    # A new room: say now (422, nothing written) if its provider lacks credentials, rather
    # than commit a room that can only fail.
    check_provider(wanted)
    if room is None:
        room = VideoRoom(session=event_session, provider=wanted, data={}, host_data={})
        db.session.add(room)
        return room
    if room.state in ("pending", "ready"):
        provisioning.release_later(room)  # another provider asked for: drop the old room
    if room.state != "failed" or room.external_id:
        room.generation += 1  # a new provider key, so a late delete can't hit the new room
    room.provider = wanted
    room.state = "pending"
    room.external_id = None
    room.attempts = 0
    room.last_error = None
    room.lease_until = None
    room.data, room.host_data = {}, {}
    return room


def _locked_sessions(event_id: int, *where) -> list[Session]:
    """Lock the event's sessions matching ``where`` and their video rooms, and read them
    afresh.

    A switch decides from the session's status and its room's state: read before the lock,
    a concurrent switch, status change or provisioning job could change them between the
    read and this transaction's write, and a room would be kept, lost or left pending.
    The event's row is locked first: every write to a session bumps the event's programme
    version (models/versioning.py) before it writes the session, so the same order here
    keeps PostgreSQL from deadlocking a switch against an edit.
    """
    lock_rows(Event, Event.id == event_id)
    lock_rows(Session, *where)
    ids = select(Session.id).where(*where).scalar_subquery()
    lock_rows(VideoRoom, VideoRoom.session_id.in_(ids))
    return list(db.session.scalars(
        select(Session).where(*where).order_by(Session.id)
        .options(selectinload(Session.video_room))
        .execution_options(populate_existing=True)))


def _apply_switch(event_session: Session, mode: str, provider: str | None) -> VideoRoom | None:
    """Write the switch into the open transaction; return a room that needs provisioning."""
    room = event_session.video_room
    same_provider = provider is None or (room is not None and room.provider == provider)
    if mode == event_session.mode and (mode == "in_person" or same_provider):
        if mode in ONLINE_MODES and room is not None and room.state == "pending":
            return room  # pending from a crash or a failed enqueue: safe to enqueue again
        if mode in ONLINE_MODES and room is not None and room.state == "failed":
            # Switching again is how a moderator retries a failed room: same provider, and
            # the same key (no provider room was made), so nothing new to publish but state.
            return _prepare_room(event_session, provider)
        return None
    if event_session.mode != mode:
        event_session.mode = mode
        event_session.sequence += 1  # LOCATION and CONFERENCE change in calendars
        event_session.updated_at = utcnow()
    if mode == "in_person":
        drop_room(event_session)
        return None
    return _prepare_room(event_session, provider)


def drop_room(event_session: Session) -> None:
    """Mark the session's room deleted and note its provider room for deletion after the
    commit (switching in person, cancelling)."""
    room = event_session.video_room
    if room is not None and room.state in ("pending", "ready", "failed"):
        provisioning.release_later(room)
        room.state = "deleted"
        room.lease_until = None


def apply_mode(event_session: Session, mode: str, *, renew: bool = False) -> VideoRoom | None:
    """Write ``mode`` into the open transaction for the programme's own services (an edit of
    the plan, a reinstatement); return a room to provision after the commit.

    ``renew``: the session's room was deleted (it was cancelled), so a video mode gets a
    new room even when the mode itself does not change.
    """
    if not renew:
        return _apply_switch(event_session, mode, None)
    if event_session.mode != mode:
        event_session.mode = mode
        event_session.sequence += 1
        event_session.updated_at = utcnow()
    return _prepare_room(event_session, None) if mode in ONLINE_MODES else None


def switch_session(
    event_session: Session, mode: str, provider: str | None = None, *, actor: Actor
) -> Session:
    """Move one session to ``mode`` (its moderators and organizers).

    Online and hybrid need a video room: a pending one is committed now and provisioned in
    the background on ``provider`` (or the room's, or the event's default provider).
    """
    access.require_moderator(actor, event_session)
    _check_mode(mode)
    if provider is not None:
        check_provider(provider)

    def apply() -> VideoRoom | None:
        _locked_sessions(event_session.event_id, Session.id == event_session.id)
        if event_session.is_finished:  # read under the lock: a cancel a moment ago counts
            raise Conflict(
                f"a {event_session.status} session cannot be switched",
                fields={"mode": f"the session is {event_session.status}"},
                code="session_finished",
            )
        return _apply_switch(event_session, mode, provider)

    room = _commit_switch(apply, event_session)
    _snapshot(event_session)
    if room is not None:
        provisioning.enqueue_provision(room.id)
    provisioning.flush_releases()
    return event_session


def _commit_switch(apply: Callable[[], VideoRoom | None],
                   event_session: Session) -> VideoRoom | None:
    """Apply and commit a switch; after losing a race for the room row, apply it again.

    A double click sends two switches at once: both see no room, both insert one, and the
    unique ``session_id`` lets only the first commit. The second then re-reads the session,
    finds the switch done, and changes nothing (or re-enqueues the pending room, which the
    lease makes harmless).
    """
    try:
        room = apply()
        db.session.commit()
        return room
    except IntegrityError:
        _rollback()
        log.info("switch of session %s raced another; applying again", event_session.id)
    except Exception:  # Invalid (provider not configured) and the unexpected: write nothing
        _rollback()
        raise
    db.session.refresh(event_session)
    room = apply()
    db.session.commit()
    return room


def _snapshot(event_session: Session) -> None:
    """Load the committed switch before any job runs, so the answer shows ``pending``.

    The commit expired every attribute; without this the serializer would read them later,
    racing the background job that may have made the room ``ready`` (or ``failed``)
    meanwhile. The caller answers with the state its own switch left.
    """
    event_session.version  # noqa: B018 - loads it (and the row)
    room = event_session.video_room
    if room is not None:
        (room.state, room.provider, room.last_error)  # noqa: B018 - loads them


def _rollback() -> None:
    """Roll back the switch and forget the provider deletions it noted."""
    db.session.rollback()
    provisioning.discard_releases()


def switch_event(event: Event, mode: str, *, actor: Actor) -> list[Session]:
    """Move every session of the event that is not over to ``mode`` (organizers only).

    ``as_planned`` returns each session to its planned mode (and the event to in person).
    Sessions that are over (ended, cancelled, or past their expected end) are left alone.
    Each session keeps a pending or ready room; one without gets a room on the event's
    default provider. All rooms are provisioned concurrently. Returns the sessions moved.
    """
    access.require_organizer(actor)
    _check_mode(mode, EVENT_MODES)
    now = utcnow()
    rooms: list[VideoRoom] = []
    moved: list[Session] = []
    try:
        # Status and rooms are read under the lock: a session cancelled or switched by
        # someone else a moment ago is seen as it is now, not as it was.
        sessions = [s for s in _locked_sessions(event.id, Session.event_id == event.id)
                    if not s.is_finished]
        event.mode = "in_person" if mode == AS_PLANNED else mode
        for event_session in sessions:
            if event_session.is_over(now):
                continue  # DESIGN.md: a whole-event switch leaves a session that is over alone
            before = (event_session.mode, event_session.sequence)
            target = event_session.planned_mode if mode == AS_PLANNED else mode
            room = _apply_switch(event_session, target, None)
            if room is not None:
                rooms.append(room)
            if (event_session.mode, event_session.sequence) != before:
                moved.append(event_session)
        db.session.flush()
        room_ids = [room.id for room in rooms]
        moved_ids = [event_session.id for event_session in moved]
        db.session.commit()
    except Exception:
        _rollback()
        raise
    # The answer shows what this switch committed: load it (in three queries, whatever the
    # size of the event) before any job can change it, then queue the jobs in one round trip.
    moved = list(db.session.scalars(
        select(Session).where(Session.id.in_(moved_ids)).order_by(Session.id)
        .options(selectinload(Session.video_room), selectinload(Session.moderators),
                 selectinload(Session.speakers)))) if moved else []
    provisioning.enqueue_provisions(room_ids)
    provisioning.flush_releases()
    return moved


def reschedule_room(event_session: Session) -> None:
    """After a change of time or title, carry it to the provider room (in the background)."""
    room = event_session.video_room
    if room is not None and room.state == "ready":
        provisioning.enqueue_update(room.id)


def release_room_later(event_session: Session) -> Callable[[], None]:
    """Before deleting a session: queue its provider room's deletion for after the commit."""
    room = event_session.video_room
    if room is not None and room.state in ("pending", "ready", "failed"):
        provisioning.release_later(room)
    return provisioning.flush_releases


@dataclass(frozen=True)
class EventSwitchPreview:
    """What :func:`switch_event` to ``mode`` would do now, session by session."""

    mode: str
    moving: list[Session]  # change to ``mode``
    over: list[Session]  # over (ended, cancelled, or past their expected end): left alone
    unchanged: list[Session]  # already in ``mode``
    retried: list[Session]  # among ``unchanged``: a failed video room that is tried again


def preview_event_switch(event: Event, mode: str, now: datetime) -> EventSwitchPreview:
    """Which sessions a whole-event switch to ``mode`` at ``now`` moves, and which stay.

    For the confirmation an organizer sees before :func:`switch_event` ("31 sessions move
    online; 4 are over and stay as they are"). Reads only.
    """
    _check_mode(mode)
    moving: list[Session] = []
    over: list[Session] = []
    unchanged: list[Session] = []
    retried: list[Session] = []
    sessions = db.session.scalars(
        select(Session).where(Session.event_id == event.id).order_by(Session.starts_at,
                                                                     Session.id))
    for event_session in sessions:
        if event_session.is_over(now):
            over.append(event_session)
        elif event_session.mode != mode:
            moving.append(event_session)
        else:
            unchanged.append(event_session)
            room = event_session.video_room
            if event_session.has_video and room is not None and room.state == "failed":
                retried.append(event_session)
    return EventSwitchPreview(mode, moving, over, unchanged, retried)
