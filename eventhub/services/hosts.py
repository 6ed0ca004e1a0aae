"""Host pools: which account of a provider hosts each meeting.

One Zoom user (or Teams organizer) runs one meeting at a time, and may create or update only so
many meetings a day. A provider that says so (``VideoProvider.host_pool()``) gets each meeting
scheduled on a host of its pool that has no other meeting overlapping it, the join window before
the start included, and that is within the daily limit. When no host is free the room fails
with a message naming the sessions that hold every host at that time, never silently.

Assignments are serialized (a lock in this process, and a PostgreSQL advisory lock across
processes), so that two provisioning jobs never give one host two overlapping meetings.
"""

from __future__ import annotations

import threading
import zlib
from collections import defaultdict
from datetime import datetime, time, timedelta

from sqlalchemy import func, select, text

from integrations.base import ProviderError

from ..extensions import db
from ..models import Event, Session, VideoRoom, utcnow
from .common import pick_text
from .providers import provider

_lock = threading.Lock()


class NoFreeHost(Exception):
    """Every host of the pool runs another meeting at that time (or has reached its limit)."""


def window(event_session: Session) -> tuple[datetime, datetime]:
    """The time a session's meeting occupies its host: join window before it, to its end."""
    lead = timedelta(minutes=event_session.event.join_window_minutes or 0)
    return event_session.expected_starts_at - lead, event_session.expected_ends_at


def assign_host(room: VideoRoom, provider_name: str) -> str:
    """Choose the host of ``room`` on ``provider_name``, record it, and commit.

    Keeps the room's current host while it is still free; returns "" for a provider without a
    pool. Raises :class:`NoFreeHost` with a readable message naming the overlapping sessions.
    """
    pool = provider(provider_name).host_pool()
    if not pool:
        return ""
    with _lock:
        _lock_across_processes(provider_name)
        try:
            chosen = _choose(room, provider_name, pool)
        except NoFreeHost:
            db.session.rollback()
            raise
        if room.host != chosen:
            room.host, room.host_assigned_at = chosen, utcnow()
        db.session.commit()
        return chosen


def _lock_across_processes(provider_name: str) -> None:
    """On PostgreSQL, hold a transaction-scoped advisory lock per provider until the commit."""
    if db.session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32(f"eventhub-host-pool:{provider_name}".encode())
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _choose(room: VideoRoom, provider_name: str, pool: tuple[str, ...]) -> str:
    start, end = window(room.session)
    busy: dict[str, list[Session]] = defaultdict(list)
    others = db.session.scalars(
        select(VideoRoom).where(
            VideoRoom.provider == provider_name, VideoRoom.host.in_(pool),
            VideoRoom.state.in_(("pending", "ready")), VideoRoom.id != room.id,
        )
    )
    for other in others:
        other_start, other_end = window(other.session)
        if other_start < end and start < other_end:
            busy[other.host].append(other.session)
    limit = provider(provider_name).daily_host_limit
    made_today = _made_today(pool, provider_name) if limit else {}
    candidates = ([room.host] if room.host in pool else []) + [h for h in pool if h != room.host]
    for host in candidates:
        within_limit = limit is None or host == room.host or made_today.get(host, 0) < limit
        if not busy[host] and within_limit:
            return host
    overlapping = sorted({s.id: s for hosts in busy.values() for s in hosts}.values(),
                         key=lambda s: (s.expected_starts_at, s.id))
    names = ", ".join(f'{s.id} "{pick_text(s.title, "en")}"' for s in overlapping)
    variable = provider(provider_name).host_pool_variable
    reason = f"overlaps sessions {names}" if overlapping else f"each host made {limit} today"
    raise NoFreeHost(
        f"{provider_name}: no free host among the {len(pool)} of {variable} at that time: "
        f"{reason}"
    )


def _made_today(pool: tuple[str, ...], provider_name: str) -> dict[str, int]:
    """Meetings given to each host since midnight UTC (Zoom counts creates per user per day)."""
    midnight = datetime.combine(utcnow().date(), time.min, tzinfo=utcnow().tzinfo)
    rows = db.session.execute(
        select(VideoRoom.host, func.count()).where(
            VideoRoom.provider == provider_name, VideoRoom.host.in_(pool),
            VideoRoom.host_assigned_at >= midnight,
        ).group_by(VideoRoom.host)
    )
    return {host: count for host, count in rows}


def day_needs(event: Event, sessions: list[Session]) -> dict[str, object]:
    """For the board: the hosts a day's video sessions on the event's provider need at once,
    and the pool there is (nothing for a provider without a pool)."""
    name = event.default_provider
    try:
        pool = provider(name).host_pool()
    except ProviderError:  # not configured: the board says so elsewhere (failed rooms)
        pool = ()
    if not pool:
        return {}
    on_pool = [s for s in sessions if s.has_video and not s.is_finished
               and (s.video_room is None or s.video_room.provider == name)]
    return {"hosts_needed": hosts_needed(on_pool), "hosts": len(pool),
            "hosts_variable": provider(name).host_pool_variable}


def hosts_needed(sessions: list[Session]) -> int:
    """How many hosts these sessions need at once: the most meetings overlapping (with their
    join windows), for the board's "hosts the day needs"."""
    edges: list[tuple[datetime, int]] = []
    for event_session in sessions:
        start, end = window(event_session)
        edges += [(start, 1), (end, -1)]
    most = current = 0
    for _moment, step in sorted(edges, key=lambda edge: (edge[0], edge[1])):
        current += step
        most = max(most, current)
    return most
