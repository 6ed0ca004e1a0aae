"""The garbage collector tuned for a server that holds thousands of connections.

Python's cyclic collector walks every container object of the generations it collects. In a
server holding 1,000 WebSockets, a collection of the oldest generation walked the ~160,000
objects of start-up (modules, the app, the catalogs) and those of the connections, and stopped
the one gevent loop for 70-120 ms each time (measured in ``serve`` with ``gc.callbacks``):
every client waiting for an update then waited that much longer, which was the slow tail of
``make bench``'s delivery p99. Two standard measures (``gc`` documentation):

- ``gc.freeze()`` once start-up is done: what start-up made lives as long as the process and is
  never garbage, so no collection walks it again;
- a young generation collected every :data:`YOUNG_THRESHOLD` allocations instead of 700: the
  short-lived objects of each request and each update are freed by reference counting before
  a collection sees them, instead of being promoted to the older generations (whose
  collections are the long ones). At 1,000 clients and 20 switches ``serve`` then made 3
  collections of the middle generation and none of the oldest, against 120 and 5.

Only the serving processes call :func:`tune` (``serve`` and gunicorn's workers through
``gunicorn.conf.py``), never ``create_app``: a test process builds many apps, and frozen
objects would never be freed.
"""

from __future__ import annotations

import gc

#: Allocations between two collections of the young generation (Python's default is 700).
YOUNG_THRESHOLD = 10_000


def tune() -> str:
    """Freeze what start-up made and widen the young generation; returns what it did, for the
    server's log."""
    gc.collect()  # start-up's garbage freed, not frozen with the rest
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    return (f"garbage collector: {gc.get_freeze_count():,} start-up objects frozen, "
            f"young generation every {YOUNG_THRESHOLD:,} allocations")
