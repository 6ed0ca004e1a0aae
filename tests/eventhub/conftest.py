"""Fixtures for the provider lifecycle tests: one provider sandbox per run, reset per test.

A test module points the app at the sandbox by overriding ``app_config`` (see
``lifecycle_support.sandbox_settings``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.sandbox import Sandbox


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    """The provider simulators on 127.0.0.1 for the whole run."""
    server = Sandbox().start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The sandbox with no rooms, records or faults left from other tests."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()
