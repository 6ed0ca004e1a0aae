"""The video providers this instance can use, as the configuration allows."""

from __future__ import annotations

from typing import Any

from flask import current_app

from integrations.base import VideoProvider
from integrations.registry import configured_providers, get_provider

from ..errors import Invalid


def provider_config() -> dict[str, Any]:
    """The plain mapping of provider variables (DESIGN.md's names) for `integrations`."""
    return dict(current_app.config.get("PROVIDERS") or {})


def available_providers() -> list[str]:
    """Names of the providers whose credentials are configured (jitsi always is)."""
    return configured_providers(provider_config())


def check_provider(name: str, field: str = "provider") -> str:
    """``name`` if it is configured; otherwise 422 naming the available ones."""
    available = available_providers()
    if name not in available:
        raise Invalid(
            f"provider {name!r} is not configured; available: {', '.join(available)}",
            fields={field: f"one of {', '.join(available)}"},
        )
    return name


def provider(name: str) -> VideoProvider:
    """The app's client for provider ``name`` (one per app, so OAuth tokens stay cached)."""
    clients = current_app.extensions.setdefault("eventhub.providers", {})
    client = clients.get(name)
    if client is None:
        client = clients[name] = get_provider(name, provider_config())
    return client
