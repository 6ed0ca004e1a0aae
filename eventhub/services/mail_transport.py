"""Where composed mails go: an SMTP server (``SMTP_URL``), or ``.eml`` files (no ``SMTP_URL``).

Standard library only (:mod:`smtplib`, :mod:`ssl`). ``SMTP_URL`` forms:

- ``smtp://user:pass@host:587``: STARTTLS, required (port 587, or ``?starttls=true``);
- ``smtps://user:pass@host`` (port 465 by default): TLS from the first byte;
- ``smtp://host:25``: plain, for a relay on the same machine or network.

Credentials are refused over a plain connection to another machine. The password is never
logged and never part of an error message: errors name the host and the server's reply only.

Errors are sorted for the outbox: :class:`TransientMailError` (server down, timeouts, 4xx
replies, authentication or TLS trouble: fix the server or the configuration and every mail
still goes) and :class:`PermanentMailError` (a 5xx refusal of this message or recipient).
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

LOOPBACK = ("localhost", "127.0.0.1", "::1")


class MailError(Exception):
    """A mail could not be handed over; ``message`` is safe to log and store."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TransientMailError(MailError):
    """Try again later: the mail server is down, busy, or misconfigured."""


class PermanentMailError(MailError):
    """The mail server refused this message for good (5xx)."""


@dataclass(frozen=True)
class SmtpSettings:
    """A parsed ``SMTP_URL``. ``repr`` never shows the password."""

    host: str
    port: int
    tls: bool = False  # smtps://: TLS from the start
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)


def smtp_settings(url: str) -> SmtpSettings:
    """Parse ``SMTP_URL``; ValueError with a message that does not contain the URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("SMTP_URL must start with smtp:// or smtps://")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("SMTP_URL has an invalid port") from None
    host = parts.hostname or ""
    if not host:
        raise ValueError("SMTP_URL names no host")
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    tls = parts.scheme == "smtps"
    port = port or (465 if tls else 25)
    starttls = not tls and (port == 587 or query.get("starttls") in ("1", "true", "yes"))
    username = unquote(parts.username or "")
    password = unquote(parts.password or "")
    if (username or password) and not (tls or starttls) and host not in LOOPBACK:
        raise ValueError("SMTP_URL sends credentials unencrypted: use port 587 (STARTTLS), "
                         "?starttls=true, or smtps://")
    return SmtpSettings(host, port, tls, starttls, username, password)


class SmtpTransport:
    """One SMTP connection, opened on the first send and reused for a batch of mails."""

    def __init__(self, settings: SmtpSettings, timeout: float):
        self.settings = settings
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        connection: smtplib.SMTP | None = None
        try:
            if s.tls:
                connection = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                              context=context)
            else:
                connection = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
            connection.ehlo()
            if s.starttls:
                connection.starttls(context=context)
                connection.ehlo()
            if s.username:
                connection.login(s.username, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            _drop(connection)
            raise TransientMailError(f"{s.host}: authentication refused ({exc.smtp_code})") \
                from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            _drop(connection)
            raise TransientMailError(f"{s.host}:{s.port}: {_describe(exc)}") from None
        return connection

    def send(self, sender: str, recipient: str, message: str) -> None:
        """Hand one message over; raises Transient- or PermanentMailError."""
        if self.connection is None:
            self.connection = self._open()
        try:
            # A str: smtplib turns its line ends into CRLF (bytes would go as they are).
            refused = self.connection.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            code, reply = next(iter(exc.recipients.values()), (0, b""))
            raise _by_code(code, f"recipient refused: {code} {_text(reply)}") from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            raise _by_code(exc.smtp_code, f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise TransientMailError(f"{self.settings.host}: {_describe(exc)}") from None
        if refused:  # pragma: no cover - one recipient: refused means SMTPRecipientsRefused
            raise PermanentMailError(f"recipient refused: {refused}")

    def close(self) -> None:
        """Say QUIT (or just drop a connection that is already broken)."""
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


class FileTransport:
    """Writes each mail to ``<directory>/<name>.eml``: what ``make run`` does without SMTP."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def path_for(self, name: str) -> Path:
        """The file a mail named ``name`` is written to."""
        return self.directory / f"{name}.eml"

    def send(self, _sender: str, _recipient: str, message: str, *, name: str) -> None:
        """Write atomically (a temporary file renamed), so a reader never sees half a mail;
        writing the same mail again replaces it with the same bytes."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.path_for(name)
            temporary = target.with_suffix(".tmp")
            temporary.write_text(message, encoding="ascii")
            os.replace(temporary, target)
        except OSError as exc:
            raise TransientMailError(f"outbox directory: {exc.strerror}") from None

    def close(self) -> None:
        """Nothing to close."""


def _drop(connection: smtplib.SMTP | None) -> None:
    """Close a connection that failed before it was ready (its socket is not left to the GC)."""
    if connection is not None:
        connection.close()


def _by_code(code: int, message: str) -> MailError:
    return PermanentMailError(message) if 500 <= code < 600 else TransientMailError(message)


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:200]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "server disconnected"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return exc.__class__.__name__
