"""The registry: configured providers, lookup errors, the environment table."""

from __future__ import annotations

import pytest

from integrations.base import ProviderNotConfigured, UnknownProvider
from integrations.registry import PROVIDERS, configured_providers, env_table, get_provider
from integrations.zoom import ZoomProvider


def test_registry_keys_are_provider_names():
    assert list(PROVIDERS) == ["jitsi", "bigbluebutton", "zoom", "whereby", "daily", "teams"]
    for name, cls in PROVIDERS.items():
        assert cls.name == name
        assert cls.__module__ == f"integrations.{name}"


def test_jitsi_always_configured():
    assert configured_providers({}) == ["jitsi"]


def test_sandbox_env_configures_all(sandbox):
    assert configured_providers(sandbox.env()) == list(PROVIDERS)


def test_unknown_name(sandbox):
    with pytest.raises(UnknownProvider) as info:
        get_provider("skype", sandbox.env())
    assert info.value.available == list(PROVIDERS)
    assert "skype" in str(info.value)


def test_unconfigured_name():
    with pytest.raises(UnknownProvider) as info:
        get_provider("zoom", {"ZOOM_ACCOUNT_ID": "a"})
    assert info.value.available == ["jitsi"]


def test_constructing_unconfigured_provider_names_missing_variables():
    with pytest.raises(ProviderNotConfigured) as info:
        ZoomProvider({"ZOOM_ACCOUNT_ID": "a"})
    assert info.value.missing == ("ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET")
    assert "ZOOM_CLIENT_ID" in str(info.value)


def test_env_table_matches_design():
    table = {row["name"]: row for row in env_table()}
    assert table["jitsi"]["required"] == []
    assert table["jitsi"]["base_urls"] == {"JITSI_BASE_URL": "https://meet.jit.si"}
    assert table["zoom"]["base_urls"] == {"ZOOM_API_BASE": "https://api.zoom.us/v2",
                                          "ZOOM_OAUTH_URL": "https://zoom.us/oauth/token"}
    assert table["whereby"]["base_urls"] == {"WHEREBY_API_BASE": "https://api.whereby.dev/v1"}
    assert table["daily"]["base_urls"] == {"DAILY_API_BASE": "https://api.daily.co/v1"}
    assert table["teams"]["base_urls"]["MSGRAPH_API_BASE"] == "https://graph.microsoft.com/v1.0"
    assert table["bigbluebutton"]["required"] == ["BBB_URL", "BBB_SECRET"]
    for row in table.values():
        assert row["label"]
        assert set(row["secrets"]) <= set(row["required"]) | set(row["optional"])
