"""Calendar feeds: sessions turned into ``calendars``' dataclasses, built once, served cached.

Three feeds (DESIGN.md "Calendars"): an event's public programme, one session, and a
participant's personal agenda. Only the personal feed carries join links, and only that
participant's EventHub link ``/join/<id>?t=<token>``, never a provider or host URL: the public
builders are never handed one, so they cannot leak it.

Building a 1,000-session feed with icalendar takes a few hundred milliseconds, so every feed is
kept in a bounded in-process cache under its *change state*: a tuple read with one query that
changes whenever a commit changes what the feed shows. For the public programme that is the
event's ``programme_version``, bumped in the same transaction as every change a feed shows
(:mod:`eventhub.versioning`), read by primary key; for one session, its row and its
hall's; for a personal agenda, the event's ``programme_version`` and an aggregate over the
agenda itself. A warm request costs that query and a dict lookup; nothing needs to invalidate
the cache explicitly. Each feed's ``Last-Modified`` is kept in ``feed_stamps``
(:func:`_last_modified`), so it never goes backwards across restarts and processes.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any
from urllib.parse import quote, urlsplit

from cachetools import LRUCache
from flask import current_app
from flask_babel import force_locale, pgettext
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from calendars.build import build_calendar, session_uid
from calendars.model import FeedCalendar, FeedLink, FeedSession

from .. import versioning
from ..errors import NotFound
from ..extensions import db, per_app, socketio
from ..models import AgendaItem, Event, FeedStamp, Participant, Room, Session, Status
from ..models.participants import derive_token
from . import access, agenda
from . import sessions as session_service
from .access import Actor
from .common import LANGUAGES, get_or_404, pick_text


@functools.cache
def labels(language: str) -> dict[str, str]:
    """The few words a feed shows besides the programme's own texts, in ``language``.

    From the catalogue (context ``calendar``), always in the feed's language and never the
    request's: a cached feed must not depend on who asked first. The catalogues are fixed for
    the life of the process, so each language is looked up once.
    """
    with force_locale(language):
        return {"online": pgettext("calendar", "Online"),
                "join": pgettext("calendar", "Join online"),
                "page": pgettext("calendar", "Session page"),
                "agenda": pgettext("calendar", "my agenda")}

CACHE_MAX_BYTES = 64 * 1024 * 1024  # a 1,000-session feed is about 1 MB
_BUILD_LOCKS = 64  # concurrent cold builds of different feeds; one at a time per feed
_EXTENSION = "eventhub.feed_cache"


@dataclass(frozen=True)
class Feed:
    """A built feed: its bytes and what HTTP needs to revalidate it."""

    body: bytes
    etag: str  # quoted SHA-256 of the body: a strong validator
    last_modified: datetime  # aware UTC, whole seconds, never earlier than before (FeedStamp)
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
    """Built feeds in an LRU bounded by their bytes, each kept with the change state it is for."""

    def __init__(self, max_bytes: int = CACHE_MAX_BYTES):
        """An empty cache holding at most ``max_bytes`` of feed bodies."""
        self._entries: LRUCache = LRUCache(maxsize=max_bytes,
                                           getsizeof=lambda entry: len(entry[1].body) or 1)
        self._lock = threading.Lock()  # cachetools' caches are not thread-safe
        # One build per feed at a time: concurrent cold requests wait for the first one rather
        # than all spending the same few hundred milliseconds. Striped, so it stays bounded.
        self._build_locks = [threading.Lock() for _ in range(_BUILD_LOCKS)]

    def fetch(self, ident: Hashable, state: Hashable, build: Callable[[], Feed]) -> Feed:
        """The feed ``ident`` as of ``state``; ``build()`` makes it on a miss."""
        feed = self._lookup(ident, state)
        if feed is not None:
            return feed
        with self._build_locks[hash(ident) % _BUILD_LOCKS]:
            feed = self._lookup(ident, state)
            if feed is None:
                feed = build()
                with self._lock:
                    try:
                        self._entries[ident] = (state, feed)
                    except ValueError:  # larger than the whole cache: served, not kept
                        self._entries.pop(ident, None)
            return feed

    def clear(self) -> None:
        """Forget every feed (benchmarks measure cold builds with it)."""
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """The number of feeds held."""
        return len(self._entries)

    def _lookup(self, ident: Hashable, state: Hashable) -> Feed | None:
        """The cached feed if it was built for ``state`` (marking it recently used)."""
        with self._lock:
            entry = self._entries.get(ident)
        return entry[1] if entry is not None and entry[0] == state else None


def feed_cache() -> FeedCache:
    """The current app's feed cache (one per app, so tests and apps never share entries)."""
    return per_app(_EXTENSION, FeedCache)


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
    words = labels(language)
    join = None
    # A join link only where a video room can exist; a cancelled session has nothing to join.
    if (participant is not None and event_session.has_video
            and event_session.status != Status.CANCELLED):
        join = FeedLink(join_url(event_session, participant), words["join"])
    return FeedSession(
        id=event_session.id,
        uid=session_uid(event_session.id, uid_domain()),
        title=pick_text(event_session.title, language),
        description=pick_text(event_session.description, language),
        # A delayed session is shown when it is expected (DESIGN.md "Delay").
        starts_at=event_session.expected_starts_at,
        ends_at=event_session.expected_ends_at,
        sequence=event_session.sequence,
        status=event_session.status,
        mode=event_session.mode,
        location=event_session.room.name if event_session.room else "",
        track=event_session.track or "",
        last_modified=event_session.updated_at,
        created=event_session.created_at,
        page=FeedLink(session_page_url(event_session), words["page"]),
        join=join,
    )


def _calendar(event: Event, name: str, url: str, language: str,
              sessions: tuple[FeedSession, ...]) -> FeedCalendar:
    """The FeedCalendar of ``event``; DTSTAMP is the newest change, so the bytes are stable."""
    stamps = [event.updated_at, *(s.last_modified for s in sessions if s.last_modified)]
    organizer_name, organizer_email = parseaddr(current_app.config["MAIL_FROM"])
    return FeedCalendar(
        name=name,
        timezone=event.timezone,
        sessions=sessions,
        description=pick_text(event.description, language),
        url=url,
        language=language,
        generated_at=max(stamps),
        online_label=labels(language)["online"],
        organizer_email=organizer_email,
        organizer_name=organizer_name,
    )


def _cached(ident: tuple[Any, ...], state: tuple[Any, ...],
            make: Callable[[], tuple[FeedCalendar, str, bool]]) -> Feed:
    """The feed ``ident`` as of ``state``: from the cache, else built from ``make()``.

    ``make`` loads what the feed shows and returns (calendar, file name, shared). The bytes
    get a strong ETag and a Last-Modified that never goes backwards (:func:`_last_modified`).
    """

    def build() -> Feed:
        """Load, build, hash, stamp."""
        cal, filename, shared = make()
        body = render(cal)
        etag = f'"{hashlib.sha256(body).hexdigest()}"'
        key = ":".join(str(part) for part in ident)
        committed = not any(isinstance(part, _Uncommitted) for part in state)
        last_modified = _last_modified(key, etag, cal.generated_at, keep=committed)
        return Feed(body, etag, last_modified, filename, shared)

    return feed_cache().fetch(ident, state, build)


def _last_modified(key: str, etag: str, newest: datetime | None, keep: bool) -> datetime:
    """Last-Modified of feed ``key`` whose bytes hash to ``etag``: never earlier than before.

    The same bytes keep the stamp they were first served with, in every process and after a
    restart (it is kept in ``feed_stamps``). New bytes take the data's newest timestamp when
    that is later; else (a removal leaves no newer timestamp behind) a second after the last
    stamp, or now. ``keep=False`` (a feed of uncommitted changes) computes and writes nothing.
    """
    newest = (newest or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    lookup = select(FeedStamp.etag, FeedStamp.last_modified).where(FeedStamp.key == key)
    with db.engine.connect() as connection:
        row = connection.execute(lookup).one_or_none()
    if row is not None and row.etag == etag:
        return row.last_modified
    if row is None or newest > row.last_modified:
        stamp = newest
    else:
        now = datetime.now(UTC).replace(microsecond=0)
        stamp = max(row.last_modified + timedelta(seconds=1), now)
    if not keep:
        return stamp
    try:
        with db.engine.begin() as connection:
            if row is None:
                connection.execute(insert(FeedStamp).values(key=key, etag=etag,
                                                            last_modified=stamp))
                return stamp
            # Only over the row we read: another process may have stamped these bytes already.
            moved = connection.execute(
                update(FeedStamp).where(FeedStamp.key == key, FeedStamp.etag == row.etag)
                .values(etag=etag, last_modified=stamp)).rowcount
    except IntegrityError:  # another process inserted the first row meanwhile
        moved = 0
    if moved:
        return stamp
    with db.engine.connect() as connection:
        current = connection.execute(lookup).one_or_none()
    return current.last_modified if current is not None and current.etag == etag else stamp


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


class _Uncommitted:
    """A change-state part that equals nothing else: see :func:`_uncommitted`."""


def _uncommitted(event_id: int) -> tuple[object, ...]:
    """A never-equal marker when this transaction has bumped the event and not committed.

    A feed built from our own uncommitted changes must not be kept under a version number
    that a rollback hands back to the next, different, change (nor its stamp stored).
    """
    if not db.session.registry.has():  # no session in this request yet: nothing uncommitted
        return ()
    bumped = versioning.bumped_in_transaction(db.session())
    return (_Uncommitted(),) if event_id in bumped else ()


def public_state(event_id: int) -> tuple[Any, ...] | None:
    """What the public feed depends on, by primary key (None: no such event).

    The first value says whether the event is published, the second is the event's
    ``programme_version``: every commit that adds, changes or deletes one of its sessions (or
    their video rooms), renames or deletes a hall, or changes the event row bumps it in the
    same transaction (:mod:`eventhub.versioning`).
    """
    row = _read_state(_PUBLIC_STATE, {"event_id": event_id})
    return (*row, *_uncommitted(event_id)) if row is not None else None


def get_public_feed(actor: Actor, event_id: int, language: str | None) -> Feed:
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
    language = feed_language(language)

    def make() -> tuple[FeedCalendar, str, bool]:
        """The whole programme."""
        loaded = event or get_or_404(Event, event_id, "event")
        query = session_service.list_sessions(actor, loaded).options(selectinload(Session.room))
        sessions = tuple(feed_session(s, language) for s in db.session.scalars(query))
        cal = _calendar(loaded, _event_name(loaded, language),
                        f"{base_url()}/events/{loaded.slug}", language, sessions)
        return cal, f"{loaded.slug}.ics", loaded.published

    return _cached(("event", event_id, language), state, make)


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


def get_session_feed(actor: Actor, session_id: int, language: str | None) -> Feed:
    """A one-session feed with the public session page (404 if missing or not visible)."""
    state = session_state(session_id)
    if state is None:
        raise NotFound(f"session {session_id} not found")
    event_session = None
    if not state[0]:
        event_session = session_service.get_session(actor, session_id)  # checks access
    language = feed_language(language)

    def make() -> tuple[FeedCalendar, str, bool]:
        """The session alone, with its event's name."""
        loaded = event_session or get_or_404(Session, session_id, "session")
        event = loaded.event
        one = feed_session(loaded, language)
        cal = _calendar(event, _event_name(event, language), one.page.url if one.page else "",
                        language, (one,))
        return cal, f"{event.slug}-session-{loaded.id}.ics", event.published

    return _cached(("session", session_id, language), state, make)


# -- personal agenda ---------------------------------------------------------------------------

# Found by the token's digest, like access.find_participant_by_token, and the agenda's state
# in the same query: a warm personal feed costs one query too. The event's programme_version
# covers every change of the agenda's sessions and halls; the rest covers the agenda itself.
_PERSONAL_STATE = (
    select(
        Participant.id,
        Participant.token_nonce,
        Participant.language,
        Event.id,
        Event.programme_version,
        func.count(AgendaItem.session_id),
        func.coalesce(func.sum(AgendaItem.session_id), 0),
        func.max(AgendaItem.added_at),
    )
    .select_from(Participant)
    .join(Event, Event.id == Participant.event_id)
    .outerjoin(AgendaItem, AgendaItem.participant_id == Participant.id)
    .where(Participant.token_digest == bindparam("digest"))
    .group_by(Participant.id, Participant.token_nonce, Participant.language, Event.id,
              Event.programme_version)
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
    return row[0], row[2], (*row[4:], token_digest, *_uncommitted(row[3]))


def get_personal_feed(token: str, language: str | None = None) -> Feed:
    """A participant's agenda with their personal join links; unknown or revoked token: 404."""
    found = personal_state(token)
    if found is None:
        raise NotFound("no such calendar")
    participant_id, own_language, state = found
    if language not in LANGUAGES:
        language = own_language if own_language in LANGUAGES else "en"

    def make() -> tuple[FeedCalendar, str, bool]:
        """The participant's agenda with their join links."""
        participant = get_or_404(Participant, participant_id, "participant")
        event = participant.event
        chosen = agenda.list_agenda(participant, participant)
        sessions = tuple(feed_session(s, language, participant) for s in chosen)
        name = f"{_event_name(event, language)} — {labels(language)['agenda']}"
        cal = _calendar(event, name, f"{base_url()}/events/{event.slug}", language, sessions)
        return cal, f"{event.slug}-agenda.ics", False

    return _cached(("personal", participant_id, language), state, make)


# -- links for the pages -----------------------------------------------------------------------


def public_feed_session(event_session: Session, language: str) -> FeedSession:
    """A session as the public feed shows it, for "add to calendar" links (no join link)."""
    return feed_session(event_session, feed_language(language))
