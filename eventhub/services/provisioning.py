"""Background jobs that call the video providers: create, update and delete rooms.

Provisioning never runs inside a request's transaction. A switch commits a ``pending``
VideoRoom and enqueues :func:`provision_room`; the job leases the room (so no two workers call
the provider for it at once), calls the provider with the room's stable key (so retries, double
clicks and restarts find the same provider room), retries retryable faults under one tenacity
policy (:func:`retrying`: exponential backoff with jitter, honouring ``Retry-After``), falls
back to the event's fallback provider, and commits ``ready`` or ``failed`` with a readable
error.

Jobs run through :mod:`.jobs` (a bounded thread pool in the web process, or RQ workers when
``REDIS_URL`` is set). Pending rooms left by a crash are taken up by :func:`recover`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import tenacity
from flask import current_app
from sqlalchemy import and_, or_, select, update

from integrations.base import (
    Interpreter,
    ProviderError,
    ProviderNotConfigured,
    ProviderUnavailable,
    Room,
    RoomRequest,
    UnknownProvider,
)
from integrations.registry import PROVIDERS

from ..extensions import db
from ..models import Event, Participant, Session, VideoRoom, utcnow
from . import hosts
from .common import lock_rows, pick_text
from .jobs import Periodic, dispatcher, job, submit, submit_many  # noqa: F401 - dispatcher
from .providers import provider, provider_config

log = logging.getLogger(__name__)

#: The default lease (``EVENTHUB_PROVISIONING_LEASE_SECONDS``): renewed before every provider
#: call, so it need only outlast one call and the wait before the next.
LEASE = timedelta(seconds=120)
MAX_RETRY_AFTER = 30.0  # a Retry-After beyond this ends the attempts on that provider


@dataclass(frozen=True)
class Release:
    """What is needed to delete a provider room after its row moved on."""

    provider: str
    external_id: str
    data: dict[str, Any]
    host_data: dict[str, Any]


def enqueue_provision(room_id: int) -> None:
    """Provision the room in the background (after the caller's commit).

    With ``PROVISIONING_DEFERRED`` (``seed-demo`` under EVENTHUB_SANDBOX=1, before the
    simulators run) the room stays pending: ``serve`` takes it up at start-up.
    """
    if current_app.config.get("PROVISIONING_DEFERRED"):
        return
    submit(provision_room, room_id)


def enqueue_provisions(room_ids: list[int]) -> None:
    """Provision these rooms in the background, queued in one round trip (after the commit)."""
    submit_many([(provision_room, (room_id,)) for room_id in room_ids])


def enqueue_update(room_id: int) -> None:
    """Carry a rescheduled session to its provider room in the background."""
    submit(update_room, room_id)


def release_later(room: VideoRoom) -> None:
    """Note a provider room to delete once the caller's transaction commits."""
    if room.external_id:
        releases = db.session.info.setdefault("eventhub.releases", [])
        releases.append(Release(room.provider, room.external_id, dict(room.data or {}),
                                dict(room.host_data or {})))


def flush_releases() -> None:
    """Enqueue the deletions noted by :func:`release_later` (call after the commit)."""
    submit_many([(delete_provider_room, (release,))
                 for release in db.session.info.pop("eventhub.releases", [])])


def discard_releases() -> None:
    """Forget noted deletions (the transaction rolled back)."""
    db.session.info.pop("eventhub.releases", None)


# -- jobs -------------------------------------------------------------------------------------


def room_key(room: VideoRoom) -> str:
    """The provider-side idempotency key: stable for the session and generation, and tagged
    with an HMAC under this installation's SECRET_KEY, so a room name (Jitsi without JWT) can't
    be guessed from a session id and two installations never meet in the same room.

    The tag also covers the session's creation instant (to the microsecond): two databases
    sharing one ``instance/secret_key`` (a fresh demo database, a copy for tests) number their
    sessions alike, and a new session must never get an old session's public room.
    """
    base = f"s{room.session_id}-g{room.generation}"
    created = room.session.created_at if room.session is not None else None
    stamp = created.isoformat() if created is not None else ""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    tag = hmac.new(secret, f"{base}-{stamp}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"eventhub-{base}-{tag}"


def room_request(room: VideoRoom) -> RoomRequest:
    """What the provider is asked for, derived from the room's session: its key, title and
    times, the pool host chosen for it, its moderators as alternative hosts, its interpreters."""
    event_session = room.session
    event = event_session.event
    return RoomRequest(
        key=room_key(room),
        title=pick_text(event_session.title, "en"),
        starts_at=event_session.starts_at,
        ends_at=event_session.ends_at,
        timezone=event.timezone,
        description=pick_text(event.title, "en"),
        host=room.host or "",
        alternative_hosts=tuple(sorted(user.email for user in event_session.moderators)),
        interpreters=interpreters(event_session),
    )


def interpreters(event_session: Session) -> tuple[Interpreter, ...]:
    """The session's interpreters and their language pairs.

    With languages [L0, L1, ...] each interpreter works between L0 and one of the others, in
    turn (two languages: every interpreter works between both).
    """
    plan = event_session.interpretation or {}
    languages = list(plan.get("languages") or [])
    ids = list(plan.get("interpreter_ids") or [])
    if len(languages) < 2 or not ids:
        return ()
    people = {p.id: p for p in db.session.scalars(select(Participant).where(
        Participant.id.in_(ids), Participant.event_id == event_session.event_id))}
    found = [people[i] for i in ids if i in people]
    return tuple(
        Interpreter(person.email, (languages[0], languages[1 + n % (len(languages) - 1)]))
        for n, person in enumerate(found)
    )


def interpretation_state(room: VideoRoom | None) -> str | None:
    """"provider" where the meeting carries the interpretation channels, "hall_only" where the
    provider has none (interpreters work in the hall), None without interpretation."""
    if room is None or not interpreters(room.session):
        return None
    cls = PROVIDERS.get(room.provider)
    return "provider" if cls is not None and cls.supports_interpretation else "hall_only"


def as_room(room: VideoRoom) -> Room:
    """The provider's view of a stored room."""
    return Room(room.provider, room.external_id or "", dict(room.data or {}),
                dict(room.host_data or {}))


def lease_length() -> timedelta:
    """How long a worker holds a room (``EVENTHUB_PROVISIONING_LEASE_SECONDS``)."""
    seconds = current_app.config.get("PROVISIONING_LEASE_SECONDS")
    return timedelta(seconds=seconds) if seconds else LEASE


def _lease(room_id: int) -> bool:
    """Take the room for this worker if it is pending and nobody else holds it.

    One conditional UPDATE: of two workers (threads, processes, machines) racing for the
    same room, the database lets exactly one match the row.
    """
    now = utcnow()
    result = db.session.execute(
        update(VideoRoom)
        .where(VideoRoom.id == room_id, VideoRoom.state == "pending",
               or_(VideoRoom.lease_until.is_(None), VideoRoom.lease_until < now))
        .values(lease_until=now + lease_length())
    )
    db.session.commit()
    return result.rowcount == 1


def _renew_lease(room_id: int, generation: int) -> bool:
    """Extend this worker's lease before another provider call; False if the room moved on.

    Long Retry-After waits on two providers could outlast one lease; renewing before each
    call keeps a second worker (or :func:`recover`) from taking the room meanwhile.
    """
    result = db.session.execute(
        update(VideoRoom)
        .where(VideoRoom.id == room_id, VideoRoom.state == "pending",
               VideoRoom.generation == generation)
        .values(lease_until=utcnow() + lease_length())
    )
    db.session.commit()
    return result.rowcount == 1


def backoff(attempt: int, retry_after: float | None, base: float) -> float:
    """Seconds to wait before retry ``attempt`` (1-based).

    Exponential with "equal jitter" (half fixed, half random), so that the rooms of a
    whole-event switch don't retry in lockstep; never less than the provider's Retry-After.
    """
    delay = base * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)  # noqa: S311 - jitter
    return max(delay, retry_after) if retry_after is not None else delay


def retrying(name: str, what: str, *, before: Callable[[], None] | None = None,
             creates: bool = False) -> tenacity.Retrying:
    """The retry policy of every provider call: a call to provider ``name`` (about ``what``,
    for the log) that fails retryably (:class:`ProviderUnavailable`: 5xx, 429, timeouts, resets,
    malformed bodies) is made again, up to ``PROVISIONING_ATTEMPTS`` calls in all, after
    :func:`backoff`; permanent faults (rejected, not configured) and a Retry-After beyond
    ``MAX_RETRY_AFTER`` end the attempts. The last fault is raised.

    ``before`` runs before every call (the lease renewal of :func:`provision_room`, which
    raises when the room moved on). With ``creates``, a lost answer is given as long again as
    the provider's read timeout: the lost request may still be running, and asking again at
    once could find nothing and create a second room.
    """
    attempts = current_app.config["PROVISIONING_ATTEMPTS"]
    base = current_app.config["PROVISIONING_BACKOFF"]

    def stop(state: tenacity.RetryCallState) -> bool:
        fault = state.outcome.exception()
        return state.attempt_number >= attempts or (fault.retry_after or 0) > MAX_RETRY_AFTER

    def wait(state: tenacity.RetryCallState) -> float:
        fault = state.outcome.exception()
        delay = backoff(state.attempt_number, fault.retry_after, base)
        return max(delay, provider(name).timeout[1]) if creates and fault.in_doubt else delay

    def log_retry(state: tenacity.RetryCallState) -> None:
        log.info("provider %s unavailable for %s (attempt %d), retry in %.2fs",
                 name, what, state.attempt_number, state.upcoming_sleep)

    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(ProviderUnavailable),
        stop=stop, wait=wait, before_sleep=log_retry, reraise=True,
        before=(lambda state: before()) if before is not None else tenacity.before_nothing)


def readable(name: str, error: ProviderError) -> str:
    """``<provider>: <cause>`` for ``last_error`` (provider messages are already redacted)."""
    if isinstance(error, ProviderNotConfigured | UnknownProvider):
        cls = PROVIDERS.get(name)
        missing = cls.missing(provider_config()) if cls is not None else ()
        if missing:
            return f"{name}: not configured (missing {', '.join(missing)})"
        return f"{name}: not configured ({error.message})"
    message = error.message
    return message if message.startswith(f"{name}:") else f"{name}: {message}"


class _MovedOn(Exception):
    """The room is no longer this worker's to provision (switched away, or re-created)."""


def _try_provider(name: str, req: RoomRequest, room_id: int,
                  generation: int) -> tuple[Room | None, str, bool]:
    """Create the room on one provider under the retry policy: the room, or None and the last
    error; and whether an answer was lost (the provider may have made a room all the same).
    Raises :class:`_MovedOn` when the lease cannot be renewed before a call."""
    in_doubt = False

    def renew() -> None:
        if not _renew_lease(room_id, generation):
            raise _MovedOn

    def create() -> Room:
        nonlocal in_doubt
        try:
            return provider(name).create_room(req)
        except ProviderUnavailable as exc:
            in_doubt = in_doubt or exc.in_doubt
            raise

    try:
        return retrying(name, req.key, before=renew, creates=True)(create), "", in_doubt
    except ProviderError as exc:
        return None, readable(name, exc), in_doubt


def _current(room_id: int, generation: int) -> VideoRoom | None:
    """The room, fresh from the database and locked until the commit, if it is still pending
    in this generation (a switch meanwhile waits for the commit, then sees the outcome).

    Locks in the order every writer keeps: the event, the session, then the room (a switch
    does the same; the flush then bumps the session's version, already held)."""
    session_id = db.session.scalar(select(VideoRoom.session_id).where(VideoRoom.id == room_id))
    event_id = db.session.scalar(select(Session.event_id).where(Session.id == session_id))
    if event_id is not None:
        lock_rows(Event, Event.id == event_id)
        lock_rows(Session, Session.id == session_id)
    lock_rows(VideoRoom, VideoRoom.id == room_id)
    room = db.session.get(VideoRoom, room_id, populate_existing=True)
    if room is None or room.state != "pending" or room.generation != generation:
        return None
    return room


@job
def provision_room(room_id: int) -> None:
    """Create the provider room of a pending VideoRoom; end ``ready`` or ``failed``.

    Exactly one provider room per session and generation: the lease keeps other workers
    out, the key (:func:`room_key`) makes every create idempotent at the provider, and a room
    created for a generation the session has left is deleted again.
    A crash after the provider answered leaves the room ``pending``; :func:`recover` runs
    this again and the same key finds the same provider room.
    """
    if not _lease(room_id):
        return  # not pending any more, or another worker has it
    room = db.session.get(VideoRoom, room_id)
    generation = room.generation
    try:
        hosts.assign_host(room, room.provider)
    except hosts.NoFreeHost as exc:
        _fail_now(room_id, generation, str(exc))
        return
    except ProviderError:
        pass  # not configured: the provider call below says so in the room's error
    room = db.session.get(VideoRoom, room_id)
    req = room_request(room)
    fallback = room.session.event.fallback_provider
    names = [room.provider] + ([fallback] if fallback and fallback != room.provider else [])
    attempts = 0
    errors: list[str] = []
    doubtful: list[str] = []  # providers whose lost answers may have made a room
    db.session.commit()  # no transaction stays open while the provider is called
    for name in names:
        try:
            asked = req if name == room.provider else replace(req, host="")
            created, error, in_doubt = _try_provider(name, asked, room_id, generation)
        except _MovedOn:
            log.info("room %s moved on while provisioning; stopping", room_id)
            return
        attempts += 1
        if created is None:
            if in_doubt:
                doubtful.append(name)
            errors.append(error)
            log.warning("provisioning room %s on %s failed: %s", room_id, name, error)
            continue
        room = _current(room_id, generation)
        if room is None:
            # The session moved on while the provider worked: don't keep a stray room.
            db.session.rollback()
            submit(delete_provider_room, Release(created.provider, created.external_id,
                                                  created.data, created.host_data))
            return
        room.provider = created.provider
        room.external_id = created.external_id
        room.data, room.host_data = created.data, created.host_data
        room.state, room.last_error, room.lease_until = "ready", None, None
        room.attempts += attempts
        db.session.commit()
        log.info("room %s ready on %s", room_id, created.provider)
        for name in doubtful:  # one provider room per session: not one here and one there
            submit(sweep_room, name, req)
        return
    room = _current(room_id, generation)
    if room is not None:
        room.state, room.lease_until = "failed", None
        room.last_error = "; ".join(errors)
        room.attempts += attempts
        db.session.commit()
        log.warning("room %s failed: %s", room_id, room.last_error)


def _fail_now(room_id: int, generation: int, error: str) -> None:
    """Mark a room failed before any provider call (no host free for it)."""
    room = _current(room_id, generation)
    if room is not None:
        room.state, room.lease_until, room.last_error = "failed", None, error
        db.session.commit()
        log.warning("room %s failed: %s", room_id, error)


@job
def sweep_room(name: str, req: RoomRequest) -> None:
    """Delete the room a provider may have made for ``req`` although its answer was lost.

    Called once the session's room is ready on another (the fallback) provider. The create is
    idempotent on the key, so it finds that room (or makes one, deleted at once) to delete.
    """
    try:
        found = retrying(name, req.key, creates=True)(provider(name).create_room, req)
        retrying(name, req.key)(provider(name).delete_room, found)
        log.info("deleted the %s room %s left by a lost answer", name, req.key)
    except ProviderError as exc:
        log.warning("could not delete the %s room %s left by a lost answer: %s",
                    name, req.key, exc.message)


@job
def update_room(room_id: int) -> None:
    """Carry the session's new times and title to its ready provider room."""
    room = db.session.get(VideoRoom, room_id)
    if room is None or room.state != "ready":
        return
    host_problem = None
    try:  # a new time may overlap another meeting of the host: move to a free one
        hosts.assign_host(room, room.provider)
    except hosts.NoFreeHost as exc:
        host_problem = f"{exc} (the meeting keeps its host)"
        log.warning("room %s keeps its host: %s", room_id, exc)
    room = db.session.get(VideoRoom, room_id)
    generation, name, current, req = room.generation, room.provider, as_room(room), \
        room_request(room)
    db.session.commit()  # no transaction stays open while the provider is called
    try:
        updated = retrying(name, f"room {room_id}")(provider(name).update_room, current, req)
    except ProviderError as exc:
        log.warning("updating room %s on %s failed: %s", room_id, name, exc.message)
        room = db.session.get(VideoRoom, room_id, populate_existing=True)
        if room is not None and room.generation == generation:
            room.last_error = readable(name, exc)
            db.session.commit()
        return
    room = db.session.get(VideoRoom, room_id, populate_existing=True)
    if room is None or room.state != "ready" or room.generation != generation:
        return  # switched away meanwhile: the new room has its own data
    # A move to another host is a new meeting: its id changes, EventHub's join link does not.
    room.external_id = updated.external_id
    room.data, room.host_data = updated.data, updated.host_data
    room.last_error = host_problem
    db.session.commit()
    log.info("room %s updated on %s", room_id, name)


@job
def delete_provider_room(release: Release) -> None:
    """Delete a provider room that EventHub no longer uses (gone already counts as done)."""
    room = Room(release.provider, release.external_id, release.data, release.host_data)
    try:
        retrying(release.provider, release.external_id)(
            provider(release.provider).delete_room, room)
    except ProviderError as exc:
        log.warning("deleting a %s room failed: %s", release.provider, exc.message)


def recover(*, take_over: bool = False, lost_only: bool = False) -> int:
    """Enqueue every pending room whose lease is free or expired; returns how many.

    ``take_over`` also takes rooms still leased: right for the single-process mode at start-up,
    where any lease was held by a process that is gone. In RQ mode live workers hold leases,
    so a starting web process takes only expired ones whatever ``take_over`` says.
    ``lost_only`` (the periodic scan, :func:`start_recovery`) leaves alone a room that has no
    lease but changed within one lease length: its job is most likely still in the queue.
    """
    if take_over and current_app.extensions.get("eventhub.rq") is not None:
        log.info("RQ mode: not taking over leased rooms (workers may hold them)")
        take_over = False
    if take_over:
        db.session.execute(
            update(VideoRoom).where(VideoRoom.state == "pending").values(lease_until=None)
        )
        db.session.commit()
    now = utcnow()
    unleased = VideoRoom.lease_until.is_(None)
    if lost_only:
        unleased = and_(unleased, VideoRoom.updated_at < now - lease_length())
    ids = list(db.session.scalars(
        select(VideoRoom.id).where(
            VideoRoom.state == "pending", or_(unleased, VideoRoom.lease_until < now),
        ).order_by(VideoRoom.id)
    ))
    enqueue_provisions(ids)
    if ids:
        log.info("recovering %d pending rooms", len(ids))
    return len(ids)


def start_recovery(app: Any) -> Any:
    """Every ``PROVISIONING_RECOVER_SECONDS``, queue again the rooms whose worker died.

    Runs in ``flask eventhub worker`` and in the web process of the embedded mode (jobs on
    its thread pool): a room whose lease ran out is taken up within lease + period seconds.
    Returns the running :class:`~.jobs.Periodic` (``stop()`` ends it), or None when disabled.
    """
    seconds = float(app.config.get("PROVISIONING_RECOVER_SECONDS") or 0)
    if seconds <= 0:
        return None
    return Periodic(app, seconds, lambda: recover(lost_only=True), "provisioning-recovery").start()
