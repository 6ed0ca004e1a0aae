"""Fixtures for the provider tests: one sandbox per session, reset between tests."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# `.venv/bin/pytest` does not put the work tree on sys.path (the project is not installed and
# pyproject sets no `pythonpath`); make `import integrations` work, as tests/calendars does.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from provider_support import TEST_TIMEOUT  # noqa: E402

from integrations.base import VideoProvider  # noqa: E402
from integrations.registry import get_provider  # noqa: E402
from integrations.sandbox import Sandbox  # noqa: E402


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Sandbox]:
    """The provider simulators on 127.0.0.1 for the whole session."""
    server = Sandbox().start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server: Sandbox) -> Iterator[Sandbox]:
    """The sandbox, with no rooms, tokens, records or faults left from other tests."""
    sandbox_server.reset()
    yield sandbox_server
    sandbox_server.reset()


@pytest.fixture
def make_provider(sandbox: Sandbox) -> Callable[..., VideoProvider]:
    """Build a provider pointed at the sandbox; keyword arguments override config values."""

    def make(name: str, clock: Callable[[], float] | None = None, **overrides: Any):
        config = {**sandbox.env(), **overrides}
        kwargs: dict[str, Any] = {"timeout": TEST_TIMEOUT}
        if clock is not None:
            kwargs["clock"] = clock
        return get_provider(name, config, **kwargs)

    return make
