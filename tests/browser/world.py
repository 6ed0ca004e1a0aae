"""A small conference around the current time, shared by the page and browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from eventhub.extensions import db
from eventhub.models import AgendaItem, Event, Participant, Room, Session, User, VideoRoom, utcnow
from eventhub.services import access

TRANSLATIONS = Path(__file__).resolve().parents[2] / "eventhub" / "translations"
PASSWORD = "secret-pw-1"
TZ = "Europe/Moscow"


def compile_translations() -> None:
    """Compile each .po to .mo when missing or older (what `make` does with pybabel compile)."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


@dataclass
class World:
    """Ids and secrets of what :func:`build_world` made (no ORM objects: tests cross threads)."""

    event_id: int
    slug: str
    organizer: str
    moderator: str
    other_moderator: str
    anna_token: str
    boris_token: str
    now_id: int  # A-101, running now, in person, moderated by `moderator`
    soon_id: int  # A-101, starts in 55 minutes (join window not open yet), in person
    ready_id: int  # B-202, live and online with a ready room
    failed_id: int  # B-202, later, online, its room failed
    tomorrow_id: int  # C-303, tomorrow, moderated by `other_moderator`
    cancelled_id: int  # C-303, later today, cancelled


TITLES = {
    "Opening plenary": ("Opening plenary", "Пленарное заседание", "Eröffnungsplenum"),
    "Urban mobility": ("Urban mobility", "Городская мобильность", "Städtische Mobilität"),
    "Twin towns online": ("Twin towns online", "Города-побратимы онлайн", "Partnerstädte digital"),
    "Youth exchange": ("Youth exchange", "Молодёжный обмен", "Jugendaustausch"),
    "Municipal budgets": ("Municipal budgets", "Муниципальные бюджеты", "Kommunale Haushalte"),
    "Closing reception": ("Closing reception", "Заключительный приём", "Abschlussempfang"),
}


def _user(email: str, role: str, name: str, password_hash: str) -> User:
    user = User(email=email, role=role, name=name, password_hash=password_hash)
    db.session.add(user)
    return user


def _participant(event: Event, name: str, email: str, **kwargs) -> Participant:
    participant = Participant(event=event, name=name, email=email, **kwargs)
    access.issue_participant_token(participant)
    return participant


def build_world(password_hash: str, now: datetime | None = None) -> World:
    """An event in Europe/Moscow from yesterday to the day after tomorrow (call in app context)."""
    now = (now or utcnow()).replace(second=0, microsecond=0)
    local_today = now.astimezone(ZoneInfo(TZ)).date()
    event = Event(slug="partner-cities", published=True, timezone=TZ,
                  title={"en": "Partner Cities Conference", "ru": "Конференция городов-партнёров",
                         "de": "Konferenz der Partnerstädte"},
                  start_date=local_today - timedelta(days=1),
                  end_date=local_today + timedelta(days=2), venue="Kaluga",
                  default_provider="jitsi", join_window_minutes=15)
    # Halls and people are shown as entered, so their names are neither English nor translated.
    halls = [Room(event=event, name=name, capacity=100) for name in ("A-101", "B-202", "C-303")]
    organizer = _user("organizer@example.org", "organizer", "Olga Iwanowa", password_hash)
    moderator = _user("moderator@example.org", "moderator", "Max Müller", password_hash)
    other = _user("other@example.org", "moderator", "Otto Schmidt", password_hash)
    anna = _participant(event, "Anna Petrova", "anna@example.org", organization="Kaluga",
                        partner_organization="Suhl", role="official", language="ru",
                        attendance="remote")
    boris = _participant(event, "Boris Becker", "boris@example.org", organization="Suhl",
                         partner_organization="Kaluga", language="de")

    def session(title: str, hall: Room, start: datetime, minutes: int = 60, **kwargs) -> Session:
        en, ru, de = TITLES[title]
        item = Session(event=event, room=hall, title={"en": en, "ru": ru, "de": de},
                       starts_at=start,
                       ends_at=start + timedelta(minutes=minutes), **kwargs)
        db.session.add(item)
        return item

    running = session("Opening plenary", halls[0], now - timedelta(minutes=10), track="Пленум",
                      moderators=[moderator], speakers=[boris])
    soon = session("Urban mobility", halls[0], now + timedelta(minutes=55), track="Wirtschaft",
                   moderators=[moderator])
    ready = session("Twin towns online", halls[1], now - timedelta(minutes=5), track="Kultur",
                    mode="online", status="live", moderators=[moderator])
    failed = session("Youth exchange", halls[1], now + timedelta(hours=2), track="Kultur",
                     mode="online", moderators=[moderator])
    tomorrow = session("Municipal budgets", halls[2], now + timedelta(days=1), track="Wirtschaft",
                       moderators=[other])
    cancelled = session("Closing reception", halls[2], now + timedelta(hours=3),
                        status="cancelled", sequence=1)
    db.session.add(VideoRoom(session=ready, provider="jitsi", state="ready",
                             external_id="eventhub-ready",
                             data={"url": "https://meet.jit.si/eventhub-ready", "title": "x"}))
    db.session.add(VideoRoom(session=failed, provider="jitsi", state="failed", attempts=3,
                             last_error="jitsi: provider refused the room (HTTP 400)"))
    db.session.flush()
    for item in (running, soon, ready):
        db.session.add(AgendaItem(participant=anna, session=item))
    db.session.add(AgendaItem(participant=boris, session=tomorrow))
    db.session.commit()
    return World(event.id, event.slug, organizer.email, moderator.email, other.email,
                 anna.token, boris.token, running.id, soon.id, ready.id, failed.id, tomorrow.id,
                 cancelled.id)
