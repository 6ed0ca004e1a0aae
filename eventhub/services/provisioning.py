"""Background jobs that call the video providers: create, update and delete rooms.

Provisioning never runs inside a request's transaction. A switch commits a ``pending``
VideoRoom and enqueues :func:`provision_room`; the job leases the room (so no two workers call
the provider for it at once), calls the provider with the room's stable key (so retries, double
clicks and restarts find the same provider room), retries retryable faults with exponential
backoff and jitter honouring ``Retry-After``, falls back to the event's fallback provider, and
commits ``ready`` or ``failed`` with a readable error.

Jobs run on a bounded thread pool in the web process, or on RQ workers when ``REDIS_URL`` is set
(``flask eventhub worker``). Pending rooms left by a crash are taken up by :func:`recover`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import or_, select, update

from integrations.base import (
    JoinRequest,
    ProviderError,
    ProviderNotConfigured,
    ProviderRejected,
    ProviderUnavailable,
    Room,
    RoomRequest,
    UnknownProvider,
)

from ..extensions import db
from ..models import VideoRoom, utcnow
from .common import pick_text
from .providers import provider

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)  # longer than the slowest retry sequence
MAX_RETRY_AFTER = 30.0  # a Retry-After beyond this ends the attempts on that provider


@dataclass(frozen=True)
class Release:
    """What is needed to delete a provider room after its row moved on."""

    provider: str
    external_id: str
    data: dict[str, Any]
    host_data: dict[str, Any]


# -- queueing ---------------------------------------------------------------------------------


class Dispatcher:
    """Runs jobs on a bounded thread pool, each in its own app context."""

    def __init__(self, app: Flask, workers: int):
        self.app = app
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="provision")
        self.futures: set[Future] = set()
        self.lock = threading.Lock()

    def submit(self, func: Any, *args: Any) -> None:
        """Run ``func(*args)`` on the pool inside an app context."""
        future = self.pool.submit(self._run, func, *args)
        with self.lock:
            self.futures.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        with self.lock:
            self.futures.discard(future)

    def _run(self, func: Any, *args: Any) -> None:
        with self.app.app_context():
            try:
                func(*args)
            except Exception:
                log.exception("background job %s failed", func.__name__)
                db.session.rollback()
            finally:
                db.session.remove()

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until every submitted job (and any they submitted) is done; for tests/CLI."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                pending = list(self.futures)
            if not pending:
                return True
            for future in pending:
                future.exception(timeout=max(0.0, deadline - time.monotonic()))
        return False

    def shutdown(self) -> None:
        """Stop taking jobs; running ones finish."""
        self.pool.shutdown(wait=True, cancel_futures=False)


def init_app(app: Flask) -> None:
    """Attach the job runner: a bounded thread pool in this process."""
    app.extensions["eventhub.dispatcher"] = Dispatcher(app, app.config["PROVISIONING_WORKERS"])


def _submit(func: Any, *args: Any) -> None:
    queue = current_app.extensions.get("eventhub.rq")
    if queue is not None:
        queue.enqueue(func, *args)
    else:
        current_app.extensions["eventhub.dispatcher"].submit(func, *args)


def dispatcher() -> Dispatcher:
    """The app's thread-pool dispatcher."""
    return current_app.extensions["eventhub.dispatcher"]


def enqueue_provision(room_id: int) -> None:
    """Provision the room in the background (after the caller's commit)."""
    _submit(provision_room, room_id)


def enqueue_update(room_id: int) -> None:
    """Carry a rescheduled session to its provider room in the background."""
    _submit(update_room, room_id)


def release_later(room: VideoRoom) -> None:
    """Note a provider room to delete once the caller's transaction commits."""
    if room.external_id:
        releases = db.session.info.setdefault("eventhub.releases", [])
        releases.append(Release(room.provider, room.external_id, dict(room.data or {}),
                                dict(room.host_data or {})))


def flush_releases() -> None:
    """Enqueue the deletions noted by :func:`release_later` (call after the commit)."""
    for release in db.session.info.pop("eventhub.releases", []):
        _submit(delete_provider_room, release)


def discard_releases() -> None:
    """Forget noted deletions (the transaction rolled back)."""
    db.session.info.pop("eventhub.releases", None)


# -- jobs -------------------------------------------------------------------------------------


def room_request(room: VideoRoom) -> RoomRequest:
    """What the provider is asked for, derived from the room's session."""
    event_session = room.session
    event = event_session.event
    return RoomRequest(
        key=room.key,
        title=pick_text(event_session.title, "en"),
        starts_at=event_session.starts_at,
        ends_at=event_session.ends_at,
        timezone=event.timezone,
        description=pick_text(event.title, "en"),
    )


def as_room(room: VideoRoom) -> Room:
    """The provider's view of a stored room."""
    return Room(room.provider, room.external_id or "", dict(room.data or {}),
                dict(room.host_data or {}))


def _lease(room_id: int) -> bool:
    """Take the room for this worker if it is pending and nobody else holds it."""
    now = utcnow()
    result = db.session.execute(
        update(VideoRoom)
        .where(VideoRoom.id == room_id, VideoRoom.state == "pending",
               or_(VideoRoom.lease_until.is_(None), VideoRoom.lease_until < now))
        .values(lease_until=now + LEASE)
    )
    db.session.commit()
    return result.rowcount == 1


def backoff(attempt: int, retry_after: float | None, base: float) -> float:
    """Seconds to wait before retry ``attempt`` (1-based): Retry-After, else exponential+jitter."""
    if retry_after is not None:
        return retry_after
    return base * (2 ** (attempt - 1)) * (0.5 + random.random() / 2)  # noqa: S311 - jitter


def _readable(name: str, error: ProviderError) -> str:
    if isinstance(error, ProviderNotConfigured | UnknownProvider):
        return f"{name}: not configured ({error.message})"
    return f"{name}: {error.message}"


def _try_provider(name: str, req: RoomRequest) -> tuple[Room | None, str]:
    """Create the room on one provider with retries; the room, or None and the last error."""
    attempts = current_app.config["PROVISIONING_ATTEMPTS"]
    base = current_app.config["PROVISIONING_BACKOFF"]
    error = ""
    for attempt in range(1, attempts + 1):
        try:
            return provider(name).create_room(req), ""
        except ProviderUnavailable as exc:
            error = _readable(name, exc)
            if attempt == attempts or (exc.retry_after or 0) > MAX_RETRY_AFTER:
                break
            delay = backoff(attempt, exc.retry_after, base)
            log.info("provider %s unavailable for %s (attempt %d), retry in %.2fs",
                     name, req.key, attempt, delay)
            time.sleep(delay)
        except ProviderError as exc:  # rejected, not configured: retrying will not help
            return None, _readable(name, exc)
    return None, error


def provision_room(room_id: int) -> None:
    """Create the provider room of a pending VideoRoom; end ``ready`` or ``failed``."""
    if not _lease(room_id):
        return  # not pending any more, or another worker has it
    room = db.session.get(VideoRoom, room_id)
    generation = room.generation
    req = room_request(room)
    fallback = room.session.event.fallback_provider
    names = [room.provider] + ([fallback] if fallback and fallback != room.provider else [])
    attempts = 0
    errors: list[str] = []
    db.session.commit()  # no transaction stays open while the provider is called
    for name in names:
        created, error = _try_provider(name, req)
        attempts += 1
        if created is None:
            errors.append(error)
            log.warning("provisioning room %s on %s failed: %s", room_id, name, error)
            continue
        room = db.session.get(VideoRoom, room_id)
        db.session.refresh(room)
        if room is None or room.state != "pending" or room.generation != generation:
            # The session moved on while the provider worked: don't keep a stray room.
            _submit(delete_provider_room, Release(created.provider, created.external_id,
                                                  created.data, created.host_data))
            db.session.commit()
            return
        room.provider = created.provider
        room.external_id = created.external_id
        room.data, room.host_data = created.data, created.host_data
        room.state, room.last_error, room.lease_until = "ready", None, None
        room.attempts += attempts
        db.session.commit()
        log.info("room %s ready on %s", room_id, created.provider)
        return
    room = db.session.get(VideoRoom, room_id)
    db.session.refresh(room)
    if room.state == "pending" and room.generation == generation:
        room.state, room.lease_until = "failed", None
        room.last_error = "; ".join(errors)
        room.attempts += attempts
        db.session.commit()


def update_room(room_id: int) -> None:
    """Carry the session's new times and title to its ready provider room."""
    room = db.session.get(VideoRoom, room_id)
    if room is None or room.state != "ready":
        return
    try:
        updated = provider(room.provider).update_room(as_room(room), room_request(room))
    except ProviderError as exc:
        log.warning("updating room %s on %s failed: %s", room_id, room.provider, exc.message)
        room.last_error = _readable(room.provider, exc)
        db.session.commit()
        return
    room.data, room.host_data = updated.data, updated.host_data
    room.last_error = None
    db.session.commit()


def delete_provider_room(release: Release) -> None:
    """Delete a provider room that EventHub no longer uses (gone already counts as done)."""
    room = Room(release.provider, release.external_id, release.data, release.host_data)
    attempts = current_app.config["PROVISIONING_ATTEMPTS"]
    for attempt in range(1, attempts + 1):
        try:
            provider(release.provider).delete_room(room)
            return
        except ProviderUnavailable as exc:
            if attempt == attempts:
                log.warning("deleting a %s room failed: %s", release.provider, exc.message)
                return
            time.sleep(backoff(attempt, exc.retry_after,
                               current_app.config["PROVISIONING_BACKOFF"]))
        except (ProviderRejected, ProviderError) as exc:
            log.warning("deleting a %s room failed: %s", release.provider, exc.message)
            return


def recover(*, take_over: bool = False) -> int:
    """Enqueue every pending room whose lease is free or expired; returns how many.

    ``take_over`` also takes rooms still leased: right for the single-process mode at start-up,
    where any lease was held by a process that is gone.
    """
    if take_over:
        db.session.execute(
            update(VideoRoom).where(VideoRoom.state == "pending").values(lease_until=None)
        )
        db.session.commit()
    now = utcnow()
    ids = list(db.session.scalars(
        select(VideoRoom.id).where(
            VideoRoom.state == "pending",
            or_(VideoRoom.lease_until.is_(None), VideoRoom.lease_until < now),
        )
    ))
    for room_id in ids:
        enqueue_provision(room_id)
    if ids:
        log.info("recovering %d pending rooms", len(ids))
    return len(ids)


def join_url(room: VideoRoom, display_name: str, user_id: str = "") -> str:
    """A participant's provider URL for the room (never a host URL)."""
    return provider(room.provider).join_url(
        as_room(room), JoinRequest(display_name=display_name, user_id=user_id)
    )


def host_url(room: VideoRoom, display_name: str, user_id: str = "") -> str:
    """A moderator's provider URL with host rights."""
    return provider(room.provider).host_url(
        as_room(room), JoinRequest(display_name=display_name, user_id=user_id, moderator=True)
    )
