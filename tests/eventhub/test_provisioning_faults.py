"""Retry policy against the sandbox: backoff honouring Retry-After, bounded attempts, the
fallback provider, a readable ``failed`` error without secrets, no retry of permanent errors."""

from __future__ import annotations

import logging

import pytest
from lifecycle_support import creates, room_of, sandbox_settings, secret_values, wait_jobs

from eventhub.services import provisioning, switching
from tests.conftest import bearer


@pytest.fixture
def app_config(app_config, sandbox):
    """The test app talks to the sandbox."""
    return {**app_config, **sandbox_settings(sandbox)}


@pytest.fixture
def organizer(create_user):
    """An organizer account."""
    return create_user("organizer")


def provision(create_event, create_session, organizer, provider: str,
              fallback: str | None = None):
    """A session switched online on ``provider``, provisioning finished."""
    event = create_event(default_provider=provider, fallback_provider=fallback)
    event_session = create_session(event)
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    return event_session


def test_retry_after_is_waited(sandbox, create_event, create_session, organizer):
    """A 429 with ``Retry-After: 1`` is retried, and not before a second has passed."""
    sandbox.faults.status("whereby", 429, retry_after=1, method="POST", path="/meetings")
    event_session = provision(create_event, create_session, organizer, "whereby")
    assert room_of(event_session).state == "ready"
    received = sandbox.received("whereby")
    limited = next(i for i, r in enumerate(received) if r.fault == "status")
    following = received[limited + 1:]
    assert following, "no retry after the 429"
    gap = following[0].at - received[limited].at
    assert gap >= 0.95, f"retried {gap:.3f}s after a 429 asking for 1s"
    assert len(creates(sandbox, "whereby")) == 2
    assert sandbox.created("whereby") == 1


def test_backoff_grows_exponentially(app, sandbox, create_event, create_session, organizer):
    """Without Retry-After the wait doubles (jittered between half and all of it)."""
    app.config["PROVISIONING_BACKOFF"] = 0.2
    app.config["PROVISIONING_ATTEMPTS"] = 3
    sandbox.faults.status("daily", 503, times=2, method="POST", path="/rooms")
    event_session = provision(create_event, create_session, organizer, "daily")
    assert room_of(event_session).state == "ready"
    times = [r.at for r in creates(sandbox, "daily")]
    assert len(times) == 3
    first, second = times[1] - times[0], times[2] - times[1]
    assert first >= 0.1 and second >= 0.2  # base × 2^(n-1) × [0.5, 1]
    assert sandbox.created("daily") == 1


def test_backoff_policy_values():
    """Retry-After is a floor; jitter keeps each wait within half to all of the exponential."""
    for attempt in (1, 2, 3, 4):
        delay = provisioning.backoff(attempt, None, 1.0)
        assert 2 ** (attempt - 1) / 2 <= delay <= 2 ** (attempt - 1)
    assert provisioning.backoff(1, 5.0, 0.1) == 5.0
    assert provisioning.backoff(4, 1.0, 1.0) >= 4.0


def test_bounded_attempts_then_fallback(app, sandbox, create_event, create_session, organizer):
    """Zoom keeps failing: exactly PROVISIONING_ATTEMPTS calls, then the fallback provider."""
    sandbox.faults.status("zoom", 503, times=50, method="POST", path="/meetings")
    event_session = provision(create_event, create_session, organizer, "zoom", "whereby")
    room = room_of(event_session)
    assert room.state == "ready" and room.provider == "whereby"
    assert len(creates(sandbox, "zoom")) == app.config["PROVISIONING_ATTEMPTS"]
    assert sandbox.created("zoom") == 0
    assert sandbox.created("whereby") == 1
    assert room.attempts == 2  # two providers tried


def test_all_providers_fail_readably_without_secrets(
    app, client, sandbox, create_event, create_session, organizer, api_token, caplog
):
    """Both providers down: ``failed`` with an error naming each provider and its cause; no
    secret value in any log line (DEBUG included) or in the API's answer."""
    caplog.set_level(logging.DEBUG)
    sandbox.faults.status("zoom", 503, times=50, method="POST", path="/meetings")
    sandbox.faults.status("teams", 500, times=50, method="POST", path="/createOrGet")
    event_session = provision(create_event, create_session, organizer, "zoom", "teams")
    room = room_of(event_session)
    assert room.state == "failed"
    assert "zoom" in room.last_error and "503" in room.last_error
    assert "teams" in room.last_error and "500" in room.last_error
    response = client.get(f"/api/v1/sessions/{event_session.id}",
                          headers=bearer(api_token(organizer)))
    assert response.status_code == 200
    assert response.json["room"] == {"state": "failed", "provider": "zoom",
                                     "error": room.last_error}
    room_answer = client.get(f"/api/v1/sessions/{event_session.id}/room",
                             headers=bearer(api_token(organizer)))
    shown = caplog.text + response.get_data(as_text=True) + room_answer.get_data(as_text=True)
    assert "Bearer" not in room.last_error
    for secret in secret_values(sandbox):
        assert secret not in shown


@pytest.mark.parametrize("status", [400, 401, 403])
def test_permanent_errors_are_not_retried(status, sandbox, create_event, create_session,
                                          organizer):
    """A 400/401/403 fails at once: the provider received exactly one create."""
    sandbox.faults.status("whereby", status, method="POST", path="/meetings")
    event_session = provision(create_event, create_session, organizer, "whereby")
    room = room_of(event_session)
    assert room.state == "failed"
    assert "whereby" in room.last_error and str(status) in room.last_error
    assert len(creates(sandbox, "whereby")) == 1
    assert sandbox.created("whereby") == 0


def test_permanent_error_goes_to_fallback_without_retry(sandbox, create_event, create_session,
                                                         organizer):
    """A rejected create is not retried but the fallback provider is still tried."""
    sandbox.faults.status("daily", 400, method="POST", path="/rooms")
    event_session = provision(create_event, create_session, organizer, "daily", "whereby")
    room = room_of(event_session)
    assert room.state == "ready" and room.provider == "whereby"
    assert len(creates(sandbox, "daily")) == 1


def test_malformed_answer_is_retried(sandbox, create_event, create_session, organizer):
    """A truncated body counts as retryable; the retry finds or creates the one room."""
    sandbox.faults.malformed("teams", method="POST", path="/createOrGet")
    event_session = provision(create_event, create_session, organizer, "teams")
    assert room_of(event_session).state == "ready"
    assert sandbox.created("teams") == 1


def test_retry_after_too_long_moves_on(sandbox, create_event, create_session, organizer):
    """A Retry-After beyond the cap ends attempts on that provider (no hour-long sleep)."""
    sandbox.faults.status("zoom", 429, retry_after=3600, method="POST", path="/meetings")
    event_session = provision(create_event, create_session, organizer, "zoom", "daily")
    room = room_of(event_session)
    assert room.state == "ready" and room.provider == "daily"
    assert len(creates(sandbox, "zoom")) == 1


def test_switching_again_retries_a_failed_room(sandbox, create_event, create_session,
                                               organizer):
    """A failed room is provisioned again by the same switch, without changing the mode."""
    sandbox.faults.status("whereby", 503, times=3, method="POST", path="/meetings")
    event_session = provision(create_event, create_session, organizer, "whereby")
    room = room_of(event_session)
    assert room.state == "failed"
    generation, sequence = room.generation, event_session.sequence
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    room = room_of(event_session)
    assert (room.state, room.last_error, room.generation) == ("ready", None, generation)
    assert event_session.sequence == sequence
    assert sandbox.created("whereby") == 1


def test_a_room_made_behind_a_lost_answer_is_deleted_after_the_fallback(
        app, sandbox, create_event, create_session, organizer):
    """Daily creates the room but its answers are lost (the client times out); Whereby takes
    over; the room Daily made is then deleted: one provider room for the session in all."""
    from eventhub.services import providers

    app.config["PROVIDER_TIMEOUT"] = (2.0, 0.5)
    app.config["PROVISIONING_ATTEMPTS"] = 2
    providers.reset_clients(app)
    sandbox.faults.latency("daily", 1.0, times=2, method="POST", path="/rooms")
    event_session = provision(create_event, create_session, organizer, "daily", "whereby")
    room = room_of(event_session)
    assert room.state == "ready" and room.provider == "whereby"
    wait_jobs()
    assert sandbox.created("daily") == 1  # the lost answers did make a room ...
    assert len(sandbox.rooms("daily")) == 0  # ... which is gone again
    assert len(sandbox.rooms("whereby")) == 1


def test_no_sweep_when_no_answer_was_lost(sandbox, create_event, create_session, organizer):
    """A 503 made no room: nothing to delete at the failed provider."""
    sandbox.faults.status("daily", 503, times=50, method="POST", path="/rooms")
    provision(create_event, create_session, organizer, "daily", "whereby")
    wait_jobs()
    assert not [r for r in sandbox.received("daily") if r.method == "DELETE"]


def test_an_app_shut_down_closes_its_provider_connections(app, sandbox, create_event,
                                                         create_session, organizer):
    """A stopped app leaves no keep-alive connection to a provider for the garbage collector
    to find later (pytest would blame whichever test runs then)."""
    from eventhub import shutdown
    from eventhub.services import providers

    provision(create_event, create_session, organizer, "whereby")
    pool = providers.provider("whereby").http.session.get_adapter(sandbox.url).poolmanager
    assert len(pool.pools) == 1  # the connection the room was made on, kept alive
    shutdown(app)
    assert len(pool.pools) == 0 and "eventhub.providers" not in app.extensions
