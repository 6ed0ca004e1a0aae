"""Invitations and delegations: invite people and delegations, who answered, reminders."""

from __future__ import annotations

from . import bp  # noqa: F401 - routes register on the back-office blueprint
