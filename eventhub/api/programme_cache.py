"""``GET /api/v1/events/<id>/sessions``, kept as bytes under what changes it and revalidated.

A page of the programme is 500 sessions serialized from the ORM (about 20 ms with its people
and rooms), and every client of an event asks for the same pages. Like the programme page
(:mod:`eventhub.web.page_cache`) and the feeds, the answer is kept under a state read with one
query, the same query that loads the event for the access check:

- the event's ``programme_version``: bumped by every change of its sessions' columns and by
  sessions added, deleted or moved to another event (:mod:`eventhub.versioning`);
- the sum of its sessions' ``version``: each session's counter rises with every change of the
  session, of its video room (whose state the list shows) and of its people (a speaker
  deleted). While the programme version stands the set of sessions is fixed, and any bump
  raises the sum.

The entry's key is the event, the query parameters (as parsed) and the caller's kind. The body
itself depends on nobody: it shows no host data and no join links (a room's public state only,
see ``room_state``), and the same fields to everyone who may see the event. The access check
runs on every request before the cache is read, so a warm entry never answers a caller the
event is hidden from. The caller's kind is in the key all the same, so that a per-role field
added to the list one day cannot be served to another role.

The state read is itself kept for at most :data:`STATE_SECONDS`, and forgotten at once by any
commit of this process (an ``after_commit`` hook on ``db.session``): a warm hit then reads
nothing, and a change made through this process is seen by its next request. A change
committed by another process (a second worker, a CLI import) is seen within STATE_SECONDS.

The answer carries a strong ``ETag``; a client that revalidates gets ``304``. Nothing in the
list depends on the clock, so an entry lives until its state moves on (or the LRU drops it).
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from cachetools import LRUCache
from flask import Response, current_app, request
from sqlalchemy import bindparam, func, select
from sqlalchemy import event as sa_event

from ..errors import NotFound
from ..extensions import db, per_app
from ..models import Event, Participant, Session, User
from ..services import access
from ..services.common import MAX_ID

MAX_BYTES = 32 * 1024 * 1024  # bodies kept per app (a 500-session page is about 400 KB)
STATE_SECONDS = 1.0  # the longest another process's change takes to be seen here
_EXTENSION = "eventhub.programme_cache"
_VERSIONS = (select(func.coalesce(func.sum(Session.version), 0))
             .where(Session.event_id == Event.id).scalar_subquery())
_EVENT_STATE = (select(Event.id, Event.published, Event.programme_version,  # built once
                       _VERSIONS.label("versions"))
                .where(Event.id == bindparam("event_id")))


class ProgrammeCache:
    """(state, ETag, body) by key, in an LRU bounded by the bodies' bytes; thread-safe."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.entries: LRUCache = LRUCache(maxsize=max_bytes,
                                          getsizeof=lambda entry: len(entry[2]) or 1)
        self.lock = threading.Lock()  # cachetools' caches are not thread-safe
        self.builds = 0
        #: event id -> (commits seen, monotonic expiry, the state row), see :func:`_state`.
        self.states: LRUCache = LRUCache(maxsize=4096)

    def get(self, key: Hashable, state: Hashable) -> tuple[str, bytes] | None:
        """The (ETag, body) kept under ``key`` if it was built for ``state``."""
        with self.lock:
            entry = self.entries.get(key)
        return entry[1:] if entry is not None and entry[0] == state else None

    def put(self, key: Hashable, state: Hashable, etag: str, body: bytes) -> None:
        """Keep ``body`` under ``key`` for ``state`` (replacing an older state's)."""
        with self.lock:
            self.builds += 1
            try:
                self.entries[key] = (state, etag, body)
            except ValueError:  # larger than the whole cache: served, not kept
                self.entries.pop(key, None)


def programme_cache() -> ProgrammeCache:
    """The current app's cache (one per app, so tests and apps never share entries)."""
    return per_app(_EXTENSION, ProgrammeCache)


class Commits:
    """A new number after each commit of this process's ``db.session`` (any app, thread)."""

    numbers = itertools.count(1)
    count = 0

    @classmethod
    def seen(cls, _session: Any) -> None:
        # next() is atomic: two commits at once write two numbers, neither an earlier one.
        cls.count = next(cls.numbers)


def register() -> None:
    """Count ``db.session``'s commits (idempotent: once per process)."""
    if not sa_event.contains(db.session, "after_commit", Commits.seen):
        sa_event.listen(db.session, "after_commit", Commits.seen)


register()


def _state(cache: ProgrammeCache, event_id: int) -> Any:
    """The event's state row (id, published, programme_version, versions), or None.

    Kept until this process commits anything or STATE_SECONDS pass. The commit count is
    taken before the query: a commit made while it runs leaves the row unused.
    """
    commits, now = Commits.count, time.monotonic()
    with cache.lock:
        kept = cache.states.get(event_id)
    if kept is not None and kept[0] == commits and kept[1] > now:
        return kept[2]
    # One query of a few columns (no Event to build on a hit): what the access check reads
    # (the event's id and whether it is published) and the state the entry is kept under.
    row = db.session.execute(_EVENT_STATE, {"event_id": event_id}).one_or_none()
    if row is not None:
        with cache.lock:
            cache.states[event_id] = (commits, now + STATE_SECONDS, row)
    return row


def caller_kind(actor: Any) -> str:
    """"anonymous", "participant", or the user's role."""
    if isinstance(actor, User):
        return f"user:{actor.role}"
    if isinstance(actor, Participant):
        return "participant"
    return "anonymous"


def cached_list(actor: Any, event_id: int, params: tuple[Hashable, ...],
                build: Callable[[Event], Any]) -> Response:
    """The JSON of ``build(event)``, served from the cache when the event has not changed.

    404 (as ``get_event``) for an event the actor may not see, before the cache is read.
    """
    cache = programme_cache()
    row = _state(cache, event_id) if 0 < event_id <= MAX_ID else None
    if row is None:
        raise NotFound(f"event {event_id} not found")
    access.require_view_event(actor, row)
    key = (event_id, caller_kind(actor), params)
    state = (row.programme_version, row.versions)
    entry = cache.get(key, state)
    if entry is None:
        # Built after the state was read: a change committed in between is in the body (the
        # entry is newer than its key says, never older), and the next request rebuilds it.
        event = db.session.get(Event, event_id)
        body = current_app.json.response(build(event)).get_data()
        entry = (hashlib.sha256(body).hexdigest(), body)
        cache.put(key, state, *entry)
    response = Response(entry[1], mimetype="application/json")
    response.set_etag(entry[0])
    response.cache_control.no_cache = True  # keep it, but ask every time (ETag)
    if not row.published:
        response.cache_control.private = True  # for the people working on it only
    response.vary.add("Authorization")
    return response.make_conditional(request)
