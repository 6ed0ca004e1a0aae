"""The outbox: the mails EventHub wrote, to read them in the browser."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
