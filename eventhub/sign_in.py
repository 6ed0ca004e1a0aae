"""Sign-in throttling beyond the per-client limit: an account lock-out that ends by itself.

Every sign-in (``/login`` and ``POST /api/v1/tokens``) is limited per client address by
Flask-Limiter (``SIGN_IN_LIMIT``); on top of that, ``SIGN_IN_ACCOUNT_LIMIT`` failed attempts
for one account within its window lock that account out, from every address and for the
right password too, until the oldest failure leaves the (moving) window. Counters live in the
limiter's storage: memory for one process, Redis in scale-out, so all workers share them.
Accounts are keyed by a digest of the e-mail, so the storage holds no addresses.
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app
from limits import parse

from .errors import RateLimited
from .extensions import limiter

NAMESPACE = "eventhub-sign-in-account"


def _key(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


def _limit():
    return parse(current_app.config["SIGN_IN_ACCOUNT_LIMIT"])


def guard(email: str) -> None:
    """Raise :class:`RateLimited` (with ``retry_after``) while the account is locked out."""
    if not limiter.enabled:  # RATELIMIT_ENABLED off (a test's): no storage to count in
        return
    item, key = _limit(), _key(email)
    if limiter.limiter.test(item, NAMESPACE, key):
        return
    reset = limiter.limiter.get_window_stats(item, NAMESPACE, key).reset_time
    raise RateLimited("too many failed sign-ins for this account; try again later",
                      retry_after=max(1, math.ceil(reset - time.time())))


def failed(email: str) -> None:
    """Count a failed sign-in against the account."""
    if not limiter.enabled:
        return
    limiter.limiter.hit(_limit(), NAMESPACE, _key(email))
