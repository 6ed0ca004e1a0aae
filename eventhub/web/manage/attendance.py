"""Attendance: expected remote, opened the link, present, per session and per delegation."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
