"""The programme editor: a day x hall grid, and the session form."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
