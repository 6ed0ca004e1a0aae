"""Fixtures for the provider tests: providers built against the shared sandbox."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from provider_support import TEST_TIMEOUT

from integrations.base import VideoProvider
from integrations.registry import get_provider
from integrations.sandbox import Sandbox

# The `sandbox` fixture (one server per run, reset per test) is in tests/conftest.py.


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
