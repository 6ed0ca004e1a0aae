"""The database locked or gone for a moment: 503 with Retry-After, and nothing half written."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select

from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import Room
from tests.conftest import bearer


@pytest.fixture
def app_config(app_config):
    """A short busy timeout, so a held lock is felt at once (production waits 30 s)."""
    return {**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 0.2}}}


def test_a_locked_database_is_503_with_retry_after_and_nothing_written(
        app, client, tmp_path, create_user, create_event, api_token):
    token = api_token(create_user("organizer"))
    event_id = create_event().id
    db.session.remove()
    holder = sqlite3.connect(tmp_path / "eventhub.db", timeout=0.1)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing for a long moment
    try:
        api = client.post(f"/api/v1/events/{event_id}/rooms", json={"name": "Saal"},
                          headers=bearer(token))
        page = client.get("/events/conf")
    finally:
        holder.rollback()
        holder.close()
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "unavailable"
    assert int(api.headers["Retry-After"]) >= 1
    assert page.status_code == 200  # WAL: readers are served while a writer holds the lock
    assert db.session.scalar(select(func.count()).select_from(Room)) == 0
    again = client.post(f"/api/v1/events/{event_id}/rooms", json={"name": "Saal"},
                        headers=bearer(token))
    assert again.status_code == 201  # the retry the header asked for works


def test_a_database_that_is_gone_is_503(app_config):
    app = create_app({**app_config, "SQLALCHEMY_ENGINE_OPTIONS": {},
                      "SQLALCHEMY_DATABASE_URI":
                      "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1"})
    for path in ("/api/v1/events", "/events/conf"):
        response = app.test_client().get(path)
        assert response.status_code == 503, path
        assert "Retry-After" in response.headers
    with app.app_context():
        db.engine.dispose()
