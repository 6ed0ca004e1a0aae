"""Calendar feeds: sessions turned into ``calendars``' dataclasses, built once, served cached.

Three feeds (DESIGN.md "Calendars"): an event's public programme, one session, and a
participant's personal agenda. Only the personal feed carries join links, and only that
participant's EventHub link ``/join/<id>?t=<token>``, never a provider or host URL: the public
builders are never handed one, so they cannot leak it.

Building a 1,000-session feed with icalendar takes a few hundred milliseconds, so every feed is
kept in a bounded in-process cache under its *change state*: a tuple read with one query that
changes whenever a commit changes what the feed shows. For the public programme that is the
event's ``programme_version``, bumped in the same transaction as every change a feed shows
(:mod:`eventhub.models.versioning`), read by primary key; for one session, its row and its
hall's; for a personal agenda, an aggregate over the agenda's sessions. A warm request costs
that query and a dict lookup; nothing needs to invalidate the cache explicitly.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from calendars.build import build_calendar, session_uid
from calendars.model import FeedCalendar, FeedLink, FeedSession

from ..errors import NotFound
from ..extensions import db, socketio
from ..models import AgendaItem, Event, Participant, Room, Session, versioning
from ..models.participants import derive_token
from . import access, agenda
from . import sessions as session_service
from .access import Actor
from .common import LANGUAGES, get_or_404, pick_text

# The few words a feed shows besides the programme's own texts. A small table rather than the
# gettext catalogue: feeds are built outside any request locale, and a cached feed must not
# depend on who asked first.
LABELS: dict[str, dict[str, str]] = {
    "en": {"online": "Online", "join": "Join online", "page": "Session page",
           "agenda": "my agenda"},
    "ru": {"online": "Онлайн", "join": "Подключиться онлайн", "page": "Страница сессии",
           "agenda": "моя программа"},
    "de": {"online": "Online", "join": "Online teilnehmen", "page": "Sitzungsseite",
           "agenda": "meine Agenda"},
}  # fmt: skip

VIDEO_MODES = frozenset({"online", "hybrid"})
CACHE_MAX_ENTRIES = 512
CACHE_MAX_BYTES = 64 * 1024 * 1024  # a 1,000-session feed is about 1 MB
_EXTENSION = "eventhub.feed_cache"
_create_lock = threading.Lock()


@dataclass(frozen=True)
class Feed:
    """A built feed: its bytes and what HTTP needs to revalidate it."""

    body: bytes
    etag: str  # quoted SHA-256 of the body: a strong validator
    last_modified: datetime  # aware UTC, whole seconds
    filename: str
    shared: bool  # True when shared caches may keep it (a published event's public feed)


def render(cal: FeedCalendar) -> bytes:
    """The feed's bytes; under gevent, serialized on the hub's thread pool.

    Building a 1,000-session calendar is a few hundred milliseconds of pure CPU (no I/O). On
    the event loop it would freeze every socket of the process for that long; in an OS thread
    the loop keeps running between the interpreter's switches (every 5 ms).
    """
    if getattr(socketio, "async_mode", None) == "gevent":
        from gevent import get_hub

        return get_hub().threadpool.apply(build_calendar, (cal,))
    return build_calendar(cal)


# -- cache ------------------------------------------------------------------------------------


class FeedCache:
    """A bounded LRU of feeds, keyed by feed identity and checked against a change state."""

    def __init__(self, max_entries: int = CACHE_MAX_ENTRIES, max_bytes: int = CACHE_MAX_BYTES):
        """An empty cache holding at most ``max_entries`` feeds and ``max_bytes`` of bodies."""
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[Hashable, Feed]] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self._bytes = 0
        self.hits = 0
        self.builds = 0

    def fetch(self, ident: Hashable, state: Hashable,
              build: Callable[[Feed | None], Feed]) -> Feed:
        """The feed ``ident`` as of ``state``; ``build(previous)`` makes it on a miss."""
        feed = self._lookup(ident, state)
        if feed is not None:
            return feed
        with self._lock:
            build_lock = self._building.setdefault(ident, threading.Lock())
        # One build per feed at a time: concurrent cold requests wait for the first one
        # rather than all spending the same few hundred milliseconds.
        with build_lock:
            feed = self._lookup(ident, state)
            if feed is not None:
                return feed
            with self._lock:
                previous = self._entries.get(ident)
            feed = build(previous[1] if previous else None)
            self._store(ident, state, feed)
            return feed

    def clear(self) -> None:
        """Forget every feed (benchmarks measure cold builds with it)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def __len__(self) -> int:
        """The number of feeds held."""
        return len(self._entries)

    def _lookup(self, ident: Hashable, state: Hashable) -> Feed | None:
        """The cached feed if it was built for ``state``; marks it recently used."""
        with self._lock:
            entry = self._entries.get(ident)
            if entry is None or entry[0] != state:
                return None
            self._entries.move_to_end(ident)
            self.hits += 1
            return entry[1]

    def _store(self, ident: Hashable, state: Hashable, feed: Feed) -> None:
        """Keep ``feed`` for ``state`` (replacing any older one), then evict beyond the bounds."""
        with self._lock:
            self.builds += 1
            old = self._entries.pop(ident, None)
            if old is not None:
                self._bytes -= len(old[1].body)
            self._entries[ident] = (state, feed)
            self._bytes += len(feed.body)
            while self._entries and (
                len(self._entries) > self.max_entries or self._bytes > self.max_bytes
            ):
                evicted, (_state, evicted_feed) = self._entries.popitem(last=False)
                self._bytes -= len(evicted_feed.body)
                self._building.pop(evicted, None)


def feed_cache() -> FeedCache:
    """The current app's feed cache (one per app, so tests and apps never share entries)."""
    extensions = current_app.extensions
    cache = extensions.get(_EXTENSION)
    if cache is None:
        with _create_lock:
            cache = extensions.setdefault(_EXTENSION, FeedCache())
    return cache


# -- what goes into a feed ---------------------------------------------------------------------


def feed_language(requested: str | None, participant: Participant | None = None) -> str:
    """``?lang=`` if it is one of ru/de/en, else the participant's language, else English."""
    if requested in LANGUAGES:
        return requested
    if participant is not None and participant.language in LANGUAGES:
        return participant.language
    return "en"


def base_url() -> str:
    """EventHub's public base URL, without a trailing slash."""
    return current_app.config["EVENTHUB_BASE_URL"].rstrip("/")


def uid_domain() -> str:
    """The host of the base URL: the right-hand side of every session UID."""
    return urlsplit(base_url()).hostname or "eventhub.invalid"


def session_page_url(event_session: Session) -> str:
    """The public page of a session."""
    return f"{base_url()}/sessions/{event_session.id}"


def join_url(event_session: Session, participant: Participant) -> str:
    """A participant's personal EventHub join link (never the provider's URL)."""
    return f"{base_url()}/join/{event_session.id}?t={quote(participant.token, safe='')}"


def feed_session(
    event_session: Session, language: str, participant: Participant | None = None
) -> FeedSession:
    """One session as a calendar sees it; the join link only when ``participant`` is given."""
    labels = LABELS[language]
    join = None
    # A join link only where a video room can exist; a cancelled session has nothing to join.
    if (participant is not None and event_session.mode in VIDEO_MODES
            and event_session.status != "cancelled"):
        join = FeedLink(join_url(event_session, participant), labels["join"])
    return FeedSession(
        id=event_session.id,
        uid=session_uid(event_session.id, uid_domain()),
        title=pick_text(event_session.title, language),
        description=pick_text(event_session.description, language),
        starts_at=event_session.starts_at,
        ends_at=event_session.ends_at,
        sequence=event_session.sequence,
        status=event_session.status,
        mode=event_session.mode,
        location=event_session.room.name if event_session.room else "",
        track=event_session.track or "",
        last_modified=event_session.updated_at,
        created=event_session.created_at,
        page=FeedLink(session_page_url(event_session), labels["page"]),
        join=join,
    )


def _calendar(event: Event, name: str, url: str, language: str,
              sessions: tuple[FeedSession, ...]) -> FeedCalendar:
    """The FeedCalendar of ``event``; DTSTAMP is the newest change, so the bytes are stable."""
    stamps = [event.updated_at, *(s.last_modified for s in sessions if s.last_modified)]
    return FeedCalendar(
        name=name,
        timezone=event.timezone,
        sessions=sessions,
        description=pick_text(event.description, language),
        url=url,
        language=language,
        generated_at=max(stamps),
        online_label=LABELS[language]["online"],
    )


def _feed(body: bytes, stamp: datetime, filename: str, shared: bool,
          previous: Feed | None) -> Feed:
    """Wrap built bytes with their ETag and Last-Modified."""
    etag = f'"{hashlib.sha256(body).hexdigest()}"'
    last_modified = stamp.astimezone(UTC).replace(microsecond=0)
    if previous is not None and previous.etag != etag and last_modified <= previous.last_modified:
        # A deletion (a session, an agenda entry) changes the bytes without leaving a newer
        # stamp behind; move Last-Modified on so If-Modified-Since-only clients refetch.
        now = datetime.now(UTC).replace(microsecond=0)
        last_modified = max(previous.last_modified + timedelta(seconds=1), now)
    return Feed(body, etag, last_modified, filename, shared)


def _event_name(event: Event, language: str) -> str:
    """The event's title in ``language`` (its slug when it has none)."""
    return pick_text(event.title, language) or event.slug


# -- public programme --------------------------------------------------------------------------

# The change states are prebuilt statements with a bound parameter: a warm request runs one
# of them and looks up a dict, without constructing SQL or loading an ORM object.
_PUBLIC_STATE = select(Event.published, Event.programme_version).where(
    Event.id == bindparam("event_id"))


def _read_state(statement: Any, params: dict[str, Any]) -> Any:
    """One row of a change-state query (or None).

    A warm request has no ORM session yet: the query runs on a pooled connection of its own,
    without creating one (a third of a warm request's cost). A session that is in a
    transaction or holds pending changes reads through itself, so that it sees (and flushes,
    and so bumps) its own changes before a feed is built from them.
    """
    if db.session.registry.has():
        session = db.session()
        if session.in_transaction() or session.new or session.deleted or session.dirty:
            return db.session.execute(statement, params).one_or_none()
    with db.engine.connect() as connection:
        return connection.execute(statement, params).one_or_none()


def _uncommitted(event_id: int) -> tuple[object, ...]:
    """A never-equal marker when this transaction has bumped the event and not committed.

    A feed built from our own uncommitted changes must not be kept under a version number
    that a rollback hands back to the next, different, change.
    """
    if not db.session.registry.has():  # no session in this request yet: nothing uncommitted
        return ()
    return (object(),) if event_id in versioning.bumped_in_transaction(db.session()) else ()


def public_state(event: Event | int) -> tuple[Any, ...] | None:
    """What the public feed depends on, by primary key (None: no such event).

    The first value says whether the event is published, the second is the event's
    ``programme_version``: every commit that adds, changes or deletes one of its sessions (or
    their video rooms), renames or deletes a hall, or changes the event row bumps it in the
    same transaction (:mod:`eventhub.models.versioning`).
    """
    event_id = event if isinstance(event, int) else event.id
    row = _read_state(_PUBLIC_STATE, {"event_id": event_id})
    return (*row, *_uncommitted(event_id)) if row is not None else None


def get_public_feed_by_id(actor: Actor, event_id: int, language: str) -> Feed:
    """The public programme of event ``event_id`` (404 if missing or not visible to the actor).

    A published event is visible to anyone, so its warm path needs nothing but the state.
    """
    state = public_state(event_id)
    if state is None:
        raise NotFound(f"event {event_id} not found")
    event = None
    if not state[0]:
        event = get_or_404(Event, event_id, "event")
        access.require_view_event(actor, event)
    return _public_feed(actor, event_id, event, feed_language(language), state)


def get_public_feed(actor: Actor, event: Event, language: str) -> Feed:
    """The public programme of ``event`` in ``language`` (404 if the actor may not see it)."""
    access.require_view_event(actor, event)
    state = public_state(event)
    if state is None:
        raise NotFound(f"event {event.id} not found")
    return _public_feed(actor, event.id, event, feed_language(language), state)


def _public_feed(actor: Actor, event_id: int, event: Event | None, language: str,
                 state: tuple[Any, ...]) -> Feed:
    """The cached public feed, built on a miss."""

    def build(previous: Feed | None) -> Feed:
        """Load the programme and build the feed."""
        loaded = event or get_or_404(Event, event_id, "event")
        query = session_service.list_sessions(actor, loaded).options(selectinload(Session.room))
        sessions = tuple(feed_session(s, language) for s in db.session.scalars(query))
        cal = _calendar(loaded, _event_name(loaded, language),
                        f"{base_url()}/events/{loaded.slug}", language, sessions)
        return _feed(render(cal), cal.generated_at, f"{loaded.slug}.ics",
                     loaded.published, previous)

    return feed_cache().fetch(("event", event_id, language), state, build)


def public_feed(actor: Actor, event: Event, language: str) -> bytes:
    """The public programme of ``event`` as ``text/calendar`` bytes."""
    return get_public_feed(actor, event, language).body


# -- one session --------------------------------------------------------------------------------

# Its own row, not the event's programme_version: a change elsewhere in the programme leaves
# a one-session feed cached. The event's updated_at moves with any change of the event row.
_SESSION_STATE = (
    select(
        Event.published,
        Event.updated_at,
        Session.updated_at,
        Session.sequence,
        Session.room_id,
        Room.name,  # the feed's LOCATION: a renamed hall is a new feed
        Session.event_id,
    )
    .select_from(Session)
    .join(Event, Event.id == Session.event_id)
    .outerjoin(Room, Room.id == Session.room_id)
    .where(Session.id == bindparam("session_id"))
)


def session_state(session_id: int) -> tuple[Any, ...] | None:
    """What a one-session feed depends on, in one query (None: no such session)."""
    row = _read_state(_SESSION_STATE, {"session_id": session_id})
    return (*row, *_uncommitted(row[-1])) if row is not None else None


def get_session_feed_by_id(actor: Actor, session_id: int, language: str) -> Feed:
    """A one-session feed (404 if the session is missing or its event not visible)."""
    state = session_state(session_id)
    if state is None:
        raise NotFound(f"session {session_id} not found")
    event_session = None
    if not state[0]:
        event_session = session_service.get_session(actor, session_id)  # checks access
    return _session_feed(session_id, event_session, feed_language(language), state)


def get_session_feed(actor: Actor, event_session: Session, language: str) -> Feed:
    """A one-session feed with the public session page (404 if the actor may not see it)."""
    access.require_view_event(actor, event_session.event)
    state = session_state(event_session.id)
    if state is None:
        raise NotFound(f"session {event_session.id} not found")
    return _session_feed(event_session.id, event_session, feed_language(language), state)


def _session_feed(session_id: int, event_session: Session | None, language: str,
                  state: tuple[Any, ...]) -> Feed:
    """The cached one-session feed, built on a miss."""

    def build(previous: Feed | None) -> Feed:
        """Load the session and build its feed."""
        loaded = event_session or get_or_404(Session, session_id, "session")
        event = loaded.event
        one = feed_session(loaded, language)
        cal = _calendar(event, _event_name(event, language), one.page.url if one.page else "",
                        language, (one,))
        return _feed(render(cal), cal.generated_at,
                     f"{event.slug}-session-{loaded.id}.ics", event.published, previous)

    return feed_cache().fetch(("session", session_id, language), state, build)


def session_feed(actor: Actor, event_session: Session, language: str) -> bytes:
    """One session as ``text/calendar`` bytes."""
    return get_session_feed(actor, event_session, language).body


# -- personal agenda ---------------------------------------------------------------------------

# Found by the token's digest, like access.find_participant_by_token, and the agenda's state
# in the same query: a warm personal feed costs one query too.
_PERSONAL_STATE = (
    select(
        Participant.id,
        Participant.token_nonce,
        Participant.language,
        Event.updated_at,
        func.count(Session.id),
        func.max(Session.updated_at),
        func.coalesce(func.sum(Session.sequence), 0),
        func.coalesce(func.sum(Session.id), 0),
        func.max(AgendaItem.added_at),
    )
    .select_from(Participant)
    .join(Event, Event.id == Participant.event_id)
    .outerjoin(AgendaItem, AgendaItem.participant_id == Participant.id)
    .outerjoin(Session, Session.id == AgendaItem.session_id)
    .where(Participant.token_digest == bindparam("digest"))
    .group_by(Participant.id, Participant.token_nonce, Participant.language, Event.id,
              Event.updated_at)
)


def personal_state(token: str) -> tuple[int, str, tuple[Any, ...]] | None:
    """(participant id, language, change state) for a valid token, else None."""
    if not token or len(token) > 200:
        return None
    token_digest = access.digest(token)
    row = _read_state(_PERSONAL_STATE, {"digest": token_digest})
    if row is None or not hmac.compare_digest(
            derive_token(current_app.config["SECRET_KEY"], row[0], row[1]), token):
        return None
    # The token is in every join link: a rotated token is a different feed.
    return row[0], row[2], (*row[3:], token_digest)


def get_personal_feed(token: str, language: str | None = None) -> Feed:
    """A participant's agenda with their personal join links; unknown or revoked token: 404."""
    found = personal_state(token)
    if found is None:
        raise NotFound("no such calendar")
    participant_id, own_language, state = found
    if language not in LANGUAGES:
        language = own_language if own_language in LANGUAGES else "en"

    def build(previous: Feed | None) -> Feed:
        """Load the participant's agenda and build the feed with their join links."""
        participant = get_or_404(Participant, participant_id, "participant")
        event = participant.event
        chosen = agenda.list_agenda(participant, participant)
        sessions = tuple(feed_session(s, language, participant) for s in chosen)
        name = f"{_event_name(event, language)} — {LABELS[language]['agenda']}"
        cal = _calendar(event, name, f"{base_url()}/events/{event.slug}", language, sessions)
        return _feed(render(cal), cal.generated_at, f"{event.slug}-agenda.ics", False,
                     previous)

    return feed_cache().fetch(("personal", participant_id, language), state, build)


def personal_feed(token: str, language: str | None = None) -> bytes:
    """A participant's agenda as ``text/calendar`` bytes (404 for an unknown token)."""
    return get_personal_feed(token, language).body


# -- links for the pages -----------------------------------------------------------------------


def public_feed_session(event_session: Session, language: str) -> FeedSession:
    """A session as the public feed shows it, for "add to calendar" links (no join link)."""
    return feed_session(event_session, feed_language(language))
