"""Flask extensions, created unbound and initialised in :func:`eventhub.create_app`."""

import threading
from collections.abc import Callable
from typing import TypeVar

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Declarative base of every EventHub model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
babel = Babel()
csrf = CSRFProtect()
# Sign-in and token requests are limited per client address (brute-force protection).
limiter = Limiter(key_func=get_remote_address, default_limits=[])


T = TypeVar("T")
_per_app_lock = threading.Lock()


def per_app(name: str, factory: Callable[[], T]) -> T:
    """``current_app.extensions[name]``, made by ``factory()`` on first use: one per app (so
    tests and apps never share a cache), however many threads ask at once."""
    found = current_app.extensions.get(name)
    if found is None:
        with _per_app_lock:
            found = current_app.extensions.get(name)
            if found is None:
                found = current_app.extensions[name] = factory()
    return found
