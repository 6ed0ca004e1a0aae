"""The provider registry: an explicit dict, configuration checks, the README table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import UnknownProvider, VideoProvider
from .bigbluebutton import BigBlueButtonProvider
from .daily import DailyProvider
from .jitsi import JitsiProvider
from .teams import TeamsProvider
from .whereby import WherebyProvider
from .zoom import ZoomProvider

PROVIDERS: dict[str, type[VideoProvider]] = {
    JitsiProvider.name: JitsiProvider,
    BigBlueButtonProvider.name: BigBlueButtonProvider,
    ZoomProvider.name: ZoomProvider,
    WherebyProvider.name: WherebyProvider,
    DailyProvider.name: DailyProvider,
    TeamsProvider.name: TeamsProvider,
}


def configured_providers(config: Mapping[str, Any]) -> list[str]:
    """Names of the providers whose required variables are all set (jitsi needs none)."""
    return [name for name, cls in PROVIDERS.items() if not cls.missing(config)]


def get_provider(name: str, config: Mapping[str, Any], **kwargs: Any) -> VideoProvider:
    """An instance of provider ``name``; ``UnknownProvider`` if unknown or unconfigured.

    ``kwargs`` go to the provider's constructor (``http``, ``clock``, ``timeout``).
    """
    cls = PROVIDERS.get(name)
    if cls is None or cls.missing(config):
        raise UnknownProvider(name, available=configured_providers(config))
    return cls(config, **kwargs)


def env_table() -> list[dict[str, Any]]:
    """Per provider: name, label, required and optional variables, base URLs and defaults."""
    return [
        {
            "name": name,
            "label": cls.label,
            "required": list(cls.required),
            "optional": list(cls.optional),
            "secrets": list(cls.secrets),
            "base_urls": dict(cls.base_urls),
        }
        for name, cls in PROVIDERS.items()
    ]
