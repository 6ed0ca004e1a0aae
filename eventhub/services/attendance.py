"""Attendance: who opened their join link, who the provider saw in the meeting, and the
figures organizers compare with whom they expected.

Three sources, one table each:
- the join redirect (``/join/<id>?t=...``) records each participant's first and last opening
  (:func:`record_join_open`), whatever the provider;
- Zoom's ``meeting.participant_joined`` / ``meeting.participant_left`` webhooks record each
  stay in the meeting (:func:`record_meeting_presence`), matched to a participant by e-mail or
  by the display name EventHub sent with the join link; a redelivery changes nothing;
- providers that can count a running meeting (BigBlueButton's ``getMeetingInfo``) are asked
  by a background job (:func:`count_in_meeting`), and the count is kept on the video room.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from integrations.base import ProviderError, VideoProvider
from integrations.registry import PROVIDERS

from ..extensions import db
from ..models import (
    AgendaItem,
    Event,
    JoinOpen,
    MeetingAttendance,
    Participant,
    Session,
    VideoRoom,
    utcnow,
)
from . import access, jobs, provisioning
from .access import Actor
from .common import pick_text
from .providers import provider

log = logging.getLogger(__name__)


def _upsert(model, values: dict, keys: list[str], update: dict) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE: one statement, safe under concurrent requests."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**values)
    db.session.execute(statement.on_conflict_do_update(index_elements=keys, set_=update))


def record_join_open(participant: Participant, event_session: Session) -> None:
    """Note that ``participant`` opened their join link of ``event_session`` now; commits."""
    now = utcnow()
    _upsert(JoinOpen,
            {"session_id": event_session.id, "participant_id": participant.id,
             "first_at": now, "last_at": now, "opens": 1},
            ["session_id", "participant_id"],
            {"last_at": now, "opens": JoinOpen.opens + 1})
    db.session.commit()


def _match(event_session: Session, email: str, name: str) -> int | None:
    """The participant of the session's event with this e-mail, else with this exact name
    (the name EventHub's join link gave the meeting), if exactly one has it."""
    base = select(Participant.id).where(Participant.event_id == event_session.event_id)
    if email:
        found = db.session.scalars(base.where(func.lower(Participant.email) == email.lower()))
        ids = list(found)
        if len(ids) == 1:
            return ids[0]
    if name:
        ids = list(db.session.scalars(base.where(Participant.name == name.strip())))
        if len(ids) == 1:
            return ids[0]
    return None


def record_meeting_presence(room: VideoRoom, *, key: str, name: str, email: str,
                            joined_at: datetime | None = None,
                            left_at: datetime | None = None) -> bool:
    """Record a person joining (``joined_at``) or leaving (``left_at``) the room's meeting.

    Returns whether anything changed (a repeated delivery changes nothing). Commits.
    """
    event_session = room.session
    if joined_at is not None:
        exists = db.session.scalar(select(MeetingAttendance.id).where(
            MeetingAttendance.session_id == event_session.id,
            MeetingAttendance.participant_key == key, MeetingAttendance.joined_at == joined_at))
        if exists is not None:
            return False
        db.session.add(MeetingAttendance(
            session_id=event_session.id, provider=room.provider, participant_key=key,
            participant_id=_match(event_session, email, name), display_name=name[:200],
            joined_at=joined_at))
        db.session.commit()
        return True
    if left_at is not None:
        stay = db.session.scalar(select(MeetingAttendance).where(
            MeetingAttendance.session_id == event_session.id,
            MeetingAttendance.participant_key == key, MeetingAttendance.left_at.is_(None),
            MeetingAttendance.joined_at <= left_at,
        ).order_by(MeetingAttendance.joined_at.desc()).limit(1))
        if stay is None:
            return False
        stay.left_at = left_at
        db.session.commit()
        return True
    return False


@jobs.job
def count_in_meeting(room_id: int) -> None:
    """Ask the provider how many are in the room's meeting now, where it can tell."""
    room = db.session.get(VideoRoom, room_id)
    if room is None or room.state != "ready":
        return
    name, current = room.provider, provisioning.as_room(room)
    db.session.commit()  # no transaction stays open while the provider is called
    try:
        status = provider(name).room_status(current)
    except ProviderError as exc:
        log.info("counting room %s on %s: %s", room_id, name, exc.message)
        return
    if status is None or status.participant_count is None:
        return
    room = db.session.get(VideoRoom, room_id, populate_existing=True)
    if room is not None:
        room.participant_count, room.counted_at = status.participant_count, utcnow()
        db.session.commit()


def refresh_counts(event: Event, now: datetime | None = None) -> int:
    """Queue a count of every live session's meeting whose provider can count; how many."""
    now = now or utcnow()
    rooms = [s.video_room for s in event.sessions
             if s.status == "live" and s.video_room is not None and s.video_room.state == "ready"
             and _can_count(s.video_room.provider)]
    for room in rooms:
        jobs.submit(count_in_meeting, room.id)
    return len(rooms)


def _can_count(name: str) -> bool:
    cls = PROVIDERS.get(name)
    return cls is not None and cls.room_status is not VideoProvider.room_status


def remote_opened(event: Event) -> int:
    """Remote attendees of the event who opened at least one join link (for the board)."""
    return db.session.scalar(
        select(func.count(func.distinct(JoinOpen.participant_id)))
        .join(Participant, Participant.id == JoinOpen.participant_id)
        .where(Participant.event_id == event.id, Participant.attendance == "remote")) or 0


@dataclass(frozen=True)
class SessionFigures:
    session_id: int
    title: str
    starts_at: datetime
    expected_remote: int
    opened_link: int
    present: int
    unmatched_present: int
    in_meeting_now: int | None


@dataclass(frozen=True)
class DelegationFigures:
    organization: str
    remote: int
    opened_link: int
    present: int


@dataclass(frozen=True)
class Report:
    sessions: list[SessionFigures]
    delegations: list[DelegationFigures]


def report(actor: Actor, event: Event, language: str = "en") -> Report:
    """Per session and per delegation: expected remote attendees (remote participants with the
    session on their agenda), those who opened their join link, those present in the meeting.
    Organizers only."""
    access.require_organizer(actor)
    expected: dict[int, set[int]] = {}
    for session_id, participant_id in db.session.execute(
        select(AgendaItem.session_id, AgendaItem.participant_id).join(Participant).where(
            Participant.event_id == event.id, Participant.attendance == "remote")
    ):
        expected.setdefault(session_id, set()).add(participant_id)
    opened: dict[int, set[int]] = {}
    for session_id, participant_id in db.session.execute(
        select(JoinOpen.session_id, JoinOpen.participant_id).join(Session).where(
            Session.event_id == event.id)
    ):
        opened.setdefault(session_id, set()).add(participant_id)
    present: dict[int, set[int]] = {}
    unmatched: dict[int, set[str]] = {}
    for session_id, participant_id, key in db.session.execute(
        select(MeetingAttendance.session_id, MeetingAttendance.participant_id,
               MeetingAttendance.participant_key).join(Session).where(
            Session.event_id == event.id)
    ):
        if participant_id is None:
            unmatched.setdefault(session_id, set()).add(key)
        else:
            present.setdefault(session_id, set()).add(participant_id)
    sessions = [
        SessionFigures(s.id, pick_text(s.title, language), s.starts_at,
                       len(expected.get(s.id, ())), len(opened.get(s.id, ())),
                       len(present.get(s.id, ())), len(unmatched.get(s.id, ())),
                       s.video_room.participant_count if s.video_room is not None else None)
        for s in sorted(event.sessions, key=lambda s: (s.starts_at, s.id))
    ]
    people = {p.id: p for p in event.participants}
    by_org: dict[str, dict[str, set[int]]] = {}
    for person in people.values():
        org = by_org.setdefault(person.organization or "", {"remote": set(), "opened": set(),
                                                           "present": set()})
        if person.attendance == "remote":
            org["remote"].add(person.id)
    for kind, source in (("opened", opened), ("present", present)):
        for ids in source.values():
            for participant_id in ids:
                if participant_id in people:
                    by_org[people[participant_id].organization or ""][kind].add(participant_id)
    delegations = [DelegationFigures(org, len(v["remote"]), len(v["opened"]), len(v["present"]))
                   for org, v in sorted(by_org.items())]
    return Report(sessions, delegations)


def report_csv(result: Report) -> str:
    """The session figures, then the delegation figures, as one CSV (UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["kind", "id_or_organization", "title", "starts_at", "expected_remote",
                     "opened_link", "present", "present_unmatched", "in_meeting_now"])
    for s in result.sessions:
        writer.writerow(["session", s.session_id, s.title, s.starts_at.isoformat(),
                         s.expected_remote, s.opened_link, s.present, s.unmatched_present,
                         "" if s.in_meeting_now is None else s.in_meeting_now])
    for d in result.delegations:
        writer.writerow(["delegation", d.organization, "", "", d.remote, d.opened_link,
                         d.present, "", ""])
    return out.getvalue()
