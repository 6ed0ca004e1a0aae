"""Findings of the pre-release audit: each a real request over a real socket where it matters."""

from __future__ import annotations

import http.client
import logging
import threading

import pytest
from werkzeug.serving import make_server

from eventhub.redaction import TokenFilter, redact_tokens
from eventhub.web import is_local_path
from tests.conftest import bearer


@pytest.mark.parametrize("target,local", [
    ("/console", True), ("/sessions/3?lang=ru", True),
    ("//evil.example/", False), ("/\t/evil.example", False), ("/\\evil.example", False),
    ("/\n/evil.example", False), ("https://evil.example/", False), ("", False),
    ("evil.example", False), ("/%09/evil.example", True),  # encoded: stays a local path
])
def test_only_plain_local_paths_are_followed_after_sign_in(target, local):
    assert is_local_path(target) is local


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


@pytest.fixture
def server(app):
    """The app on a real socket, so the body can be sent chunked."""
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_port
    httpd.shutdown()
    thread.join(5)
    httpd.server_close()


def test_a_chunked_body_over_1_mib_is_413(server, create_user, create_event, api_token):
    token = api_token(create_user("organizer"))
    event = create_event()
    body = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    connection.putrequest("POST", f"/api/v1/events/{event.id}/rooms")
    for name, value in {**bearer(token), "Content-Type": "application/json",
                        "Transfer-Encoding": "chunked"}.items():
        connection.putheader(name, value)
    connection.endheaders()
    for start in range(0, len(body), 65536):
        chunk = body[start:start + 65536]
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 413
    connection.close()


def test_pages_never_send_their_url_to_other_sites(client, create_event, create_participant):
    participant = create_participant(create_event())
    response = client.get(f"/p/{participant.token}")
    assert response.headers["Referrer-Policy"] == "same-origin"
