"""The founding conference as demo data: XVI Conference of Russian and German Partner Cities.

Three days in Kaluga (Europe/Moscow), five halls, a bilingual programme (ru/de, with English),
officials, delegates and press from twin cities, one organizer and three moderators. Seeding is
idempotent: a second run finds the event and the accounts and creates nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..extensions import db
from ..models import Event, Participant, User
from . import agenda, invitations, participants, switching, users
from . import events as event_service
from . import sessions as session_service

SLUG = "partner-cities-xvi"
TIMEZONE = "Europe/Moscow"

ORGANIZER = ("organizer@eventhub.local", "organizer-demo", "Anna Organizer")
MODERATORS = [
    ("moderator1@eventhub.local", "moderator-demo", "Ирина Смирнова"),
    ("moderator2@eventhub.local", "moderator-demo", "Jörg Weber"),
    ("moderator3@eventhub.local", "moderator-demo", "Olga Kuznetsova"),
]

# Russian cities and their German twin cities (each city's administration is named in its own
# language: "Администрация г. Калуга", "Stadt Suhl").
TWIN_CITIES = [
    ("Калуга", "Suhl"), ("Тула", "Villingen-Schwenningen"), ("Ярославль", "Kassel"),
    ("Владимир", "Erlangen"), ("Волгоград", "Köln"), ("Нижний Новгород", "Essen"),
    ("Самара", "Stuttgart"), ("Санкт-Петербург", "Hamburg"), ("Великий Новгород", "Bielefeld"),
    ("Псков", "Neuss"), ("Тверь", "Osnabrück"), ("Рязань", "Münster"),
    ("Краснодар", "Karlsruhe"), ("Ростов-на-Дону", "Dortmund"), ("Калининград", "Kiel"),
]  # fmt: skip

RU_NAMES = [
    "Алексей Иванов", "Мария Петрова", "Дмитрий Соколов", "Елена Кузнецова", "Сергей Попов",
    "Наталья Васильева", "Андрей Морозов", "Ольга Новикова", "Павел Волков", "Татьяна Фёдорова",
    "Николай Лебедев", "Светлана Козлова", "Игорь Егоров", "Анна Павлова", "Михаил Семёнов",
]  # fmt: skip
DE_NAMES = [
    "Thomas Müller", "Sabine Schmidt", "Michael Schneider", "Claudia Fischer", "Stefan Meyer",
    "Petra Wagner", "Andreas Becker", "Monika Schulz", "Jürgen Hoffmann", "Birgit Koch",
    "Frank Richter", "Susanne Klein", "Uwe Wolf", "Katrin Schröder", "Matthias Neumann",
]  # fmt: skip
RU_DELEGATES = [
    "Владимир Орлов", "Юлия Зайцева", "Константин Белов", "Ксения Григорьева", "Роман Никитин",
    "Ирина Соловьёва", "Артём Макаров", "Дарья Киселёва", "Евгений Андреев", "Вера Тихонова",
    "Григорий Жуков", "Людмила Комарова", "Максим Борисов", "Алина Осипова", "Фёдор Медведев",
]  # fmt: skip
DE_DELEGATES = [
    "Klaus Bauer", "Heike Zimmermann", "Ralf Krüger", "Anja Hartmann", "Dirk Lange",
    "Silke Schmitt", "Holger Werner", "Kerstin Krause", "Bernd Meier", "Ute Lehmann",
    "Sven Schmid", "Nicole Schulze", "Jan Maier", "Tanja Köhler", "Lars Herrmann",
]  # fmt: skip
GUESTS = [
    ("Министр иностранных дел (делегация)", "Министерство иностранных дел РФ", "RU", "official"),
    ("Bundesminister (Delegation)", "Auswärtiges Amt", "DE", "official"),
    ("Евгения Лазарева", "ТАСС", "RU", "press"), ("Markus Vogel", "Deutsche Welle", "DE", "press"),
    ("Полина Рыбакова", "Калужское телевидение", "RU", "press"),
    ("Helga Brandt", "Deutsch-Russisches Forum", "DE", "speaker"),
    ("Пётр Громов", "Российско-германская ВТП", "RU", "speaker"),
    ("Carsten Franke", "Ostausschuss der Deutschen Wirtschaft", "DE", "speaker"),
]  # fmt: skip

HALLS = [
    ("Большой зал / Großer Saal", 600), ("Зал «Циолковский»", 200), ("Saal Suhl", 150),
    ("Конференц-зал 3", 80), ("Пресс-центр / Pressezentrum", 60),
]  # fmt: skip


# Tracks: a key (what ?track= filters by) and its name in each language, like the titles.
TRACK_NAMES = {
    "plenary": {"ru": "Пленум", "de": "Plenum", "en": "Plenary"},
    "economy": {"ru": "Экономика", "de": "Wirtschaft", "en": "Economy"},
    "culture": {"ru": "Культура", "de": "Kultur", "en": "Culture"},
    "youth": {"ru": "Молодёжь", "de": "Jugend", "en": "Youth"},
    "press": {"ru": "Пресса", "de": "Presse", "en": "Press"},
    "civil-society": {"ru": "Общество", "de": "Gesellschaft", "en": "Civil society"},
    "health": {"ru": "Здоровье", "de": "Gesundheit", "en": "Health"},
    "ecology": {"ru": "Экология", "de": "Ökologie", "en": "Ecology"},
}  # fmt: skip
TRACKS = {key: key for key in TRACK_NAMES}


@dataclass(frozen=True)
class Slot:
    """One session of the demo programme: day (0-2), start, minutes, hall index, track, titles."""

    day: int
    start: str
    minutes: int
    hall: int
    track: str
    ru: str
    de: str
    en: str


PROGRAMME = [
    Slot(0, "10:00", 90, 0, TRACKS["plenary"], "Открытие конференции: приветствие глав городов",
         "Eröffnung der Konferenz: Grußworte der Oberbürgermeister",
         "Opening: welcome by the mayors"),
    Slot(0, "12:00", 60, 0, TRACKS["plenary"], "Пленарное заседание: 30 лет партнёрства городов",
         "Plenum: 30 Jahre Städtepartnerschaften", "Plenary: 30 years of city partnerships"),
    Slot(0, "14:00", 90, 1, TRACKS["economy"], "Малый и средний бизнес в городах-партнёрах",
         "Mittelstand in den Partnerstädten", "Small and medium business in twin cities"),
    Slot(0, "14:00", 90, 2, TRACKS["culture"], "Культурный обмен и музеи",
         "Kulturaustausch und Museen", "Cultural exchange and museums"),
    Slot(0, "14:00", 90, 3, TRACKS["youth"], "Молодёжные обмены: школы и университеты",
         "Jugendaustausch: Schulen und Hochschulen", "Youth exchange: schools and universities"),
    Slot(0, "16:00", 90, 1, TRACKS["economy"], "Энергоэффективность городского хозяйства",
         "Energieeffizienz in der Stadtwirtschaft", "Energy efficiency in municipal services"),
    Slot(0, "16:00", 90, 2, TRACKS["culture"], "Города-побратимы в литературе, музыке; театре",
         "Partnerstädte in Literatur, Musik; Theater", "Twin cities in literature, music; theatre"),
    Slot(0, "16:00", 60, 4, TRACKS["press"], "Пресс-подход глав делегаций",
         "Pressegespräch der Delegationsleiter", "Press briefing of the delegation heads"),
    Slot(0, "18:00", 60, 3, TRACKS["civil-society"], "Гражданское общество и НКО",
         "Zivilgesellschaft und NGOs", "Civil society and NGOs"),
    Slot(0, "18:00", 60, 1, TRACKS["health"], "Здравоохранение: обмен опытом клиник",
         "Gesundheitswesen: Erfahrungsaustausch der Kliniken",
         "Healthcare: hospitals sharing experience"),
    Slot(1, "09:30", 90, 0, TRACKS["plenary"], "Цифровой город: электронные услуги для граждан",
         "Digitale Stadt: E-Government für Bürger", "Digital city: e-services for citizens"),
    Slot(1, "11:30", 90, 1, TRACKS["economy"], "Туризм между городами-партнёрами",
         "Tourismus zwischen Partnerstädten", "Tourism between twin cities"),
    Slot(1, "11:30", 90, 2, TRACKS["ecology"], "Экология: чистые реки и городские парки",
         "Ökologie: saubere Flüsse und Stadtparks", "Ecology: clean rivers and city parks"),
    Slot(1, "11:30", 90, 3, TRACKS["youth"], "Волонтёрство и молодёжные проекты",
         "Freiwilligendienste und Jugendprojekte", "Volunteering and youth projects"),
    Slot(1, "14:00", 90, 1, TRACKS["economy"], "Инвестиции в муниципальную инфраструктуру",
         "Investitionen in kommunale Infrastruktur", "Investing in municipal infrastructure"),
    Slot(1, "14:00", 90, 2, TRACKS["culture"], "Языки партнёрства: изучение русского и немецкого",
         "Sprachen der Partnerschaft: Russisch und Deutsch lernen",
         "Languages of partnership: learning Russian and German"),
    Slot(1, "14:00", 90, 3, TRACKS["health"], "Социальная работа и забота о пожилых",
         "Sozialarbeit und Altenpflege", "Social work and care for the elderly"),
    Slot(1, "16:00", 90, 0, TRACKS["plenary"], "Круглый стол министров",
         "Runder Tisch der Minister", "Ministers' round table"),
    Slot(1, "16:00", 60, 4, TRACKS["press"], "Брифинг для прессы: итоги второго дня",
         "Pressebriefing: Ergebnisse des zweiten Tages", "Press briefing: day two results"),
    Slot(1, "18:00", 60, 1, TRACKS["ecology"], "Городской транспорт и велосипед",
         "Stadtverkehr und Radverkehr", "Urban transport and cycling"),
    Slot(1, "18:00", 60, 2, TRACKS["culture"], "История городов-побратимов: архивы и память",
         "Geschichte der Partnerstädte: Archive und Erinnerung",
         "History of twin cities: archives and memory"),
    Slot(2, "09:30", 90, 1, TRACKS["economy"], "Профессиональное образование по дуальной системе",
         "Duale Berufsausbildung", "Dual vocational training"),
    Slot(2, "09:30", 90, 2, TRACKS["ecology"], "Отходы и вторичная переработка",
         "Abfallwirtschaft und Recycling", "Waste management and recycling"),
    Slot(2, "09:30", 90, 3, TRACKS["civil-society"], "Спортивные связи городов",
         "Sportbeziehungen der Städte", "Sports ties between cities"),
    Slot(2, "11:30", 90, 0, TRACKS["plenary"], "Муниципальное управление: лучшие практики",
         "Kommunalverwaltung: bewährte Verfahren", "Municipal governance: best practice"),
    Slot(2, "13:30", 60, 1, TRACKS["youth"], "Студенческие стипендии и стажировки",
         "Stipendien und Praktika für Studierende", "Student grants and internships"),
    Slot(2, "13:30", 60, 2, TRACKS["health"], "Медицинское образование и обмен врачами",
         "Medizinische Ausbildung und Ärzteaustausch",
         "Medical education and doctor exchange"),
    Slot(2, "13:30", 60, 3, TRACKS["culture"], "Фестивали городов-партнёров",
         "Festivals der Partnerstädte", "Twin city festivals"),
    Slot(2, "15:00", 60, 4, TRACKS["press"], "Итоговая пресс-конференция",
         "Abschlusspressekonferenz", "Closing press conference"),
    Slot(2, "15:00", 90, 1, TRACKS["economy"], "Подписание соглашений о сотрудничестве",
         "Unterzeichnung der Kooperationsvereinbarungen", "Signing of cooperation agreements"),
    Slot(2, "16:30", 60, 0, TRACKS["plenary"], "Закрытие конференции и резолюция",
         "Abschluss der Konferenz und Resolution", "Closing of the conference and resolution"),
    Slot(2, "17:30", 60, 2, TRACKS["culture"], "Концерт молодёжных оркестров",
         "Konzert der Jugendorchester", "Youth orchestras concert"),
]


def demo_start_date() -> date:
    """Today in the conference's time zone: a new user sees sessions live."""
    return datetime.now(ZoneInfo(TIMEZONE)).date()


def _email(name: str, city: str) -> str:
    digest = hashlib.sha256(f"{name}|{city}".encode()).hexdigest()[:8]
    return f"guest-{digest}@partner-cities.example"


# The invitation round, one twin-city pair per string (TWIN_CITIES order), one letter per person:
# the Russian head, the Russian delegate, the German head, the German delegate. The association
# invites the Russian heads; each head invites their own delegate and the leadership of the
# partner city. P: accepted, in person; R: accepted, remote; D: declined; N: no answer yet;
# "-": on the association's list, the invitation not sent yet (the last pair, for the organizer
# to invite as a delegation).
ROUND = [
    "PRPN", "PPRP", "PDPR", "RNPP", "PPDR", "PRPD", "NPPP", "PRRN",
    "PDPP", "RPPR", "PNDP", "PRPP", "PPNR", "DPPD", "----",
]  # fmt: skip
ANSWERS = {"P": ("accepted", "in_person"), "R": ("accepted", "remote"),
           "D": ("declined", None), "N": (None, None), "-": (None, None)}
GUEST_ANSWERS = {"Deutsche Welle": "R"}  # the rest of the guests: accepted, in person
INVITATION = ("Приглашаем вас на XVI конференцию городов-партнёров России и Германии. / "
              "Wir laden Sie herzlich zur XVI. Konferenz der Partnerstädte ein.")


def _person(name: str, organization: str, partner: str, country: str, role: str,
            answer: str) -> dict:
    return dict(name=name, email=_email(name, organization), organization=organization,
                partner_organization=partner, country=country, role=role,
                language="ru" if country == "RU" else "de", answer=answer)


def _participants() -> list[dict]:
    """Everyone of the demo, with their answer letter (see ROUND); organizations are named in
    their own language, the same name as organization and as partner organization."""
    people = []
    for index, (ru_city, de_city) in enumerate(TWIN_CITIES):
        ru_org, de_org = f"Администрация г. {ru_city}", f"Stadt {de_city}"
        ru_head, ru_delegate, de_head, de_delegate = ROUND[index]
        people += [
            _person(RU_NAMES[index], ru_org, de_org, "RU", "official", ru_head),
            _person(RU_DELEGATES[index], ru_org, de_org, "RU", "delegate", ru_delegate),
            _person(DE_NAMES[index], de_org, ru_org, "DE", "official", de_head),
            _person(DE_DELEGATES[index], de_org, ru_org, "DE", "delegate", de_delegate),
        ]
    for name, organization, country, role in GUESTS:
        people.append(_person(name, organization, "", country, role,
                              GUEST_ANSWERS.get(organization, "P")))
    return people


def _entry(person: dict) -> dict:
    return {k: v for k, v in person.items() if k != "answer"}


def _invitation_round(organizer: User, event: Event) -> list[Participant]:
    """The founding case's letter, through the invitation service (the mails are real): the
    association invites the Russian heads and the guests, each head invites their delegate and
    the partner city's leadership, and the invitees answer. Returns everyone, in list order."""
    people = _participants()
    pairs = [people[index * 4:index * 4 + 4] for index in range(len(TWIN_CITIES))]
    invited = [pair for pair in pairs if pair[0]["answer"] != "-"]
    guests = people[len(pairs) * 4:]
    invitations.invite(organizer, event, [_entry(pair[0]) for pair in invited] +
                       [_entry(guest) for guest in guests], INVITATION)
    found = invitations.find_participants(event, {person["email"] for person in people})
    for head, *others in invited:
        invitations.invite(found[head["email"]], event, [_entry(person) for person in others])
    for pair in pairs:
        if pair[0]["answer"] == "-":
            for person in pair:
                participants.create_participant(organizer, event, {
                    **_entry(person), "invitation_status": "invited"})
    found = invitations.find_participants(event, {person["email"] for person in people})
    for person in people:
        status, attendance = ANSWERS[person["answer"]]
        if status is not None:
            participant = found[person["email"]]
            invitations.answer_invitation(participant, participant, status, attendance)
    return [found[person["email"]] for person in people]


@dataclass
class SeedResult:
    """What seeding did: the event, and whether anything was created."""

    event_id: int
    created: bool
    accounts: list[tuple[str, str, str]]


def _ensure_user(email: str, password: str, role: str, name: str):
    return users.find_user(email) or users.create_user(email, password, role, name)


def seed_demo(start_date: date | None = None, now: datetime | None = None) -> SeedResult:
    """Create the demo conference and accounts unless they exist (idempotent).

    So that a new user sees the conference at work, sessions under way at ``now`` are live and
    the press centre's sessions are hybrid (their video rooms are provisioned in the
    background, on the default provider).
    """
    organizer = _ensure_user(*ORGANIZER[:2], "organizer", ORGANIZER[2])
    moderators = [_ensure_user(email, pw, "moderator", name) for email, pw, name in MODERATORS]
    accounts = [(ORGANIZER[0], ORGANIZER[1], "organizer")] + [
        (email, pw, "moderator") for email, pw, _ in MODERATORS]
    existing = event_service.find_event_by_slug(SLUG)
    if existing is not None:
        return SeedResult(existing.id, False, accounts)

    start = start_date or demo_start_date()
    event = event_service.create_event(organizer, {
        "slug": SLUG,
        "title": {"ru": "XVI Конференция городов-партнёров России и Германии",
                  "de": "XVI. Konferenz der russischen und deutschen Partnerstädte",
                  "en": "XVI Conference of Russian and German Partner Cities"},
        "description": {"ru": "Главы муниципалитетов и делегации городов-побратимов.",
                        "de": "Oberbürgermeister und Delegationen der Partnerstädte.",
                        "en": "Heads of municipalities and their twin-city delegations."},
        "timezone": TIMEZONE, "start_date": start, "end_date": start + timedelta(days=2),
        "venue": "Калуга / Kaluga", "default_provider": "jitsi", "published": True,
    })
    try:
        _seed_programme(organizer, moderators, event, start)
    except BaseException:
        # Each step commits: undo them all, or the next run (`--if-empty` in `make run`) would
        # find the event and leave the half conference as it is.
        db.session.rollback()
        db.session.delete(event)
        db.session.commit()
        raise
    _show_it_working(organizer, event, now or datetime.now(UTC))
    return SeedResult(event.id, True, accounts)


def _show_it_working(organizer: User, event: Event, now: datetime) -> None:
    """Sessions in progress go live; the press centre's sessions go hybrid."""
    for event_session in list(event.sessions):
        if event_session.starts_at <= now < event_session.ends_at:
            session_service.set_session_status(organizer, event_session, "live")
        if event_session.track == TRACKS["press"]:
            switching.switch_session(event_session, "hybrid", actor=organizer)


def _seed_programme(organizer: User, moderators: list[User], event: Event, start: date) -> None:
    """The halls, participants, sessions and agendas of the demo event."""
    halls = [event_service.create_room(organizer, event, {"name": name, "capacity": capacity})
             for name, capacity in HALLS]
    people = _invitation_round(organizer, event)
    # Speakers: the guests' experts and the heads who are coming.
    speakers = [p for p in people if p.role in ("speaker", "official")
                and p.invitation_status == "accepted"]
    tz = ZoneInfo(TIMEZONE)
    sessions = []
    for index, slot in enumerate(PROGRAMME):
        hour, minute = map(int, slot.start.split(":"))
        starts = datetime.combine(start + timedelta(days=slot.day), time(hour, minute), tz)
        sessions.append(session_service.create_session(organizer, event, {
            "title": {"ru": slot.ru, "de": slot.de, "en": slot.en},
            "description": {"ru": "Модерация и синхронный перевод (ru/de).",
                            "de": "Moderation und Simultandolmetschen (ru/de).",
                            "en": "Moderated, with simultaneous interpreting (ru/de)."},
            "starts_at": starts, "ends_at": starts + timedelta(minutes=slot.minutes),
            "room_id": halls[slot.hall].id, "track": slot.track,
            "track_names": TRACK_NAMES[slot.track],
            "moderator_ids": [moderators[index % len(moderators)].id],
            "speaker_ids": [speakers[index % len(speakers)].id,
                            speakers[(index + 7) % len(speakers)].id],
        }))
    # Each remote attendee follows a few sessions.
    for index, participant in enumerate(people):
        if participant.attendance == "remote":
            for event_session in sessions[index % 5::6]:
                agenda.add_to_agenda(participant, participant, event_session)
