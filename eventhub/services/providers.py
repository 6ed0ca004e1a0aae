"""The video providers this instance can use, as the configuration allows."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, current_app

from integrations.base import DEFAULT_TIMEOUT, VideoProvider
from integrations.registry import PROVIDERS, configured_providers, get_provider

from ..errors import Invalid

_clients_lock = threading.Lock()


def provider_config() -> dict[str, Any]:
    """The plain mapping of provider variables (DESIGN.md's names) for `integrations`."""
    return dict(current_app.config.get("PROVIDERS") or {})


def available_providers() -> list[str]:
    """Names of the providers whose credentials are configured (jitsi always is)."""
    return configured_providers(provider_config())


def check_provider(name: str, field: str = "provider") -> str:
    """``name`` if it is configured; otherwise 422 naming the available ones.

    A known provider that lacks credentials is named with the missing variables (names,
    never values), so the organizer knows what to set.
    """
    available = available_providers()
    if name not in available:
        cls = PROVIDERS.get(name)
        missing = cls.missing(provider_config()) if cls is not None else ()
        why = f"is missing {', '.join(missing)}" if missing else "is not configured"
        raise Invalid(
            f"provider {name!r} {why}; available: {', '.join(available)}",
            fields={field: f"one of {', '.join(available)}"},
        )
    return name


def provider_timeout() -> tuple[float, float]:
    """(connect, read) seconds for provider calls: ``PROVIDER_TIMEOUT`` or the default."""
    value = current_app.config.get("PROVIDER_TIMEOUT") or DEFAULT_TIMEOUT
    if isinstance(value, int | float):
        return (float(value), float(value))
    connect, read = value
    return (float(connect), float(read))


def provider(name: str) -> VideoProvider:
    """The app's client for provider ``name`` (one per app, so OAuth tokens stay cached)."""
    clients = current_app.extensions.setdefault("eventhub.providers", {})
    client = clients.get(name)
    if client is None:
        with _clients_lock:  # pool threads ask at once on a whole-event switch: build one
            client = clients.get(name)
            if client is None:
                client = clients[name] = get_provider(
                    name, provider_config(), timeout=provider_timeout()
                )
    return client


def reset_clients(app: Flask) -> None:
    """Forget the app's provider clients (after ``PROVIDERS`` changed, or when the app is
    done), closing their connections."""
    with _clients_lock:
        clients = app.extensions.pop("eventhub.providers", None) or {}
    for client in clients.values():
        client.close()
