"""Events: the list, create, and settings (titles, zone, dates, venue, providers, ...)."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
