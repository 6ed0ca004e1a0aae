"""Bearer tokens of users, once resolved, kept for a second: a client's next request reads
nothing to know who it is.

Every API request with ``Authorization: Bearer`` resolved its token with one query (the token
and its user, :func:`access.find_user_by_api_token`), which with its connection checked out
and returned took ~0.45 ms of the ~1 ms an organizer's warm programme page took in
``make bench``. A user's token, once resolved, is kept here under its SHA-256 digest (never
the token), with the user's columns except the password hash, by the rule of the programme
cache (:mod:`eventhub.api.programme_cache`): until this process commits anything, or for
``TOKEN_CACHE_SECONDS`` (``EVENTHUB_TOKEN_CACHE_SECONDS``, 1 s; 0 turns the cache off).
A revocation, a deactivation or a role change made through this process is therefore seen by
its next request; one made by another process (a second web process, the CLI) within that
second.

Only tokens that resolved to an active user's live token are kept; a token that resolves to
nothing is looked up every time, and participants' tokens are not kept at all (a personal
link is not a client making requests every second).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from cachetools import LRUCache
from flask import current_app
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db, per_app
from ..models import User
from ..services import access
from .programme_cache import Commits

_EXTENSION = "eventhub.token_cache"
#: The user's columns kept with the token: all but the password hash (read if ever needed).
KEPT = tuple(column.key for column in User.__mapper__.column_attrs
             if column.key != "password_hash")


class TokenCache:
    """digest -> (commits seen, monotonic expiry, the user's columns); thread-safe."""

    def __init__(self, seconds: float, size: int = 4096,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.clock = clock
        self.entries: LRUCache = LRUCache(maxsize=size)
        self.lock = threading.Lock()  # cachetools' caches are not thread-safe

    def user(self, token: str) -> User | None:
        """The user whose live API token this is (in this request's session), or None.

        The commit count is taken before the query: a commit made while it runs (the token
        revoked) leaves the entry unused.
        """
        key = access.digest(token)
        commits, now = Commits.count, self.clock()
        with self.lock:
            kept = self.entries.get(key)
        if kept is not None and kept[0] == commits and kept[1] > now:
            return _attached(kept[2])
        user = access.find_user_by_api_token(token)
        if user is not None and self.seconds > 0:
            with self.lock:
                self.entries[key] = (commits, now + self.seconds,
                                     {name: getattr(user, name) for name in KEPT})
        return user


def _attached(columns: dict[str, Any]) -> User:
    """The kept user as a persistent object of this request's session, built without SQL:
    the columns set as loaded (no change to flush), the object detached under its identity and
    added (what is not kept loads when read). A session that holds the user already gives its
    own."""
    key = db.session.identity_key(User, columns["id"])
    found = db.session.identity_map.get(key)
    if found is not None:
        return found
    user = User.__mapper__.class_manager.new_instance()
    for name, value in columns.items():
        set_committed_value(user, name, value)
    make_transient_to_detached(user)
    db.session.add(user)
    return user


def token_cache() -> TokenCache:
    """The current app's cache (one per app, so tests and apps never share entries)."""
    return per_app(_EXTENSION,
                   lambda: TokenCache(current_app.config["TOKEN_CACHE_SECONDS"]))
