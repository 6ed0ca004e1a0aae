"""Shared fixtures: an app on a fresh SQLite file, clients, and ``create_*`` factories."""

from __future__ import annotations

import gc
import threading
from datetime import UTC, date, datetime, timedelta
from functools import cache

import pytest
from argon2 import PasswordHasher

from eventhub import create_app, shutdown
from eventhub.extensions import db
from eventhub.models import Event, Participant, Room, Session, User
from eventhub.services import access, provisioning
from integrations.sandbox import Sandbox

START = date(2030, 6, 28)  # a Friday; Europe/Moscow has no DST to trip over


@cache
def password_hash(password: str) -> str:
    """Argon2 is slow on purpose: hash each test password once per run."""
    return PasswordHasher().hash(password)


BACKGROUND = ("provisioning-recovery",)  # the periodic tasks an app starts (jobs.Periodic)


@pytest.fixture(autouse=True)
def no_background_task_outlives_its_test():
    """An app's background task left running acts beside later tests (against the shared
    sandbox, on databases that are gone): every app a test builds must be shut down."""
    before = {t for t in threading.enumerate() if t.name in BACKGROUND}
    yield
    left = [t.name for t in threading.enumerate()
            if t.name in BACKGROUND and t not in before and t.is_alive()]
    assert not left, f"background tasks still running after the test: {left}"


@pytest.fixture(scope="module", autouse=True)
def garbage_collected_per_module():
    """A socket left in a reference cycle is closed by the garbage collector whenever it next
    runs, and pytest charges its ResourceWarning to whichever test runs then (one CI run blamed
    a mail test for a socket it never opened): collecting at each module's end charges a leak
    to the module that made it."""
    yield
    gc.collect()


@pytest.fixture(scope="session")
def sandbox_server():
    """The provider simulators on 127.0.0.1 for the whole run."""
    server = Sandbox().start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server):
    """The sandbox with no rooms, tokens, records or faults left from other tests."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


@pytest.fixture
def app_config(tmp_path):
    """The configuration tests start from; a test may change it before using ``app``."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'eventhub.db'}",
        "WTF_CSRF_ENABLED": True,
        "PROVISIONING_BACKOFF": 0.01,
        "PROVISIONING_ATTEMPTS": 3,
        "PROVIDERS": {},
        "EVENTHUB_BASE_URL": "http://eventhub.test",
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
    }


def close_app(app) -> None:
    """The end of a test's app: its jobs finished, its background tasks stopped, its database
    and provider connections closed."""
    with app.app_context():
        provisioning.dispatcher().wait(30)
        shutdown(app)
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    with app.app_context():
        db.create_all()
    yield app
    close_app(app)


@pytest.fixture
def ctx(app):
    """An app context for tests that call services directly."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# -- factories --------------------------------------------------------------------------------


@pytest.fixture
def create_user(ctx):
    def create(role: str = "organizer", email: str | None = None, password: str = "secret-pw-1",
               name: str = "") -> User:
        count = db.session.query(User).count()
        user = User(email=email or f"{role}{count}@example.org", role=role, name=name,
                    password_hash=password_hash(password))
        db.session.add(user)
        db.session.commit()
        return user

    return create


@pytest.fixture
def create_event(ctx):
    def create(slug: str = "conf", published: bool = True, **kwargs) -> Event:
        values = dict(title={"en": "Conference", "ru": "Конференция"}, timezone="Europe/Moscow",
                      start_date=START, end_date=START + timedelta(days=2), venue="Kaluga")
        values.update(kwargs)
        event = Event(slug=slug, published=published, **values)
        db.session.add(event)
        db.session.commit()
        return event

    return create


@pytest.fixture
def create_room(ctx):
    def create(event: Event, name: str = "Hall A", capacity: int = 100) -> Room:
        room = Room(event=event, name=name, capacity=capacity)
        db.session.add(room)
        db.session.commit()
        return room

    return create


def at(hour: int, minute: int = 0, day: int = 0) -> datetime:
    """An instant on the test event's ``day`` at local Moscow time (UTC+3)."""
    local = datetime(START.year, START.month, START.day, hour, minute, tzinfo=UTC)
    return local + timedelta(days=day) - timedelta(hours=3)


@pytest.fixture
def create_session(ctx):
    def create(event: Event, room: Room | None = None, start: datetime | None = None,
               minutes: int = 60, moderators=(), **kwargs) -> Session:
        start = start or at(10)
        event_session = Session(event=event, room=room, title=kwargs.pop("title", {"en": "Talk"}),
                                starts_at=start, ends_at=start + timedelta(minutes=minutes),
                                moderators=list(moderators), **kwargs)
        db.session.add(event_session)
        db.session.commit()
        return event_session

    return create


@pytest.fixture
def create_participant(ctx):
    def create(event: Event, name: str = "Anna", **kwargs) -> Participant:
        count = db.session.query(Participant).count()
        participant = Participant(event=event, name=name, email=f"p{count}@example.org",
                                  **kwargs)
        access.issue_participant_token(participant)
        db.session.commit()
        return participant

    return create


@pytest.fixture
def api_token(ctx):
    """A live API token for a user."""
    from eventhub.models import ApiToken

    def issue(user: User) -> str:
        token = access.new_token()
        db.session.add(ApiToken(user=user, digest=access.digest(token)))
        db.session.commit()
        return token

    return issue


def bearer(token: str | None) -> dict[str, str]:
    """Headers for a request with (or without) a bearer token."""
    return {"Authorization": f"Bearer {token}"} if token else {}


# -- mail -------------------------------------------------------------------------------------


class SmtpSink:
    """aiosmtpd on 127.0.0.1: accepts and keeps every message, can be stopped and restarted on
    the same port, and can ``freeze()``: from then on it records nothing and answers no DATA,
    as a server that dies in the middle of a transaction."""

    def __init__(self):
        import socket
        import threading

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.lock = threading.Lock()
        self.messages: list[bytes] = []
        self.refuse: set[str] = set()  # recipients answered with 550
        self.frozen = False
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self.frozen = False
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def freeze(self) -> None:
        self.frozen = True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        if self.frozen:
            await asyncio.Event().wait()  # never answers; cancelled by stop()
        with self.lock:
            self.messages.append(envelope.content)
        return "250 OK"

    def parsed(self) -> list:
        import email
        from email import policy

        with self.lock:
            raw = list(self.messages)
        return [email.message_from_bytes(m, policy=policy.default) for m in raw]

    def count(self) -> int:
        with self.lock:
            return len(self.messages)


@pytest.fixture
def smtp():
    """A mail server on 127.0.0.1 (aiosmtpd) for one test."""
    sink = SmtpSink().start()
    yield sink
    sink.stop()

