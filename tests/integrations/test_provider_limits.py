"""Every provider call keeps to the provider's documented limits: calls in flight at once and
calls per second (integrations.limits), declared in each adapter's header."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from provider_support import room_request

from integrations.limits import CallLimits, Limiter
from integrations.registry import PROVIDERS


class FakeClock:
    """A clock that moves only when the limiter sleeps: rates checked without real time."""

    def __init__(self):
        self.now = 0.0
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds


def test_the_rate_allows_a_second_of_burst_then_paces():
    clock = FakeClock()
    limiter = Limiter(CallLimits(per_second=5), clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(15):
        with limiter.call("POST"):
            starts.append(clock.now)
    assert starts[:5] == [0.0] * 5  # the burst
    assert starts[-1] == pytest.approx(2.0)  # then 5 a second
    assert all(later - earlier >= 0.2 - 1e-9 for earlier, later in zip(starts[5:], starts[6:],
                                                                          strict=False))


def test_a_method_can_have_its_own_stricter_rate():
    clock = FakeClock()
    limiter = Limiter(CallLimits(per_second=20, per_second_by_method=(("DELETE", 2),)),
                      clock=clock, sleep=clock.sleep)
    for _ in range(6):
        with limiter.call("DELETE"):
            pass
    assert clock.now == pytest.approx(2.0)
    before = clock.now
    for _ in range(10):
        with limiter.call("POST"):
            pass
    assert clock.now == before  # other methods keep their own pace


def test_the_least_time_a_burst_of_calls_can_take_within_the_limits():
    assert CallLimits().least_seconds(200, 0.3) == pytest.approx(0.3)  # all at once
    assert CallLimits(in_flight=20).least_seconds(200, 0.3) == pytest.approx(3.0)  # 10 batches
    assert CallLimits(in_flight=20).least_seconds(41, 0.3) == pytest.approx(0.9)
    daily = CallLimits(in_flight=20, per_second=20, per_second_by_method=(("DELETE", 2),))
    assert daily.least_seconds(200, 0.3) == pytest.approx(9.3)  # 20 at once, then 20 a second
    assert daily.least_seconds(40, 0.3) == pytest.approx(1.3)
    assert daily.least_seconds(10, 0.3, method="DELETE") == pytest.approx(4.3)
    assert daily.least_seconds(0, 0.3) == 0


def test_the_least_time_is_what_the_limiter_paces_calls_to():
    clock = FakeClock()
    limits = CallLimits(per_second=5)
    limiter = Limiter(limits, clock=clock, sleep=clock.sleep)
    for _ in range(15):
        with limiter.call("POST"):
            pass
    assert clock.now == pytest.approx(limits.least_seconds(15, 0.0))  # the last call's start


def test_no_more_calls_at_once_than_the_slots():
    limiter = Limiter(CallLimits(in_flight=3))
    inside, most, lock = 0, 0, threading.Lock()
    release = threading.Event()

    def call(_n):
        nonlocal inside, most
        with limiter.call("POST"):
            with lock:
                inside += 1
                most = max(most, inside)
            release.wait(0.05)
            with lock:
                inside -= 1

    with ThreadPoolExecutor(10) as pool:
        list(pool.map(call, range(30)))
    assert most <= 3


def test_every_adapter_declares_its_limits():
    """Each provider with an API says what it keeps to, and where that is documented."""
    for name, cls in PROVIDERS.items():
        if name == "jitsi":  # rooms are URLs: no API call to limit
            assert cls.limits == CallLimits()
            continue
        assert cls.limits.in_flight, name
        assert cls.limits.source, name


def test_a_burst_of_creates_stays_within_the_provider_limits(sandbox, make_provider):
    """40 creates at once against a slow Whereby: never more than its 10 in flight at the
    simulator, and in no second more than a second's burst plus its rate."""
    limits = PROVIDERS["whereby"].limits
    sandbox.faults.latency("whereby", 0.1, times=100)
    provider = make_provider("whereby")
    with ThreadPoolExecutor(40) as pool:
        rooms = list(pool.map(lambda n: provider.create_room(room_request(f"burst-{n}")),
                              range(40)))
    assert len({room.external_id for room in rooms}) == 40
    assert sandbox.max_in_flight("whereby", "POST") <= limits.in_flight
    starts = sorted(start for start, _end in sandbox.simulators["whereby"].intervals("POST"))
    for i, first in enumerate(starts):
        within = sum(1 for later in starts[i:] if later - first < 1.0)
        assert within <= 2 * limits.per_second
