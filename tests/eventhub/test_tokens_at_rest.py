"""Personal tokens at rest: derived as HMAC(SECRET_KEY, participant id + nonce), never stored.

A copy of the database opens no link; the organizer can always show the link again; rotating
replaces the nonce; a database migrated from plain tokens gets new links (the old ones stop).
Nor does an access log keep one.
"""

from __future__ import annotations

import logging
import sqlite3

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import Participant
from eventhub.redaction import TokenFilter, redact_tokens
from eventhub.services import access
from tests.conftest import bearer


def _every_stored_value(database_file) -> str:
    connection = sqlite3.connect(database_file)
    try:
        values = []
        for (table,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            for row in connection.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                values.extend(str(value) for value in row)
        return "\n".join(values)
    finally:
        connection.close()


def test_the_database_holds_no_working_link(app, app_config, client, create_user, create_event,
                                            api_token, tmp_path):
    token = api_token(create_user("organizer"))
    event = create_event()
    created = client.post(f"/api/v1/events/{event.id}/participants", headers=bearer(token),
                          json={"name": "Anna", "email": "anna@example.org"})
    assert created.status_code == 201
    link = created.get_json()["access_url"].rsplit("/", 1)[1]
    assert len(link) >= 43  # 32 bytes
    db.session.remove()
    stored = _every_stored_value(tmp_path / "eventhub.db")
    assert link not in stored
    participant = db.session.get(Participant, created.get_json()["id"])
    assert participant.token == link  # derived from what is stored ...
    other = create_app({**app_config, "SECRET_KEY": "another-key"})
    with other.app_context():  # ... and the secret key: the rows alone give another token
        assert db.session.get(Participant, participant.id).token != link


def test_the_organizer_sees_the_same_link_again_and_rotation_replaces_it(
        client, create_user, create_event, create_participant, api_token):
    token = api_token(create_user("organizer"))
    participant = create_participant(create_event())
    url = f"/api/v1/participants/{participant.id}"
    first = client.get(url, headers=bearer(token)).get_json()["access_url"]
    assert client.get(url, headers=bearer(token)).get_json()["access_url"] == first
    old = first.rsplit("/", 1)[1]
    assert client.get(f"/p/{old}").status_code == 200
    rotated = client.post(f"{url}/token", headers=bearer(token)).get_json()["access_url"]
    new = rotated.rsplit("/", 1)[1]
    assert new != old
    assert client.get(f"/p/{old}").status_code == 404
    assert client.get(f"/calendars/p/{old}.ics").status_code == 404
    assert client.get(f"/p/{new}").status_code == 200


def test_a_database_with_plain_tokens_is_migrated_and_old_links_stop(app_config, tmp_path):
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI":
                      f"sqlite:///{tmp_path / 'old.db'}"})
    with app.app_context():
        directory = app.extensions["migrate"].directory
        upgrade(directory=directory, revision="0002")
        plain = access.new_token()
        db.session.execute(text(
            "INSERT INTO events (slug, title, description, timezone, start_date, end_date, "
            "venue, mode, default_provider, join_window_minutes, published, created_at, "
            "updated_at, programme_version) VALUES ('old', '{}', '{}', 'UTC', '2030-01-01', "
            "'2030-01-02', '', 'in_person', 'jitsi', 15, 1, '2029-01-01', '2029-01-01', 0)"))
        db.session.execute(text(
            "INSERT INTO participants (event_id, name, email, organization, "
            "partner_organization, country, role, attendance, language, invitation_status, "
            "token, token_digest, created_at) VALUES (1, 'Old', 'old@example.org', '', '', '', "
            "'guest', 'in_person', 'en', 'invited', :token, :digest, '2029-01-01')"),
            {"token": plain, "digest": access.digest(plain)})
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["eventhub", "init-db"])
    assert result.exit_code == 0, result.output
    assert plain not in _every_stored_value(tmp_path / "old.db")
    client = app.test_client()
    assert client.get(f"/p/{plain}").status_code == 404  # the old link stopped
    with app.app_context():
        new = db.session.get(Participant, 1).token
    assert client.get(f"/p/{new}").status_code == 200  # the organizer sends the new one
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("line", [
    'GET /p/{t} HTTP/1.1" 200 -', 'GET /join/2?t={t} HTTP/1.1', 'GET /join/2?lang=ru&t={t}',
    'GET /calendars/p/{t}.ics HTTP/1.1',
])
def test_personal_tokens_are_redacted_from_access_logs(line):
    token = "arfKe3Zs_9-ZqLmN0pQrStUvWxYz0123456789abcde"
    redacted = redact_tokens(line.format(t=token))
    assert token not in redacted and "***" in redacted
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '"%s" %s %s',
                               (line.format(t=token), "200", "-"), None)
    TokenFilter().filter(record)
    assert token not in record.getMessage()


def test_the_filter_guards_the_access_loggers(app):
    for name in ("werkzeug", "gunicorn.access"):
        assert any(isinstance(f, TokenFilter) for f in logging.getLogger(name).filters)
