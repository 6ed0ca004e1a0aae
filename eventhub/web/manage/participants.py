"""Participants: the filtered table, add, edit, delete, rotate a link; CSV import/export."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
