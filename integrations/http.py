"""ProviderHTTP: the one place that calls ``requests``.

It owns the HTTP concerns every provider shares: a base URL, mandatory (connect, read)
timeouts, a pooled session, the mapping of transport faults and status codes to the
:mod:`integrations.base` error tree, and redaction of secrets from messages and logs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
import time
import xml.etree.ElementTree as ET  # noqa: S405 -- parses only the configured provider's answers
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from werkzeug.http import parse_date

from .base import DEFAULT_TIMEOUT, ProviderRejected, ProviderUnavailable
from .limits import CallLimits, limiter_for

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
#: Connections kept per host: concurrent provisioning calls share one provider's session.
POOL_SIZE = 32
# Secrets shorter than this are not searched for: replacing "a" everywhere would hide the message.
_MIN_SECRET_LEN = 4
# Credentials in the shapes they take inside messages, whatever their value.
_PATTERNS = (
    # Authorization headers and bearer/basic credentials.
    (re.compile(r"(?i)\b(authorization\s*[:=]\s*)\S+(\s+\S+)?"), r"\1" + REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    # Query strings of URLs (signed BBB calls, Jitsi ?jwt=, Zoom ?zak=, Daily ?t=).
    (re.compile(r"(https?://[^\s?#\"'<>]*)\?[^\s#\"'<>]*"), r"\1?" + REDACTED),
    # JSON or form fields that carry credentials.
    (
        re.compile(
            r"(?i)([\"']?(?:access_token|refresh_token|client_secret|token|password|"
            r"moderatorPW|attendeePW|checksum|jwt|zak|secret)[\"']?\s*[:=]\s*[\"']?)"
            r"[^\s\"'&,}<]+"
        ),
        r"\1" + REDACTED,
    ),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with the given secret values, credentials and signed query strings hidden."""
    for secret in sorted({s for s in secrets if s and len(s) >= _MIN_SECRET_LEN}, key=len,
                         reverse=True):
        text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class _RedactQueryFilter(logging.Filter):
    """Hides query strings in urllib3's DEBUG request lines (BBB signs its calls there)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with signed query strings redacted."""
        message = record.getMessage()
        if "?" in message:
            record.msg = re.sub(r"\?[^\s\"]*", "?" + REDACTED, message)
            record.args = ()
        return True


# urllib3 logs every request line, query included, at DEBUG.
logging.getLogger("urllib3.connectionpool").addFilter(_RedactQueryFilter())


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = parse_date(value)  # werkzeug's RFC 9110 date parser: aware UTC, or None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


@dataclass(frozen=True)
class ProviderResponse:
    """A provider's answer: status, headers and the parsed body (JSON value or XML element)."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


class ProviderHTTP:
    """HTTP client for one provider: base URL, timeouts, error mapping and redaction."""

    def __init__(
        self,
        provider: str,
        base_url: str,
        *,
        secrets: Iterable[str] = (),
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        session: requests.Session | None = None,
        limits: CallLimits | None = None,
    ):
        self.provider = provider
        # Every call waits for a slot and a token of the provider's documented limits.
        self.limiter = limiter_for(provider, limits) if limits is not None else None
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = timeout
        self.session = session or _pooled_session()
        self._secrets: set[str] = {s for s in secrets if s}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the pooled connections (a client that is done with the provider)."""
        self.session.close()

    def add_secret(self, value: str) -> None:
        """Redact ``value`` (e.g. an access token obtained at run time) from now on."""
        if value:
            with self._lock:
                self._secrets.add(value)

    def redact(self, text: str) -> str:
        """``text`` with this provider's secrets and any credentials hidden."""
        with self._lock:
            secrets = tuple(self._secrets)
        return redact(text, secrets)

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` (relative to the base URL unless already absolute)."""
        return urljoin(self.base_url, path.lstrip("/")) if "://" not in path else path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | str | None = None,
        json_body: Any = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        parse: str = "json",
        accept: Collection[int] = (),
    ) -> ProviderResponse:
        """Send one request and return the parsed answer, or raise a ``ProviderError``.

        :param parse: ``"json"``, ``"xml"`` or ``"none"``: how to read a successful body.
        :param accept: error statuses returned to the caller instead of raised (for example
            404 on delete, or 401 to refresh a token).
        """
        url = self.url(path)
        where = f"{method} {urlsplit(url).path}"
        started = time.monotonic()
        try:
            with self.limiter.call(method) if self.limiter else contextlib.nullcontext():
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json_body,
                    data=data,
                    headers=headers,
                    auth=auth,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
        except requests.Timeout as exc:
            self._log(where, "timeout", started)
            raise ProviderUnavailable(
                f"{self.provider}: {where} timed out", provider=self.provider,
                # A read timeout means the provider got the request and may still carry it out.
                in_doubt=isinstance(exc, requests.ReadTimeout),
            ) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            # The exception text names the full URL (signed query strings included): not used.
            self._log(where, type(exc).__name__, started)
            raise ProviderUnavailable(
                f"{self.provider}: {where} failed: connection error ({type(exc).__name__})",
                provider=self.provider,
            ) from None
        self._log(where, response.status_code, started)
        status = response.status_code
        if status >= 500 or status == 429:
            raise ProviderUnavailable(
                self._message(where, response),
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                provider=self.provider,
                status=status,
            )
        if status >= 400 and status not in accept:
            raise ProviderRejected(
                self._message(where, response), provider=self.provider, status=status
            )
        body = self._parse(where, response, parse if status < 400 else "lenient")
        return ProviderResponse(status=status, headers=response.headers, body=body)

    def _parse(self, where: str, response: requests.Response, parse: str) -> Any:
        """The body as JSON or XML; a malformed body is a retryable fault."""
        if parse == "none" or not response.content:
            return None
        if parse == "lenient":
            return _error_body(response)
        try:
            if parse == "xml":
                # The body comes from the configured BBB server only (no defusedxml installed).
                return ET.fromstring(response.content)  # noqa: S314
            return response.json()
        except (ValueError, ET.ParseError):
            raise ProviderUnavailable(
                f"{self.provider}: {where} -> {response.status_code}: malformed {parse} body",
                provider=self.provider,
                status=response.status_code,
            ) from None

    def _message(self, where: str, response: requests.Response) -> str:
        """A readable, redacted error message: the provider's own words where it gave some."""
        detail = _error_text(_error_body(response))
        text = f"{self.provider}: {where} -> {response.status_code}"
        return self.redact(f"{text}: {detail}" if detail else text)

    def _log(self, where: str, outcome: int | str, started: float) -> None:
        """Log method, path (never the query), outcome and duration."""
        logger.info(
            "%s %s -> %s in %.0f ms",
            self.provider,
            self.redact(where),
            outcome,
            (time.monotonic() - started) * 1000,
        )


def _pooled_session() -> requests.Session:
    """A session whose pool holds enough connections for a whole-event switch (DESIGN.md
    asks for at least 8 calls in flight; urllib3 keeps 10 per host by default)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=POOL_SIZE)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _error_body(response: requests.Response) -> Any:
    """Best-effort parse of an error body: JSON value, XML element, or None."""
    content = response.content
    if not content:
        return None
    try:
        return response.json()
    except ValueError:
        pass
    try:
        return ET.fromstring(content)  # noqa: S314 -- the configured provider's answer only
    except ET.ParseError:
        return None


def _error_text(body: Any) -> str:
    """The provider's error message from the usual fields of a JSON or XML error body."""
    if isinstance(body, ET.Element):
        return " ".join(
            (body.findtext(tag) or "").strip() for tag in ("messageKey", "message")
        ).strip()
    if isinstance(body, dict):
        for key in ("message", "error_description", "info", "reason", "error"):
            value = body.get(key)
            if isinstance(value, dict):
                return _error_text(value)
            if value:
                code = body.get("code")
                return f"{value} (code {code})" if code not in (None, "") else str(value)
    if isinstance(body, str):
        return body[:200]
    return "" if body is None else json.dumps(body)[:200]


class OAuthToken:
    """A client-credentials access token: fetched on demand, reused until shortly before it
    expires, fetched again when the API answers 401 (once per call)."""

    #: Renew this long before the token's stated expiry.
    margin_seconds = 60.0

    def __init__(
        self,
        http: ProviderHTTP,
        fetch: Callable[[], ProviderResponse],
        clock: Callable[[], float] = time.time,
    ):
        self.http = http
        self.fetch = fetch
        self.clock = clock
        self.fetched = 0
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def get(self, *, renew: bool = False) -> str:
        """The current token; a new one if expired or ``renew``."""
        with self._lock:
            if renew or not self._token or self.clock() >= self._expires:
                body = self.fetch().body
                self._token = body["access_token"]
                self.http.add_secret(self._token)
                self._expires = (
                    self.clock() + float(body.get("expires_in", 3600)) - self.margin_seconds
                )
                self.fetched += 1
            return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> ProviderResponse:
        """``http.request`` with the bearer token, retried once with a new token on 401."""
        accept = tuple(kwargs.pop("accept", ()))
        headers = dict(kwargs.pop("headers", None) or {})
        headers["Authorization"] = f"Bearer {self.get()}"
        response = self.http.request(method, path, headers=headers, accept=(*accept, 401),
                                     **kwargs)
        if response.status == 401 and 401 not in accept:
            headers["Authorization"] = f"Bearer {self.get(renew=True)}"
            response = self.http.request(method, path, headers=headers, accept=accept, **kwargs)
        return response
