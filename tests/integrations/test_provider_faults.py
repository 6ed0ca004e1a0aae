"""The fault table: what each injected fault becomes, and what the simulator received."""

from __future__ import annotations

import pytest
from provider_support import SLOW, room_request

from integrations.base import ProviderRejected, ProviderUnavailable
from integrations.http import parse_retry_after

HTTP_PROVIDERS = ["bigbluebutton", "zoom", "whereby", "daily", "teams"]

# (id, how to inject, expected error, expected status, expected retry_after)
FAULTS = [
    ("500", lambda f, p: f.status(p, 500), ProviderUnavailable, 500, None),
    ("502", lambda f, p: f.status(p, 502), ProviderUnavailable, 502, None),
    ("503", lambda f, p: f.status(p, 503), ProviderUnavailable, 503, None),
    ("429", lambda f, p: f.status(p, 429, retry_after=7), ProviderUnavailable, 429, 7),
    ("timeout", lambda f, p: f.timeout(p, SLOW), ProviderUnavailable, None, None),
    ("reset", lambda f, p: f.reset(p), ProviderUnavailable, None, None),
    ("malformed", lambda f, p: f.malformed(p), ProviderUnavailable, 200, None),
    ("400", lambda f, p: f.status(p, 400), ProviderRejected, 400, None),
    ("401", lambda f, p: f.status(p, 401), ProviderRejected, 401, None),
    ("403", lambda f, p: f.status(p, 403), ProviderRejected, 403, None),
]


@pytest.mark.parametrize("provider_name", HTTP_PROVIDERS)
@pytest.mark.parametrize(
    ("inject", "error", "status", "retry_after"),
    [row[1:] for row in FAULTS],
    ids=[row[0] for row in FAULTS],
)
def test_fault_maps_to_error(sandbox, make_provider, provider_name, inject, error, status,
                             retry_after):
    inject(sandbox.faults, provider_name)
    with pytest.raises(error) as info:
        make_provider(provider_name).create_room(room_request())
    assert info.value.provider == provider_name
    assert info.value.status == status
    if error is ProviderUnavailable:
        assert info.value.retry_after == retry_after
    received = sandbox.received(provider_name)
    assert len(received) == 1  # adapters try once; retries belong to provisioning
    assert received[0].fault
    assert sandbox.created(provider_name) == 0
    assert sandbox.faults.pending() == 0


@pytest.mark.parametrize("provider_name", HTTP_PROVIDERS)
def test_small_latency_succeeds(sandbox, make_provider, provider_name):
    sandbox.faults.latency(provider_name, 0.05, times=3)
    room = make_provider(provider_name).create_room(room_request())
    assert room.provider == provider_name
    assert sandbox.created(provider_name) == 1
    assert [r.fault for r in sandbox.received(provider_name)][:3] == ["latency"] * min(
        3, len(sandbox.received(provider_name)))


def test_faults_match_method_path_and_count(sandbox, make_provider):
    sandbox.faults.status("daily", 503, times=2, method="DELETE")
    provider = make_provider("daily")
    room = provider.create_room(room_request())  # POST: not matched
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            provider.delete_room(room)
    provider.delete_room(room)
    assert [r.fault for r in sandbox.received("daily")] == ["", "status", "status", ""]
    assert room.external_id not in sandbox.rooms("daily")


def test_fault_for_one_provider_leaves_others_alone(sandbox, make_provider):
    sandbox.faults.status("zoom", 503)
    make_provider("daily").create_room(room_request())
    assert sandbox.faults.pending() == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), (None, None), ("", None), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0)],
)
def test_parse_retry_after(header, expected):
    assert parse_retry_after(header, now=1445412480.0) == expected
