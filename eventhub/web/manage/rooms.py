"""Halls of an event: add, rename, capacity, delete (refused while sessions use one)."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
