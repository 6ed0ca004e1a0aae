"""Provider API limits: what each provider documents, and the limiter that keeps to it.

Each adapter declares its :class:`CallLimits` beside its other settings (calls in flight at
once, calls per second, stricter rates for some methods, and where the provider documents
them); :class:`ProviderHTTP` sends every call through that provider's :class:`Limiter`. A
whole-event switch then runs as many calls at once as the provider allows, and never more: a
429 (which costs a Retry-After wait) is avoided rather than retried.

The limiter counts the calls of this process. Several worker processes share one provider
account: divide the limits among them (README: Production).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class CallLimits:
    """A provider's documented API limits (None: no limit documented or needed)."""

    in_flight: int | None = None
    per_second: float | None = None
    #: Stricter rates for some methods, e.g. Daily's deletions: (("DELETE", 2),).
    per_second_by_method: tuple[tuple[str, float], ...] = ()
    #: Where the provider documents them.
    source: str = ""

    def describe(self) -> str:
        """``20 at once, 20/s (DELETE 2/s)`` for the README table."""
        said = []
        if self.in_flight:
            said.append(f"{self.in_flight} at once")
        if self.per_second:
            said.append(f"{self.per_second:g}/s")
        text = ", ".join(said) or "no API limit"
        if self.per_second_by_method:
            text += " (" + ", ".join(f"{method} {rate:g}/s" for method, rate
                                     in self.per_second_by_method) + ")"
        return text


    def least_seconds(self, calls: int, latency: float, method: str = "POST") -> float:
        """The least wall time ``calls`` calls of ``latency`` seconds each can take within
        these limits: batches of ``in_flight``, and the rate's one-second burst then its pace
        (the larger bound). ``make bench`` sets a whole-event switch beside it."""
        if calls <= 0:
            return 0.0
        least = latency
        if self.in_flight:
            least = max(least, math.ceil(calls / self.in_flight) * latency)
        rates = [self.per_second] if self.per_second else []
        rates += [rate for name, rate in self.per_second_by_method if name == method.upper()]
        for rate in rates:  # the last call starts once the burst is spent and the rest paced
            least = max(least, max(0, calls - max(1.0, rate)) / rate + latency)
        return least


class _Bucket:
    """A token bucket: ``rate`` calls a second, bursts of up to one second's worth."""

    def __init__(self, rate: float, clock: Callable[[], float]):
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.clock = clock
        self.stamp = clock()
        self.lock = threading.Lock()

    def wait_time(self) -> float:
        """Take a token and return 0, or return how long to wait before trying again."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1 - 1e-9:  # float sums may stop a hair short of a whole token
                self.tokens = max(0.0, self.tokens - 1)
                return 0.0
            return (1 - self.tokens) / self.rate


class Limiter:
    """Keeps one provider's calls within its :class:`CallLimits` (thread- and gevent-safe)."""

    def __init__(self, limits: CallLimits, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.limits = limits
        self.sleep = sleep
        self.slots = threading.BoundedSemaphore(limits.in_flight) if limits.in_flight else None
        self.bucket = _Bucket(limits.per_second, clock) if limits.per_second else None
        self.by_method = {method.upper(): _Bucket(rate, clock)
                          for method, rate in limits.per_second_by_method}

    @contextmanager
    def call(self, method: str) -> Iterator[None]:
        """Hold a slot and the tokens for one call of ``method`` while it runs."""
        if self.slots is not None:
            self.slots.acquire()
        try:
            for bucket in (self.bucket, self.by_method.get(method.upper())):
                while bucket is not None and (delay := bucket.wait_time()) > 0:
                    self.sleep(delay)
            yield
        finally:
            if self.slots is not None:
                self.slots.release()


_limiters: dict[tuple[str, CallLimits], Limiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(provider: str, limits: CallLimits) -> Limiter:
    """The process's one limiter for ``provider`` (every client of it shares the limits)."""
    key = (provider, limits)
    with _limiters_lock:
        if key not in _limiters:
            _limiters[key] = Limiter(limits)
        return _limiters[key]
