"""Events: the list, create, settings (titles, zone, dates, venue, providers, join window, published)."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
