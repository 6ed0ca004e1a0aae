"""Organizer and moderator accounts: add, reset a password, deactivate."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
