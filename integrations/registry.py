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
            "host_pool": cls.host_pool_variable,
            "daily_host_limit": cls.daily_host_limit,
            "interpretation": cls.supports_interpretation,
            "limits": cls.limits.describe(),
        }
        for name, cls in PROVIDERS.items()
    ]


def provider_table_markdown() -> str:
    """The README's table of providers and the variables each needs, from the code.

    Secret variables are marked; they are redacted from every log line and error message.
    """

    def names(values: list[str], secrets: set[str]) -> str:
        marked = [f"`{v}` (secret)" if v in secrets else f"`{v}`" for v in values]
        return ", ".join(marked) or "none"

    def limits(row: dict[str, Any]) -> str:
        said = []
        if row["host_pool"]:
            daily = row["daily_host_limit"]
            said.append(f"host pool `{row['host_pool']}`: one meeting at a time per host"
                        + (f", {daily} creates or updates per host a day" if daily else ""))
        said.append("language interpretation" if row["interpretation"]
                    else "no interpretation channels (interpreters in the hall only)")
        return "; ".join(said)

    lines = [
        "| provider | name | required variables | optional variables | base URLs (default) "
        "| API calls kept to | hosts and interpretation |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in env_table():
        secrets = set(row["secrets"])
        urls = "<br>".join(
            f"`{var}` (`{default}`)" if default else f"`{var}` (no default: your server)"
            for var, default in row["base_urls"].items()
        )
        lines.append(
            f"| {row['label']} | `{row['name']}` | {names(row['required'], secrets)} "
            f"| {names(row['optional'], secrets)} | {urls or '-'} | {row['limits']} "
            f"| {limits(row)} |"
        )
    return "\n".join(lines) + "\n"
