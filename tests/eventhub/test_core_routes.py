"""Every route's integer ids are bounded by routing: a 64-bit overflow is a 404, never a 500."""

from __future__ import annotations

import pytest

HUGE = 2**64


@pytest.mark.parametrize("path", [
    f"/join/{HUGE}?t=x", f"/calendars/events/{HUGE}.ics", f"/calendars/sessions/{HUGE}.ics",
    f"/sessions/{HUGE}", f"/api/v1/sessions/{HUGE}", f"/api/v1/events/{HUGE}/sessions",
])
def test_an_id_past_64_bits_in_any_route_is_404(client, path):
    assert client.get(path).status_code == 404


def test_every_integer_route_is_bounded(app):
    from eventhub.services.common import MAX_ID

    converters = [conv for rule in app.url_map.iter_rules()
                  for conv in (rule._converters or {}).values()
                  if conv.__class__.__name__ == "BoundedIntegerConverter"]
    assert converters and all(conv.max == MAX_ID for conv in converters)
