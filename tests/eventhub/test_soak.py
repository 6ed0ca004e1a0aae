"""The soak in its 60-second form (``make soak`` runs it for 10 minutes at full size).

`make run`'s server as a subprocess on 127.0.0.1, mixed requests, Socket.IO clients and a
switch every few seconds: no error response, threads and file descriptors back to their
start, every client at the server's state (bench/soak.py says how each is measured).
"""

from __future__ import annotations

import pytest

from bench import soak


@pytest.mark.soak
def test_a_minute_of_mixed_load_leaves_nothing_behind():
    lines: list[str] = []
    figures = soak.run(duration=60, clients=50, rate=20, switch_every=3.0, report=lines.append)
    report = "\n".join(lines)
    assert figures.requests >= 60 * 20 * 0.9, report
    assert figures.switches >= 15, report
    assert figures.errors == [], report
    assert figures.diverged == [], report
    assert figures.threads[1] <= figures.threads[0], report
    assert figures.fds[1] <= figures.fds[0], report
