"""Fixtures shared by the tests of eventhub/ (the app, client and factories are in
tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.browser.world import PASSWORD, World, build_world
from tests.conftest import password_hash


@pytest.fixture
def world(app) -> World:
    """The conference of :func:`tests.browser.world.build_world`, which the page tests browse.
    A module that needs a world of its own defines its own ``world``."""
    with app.app_context():
        return build_world(password_hash(PASSWORD))
