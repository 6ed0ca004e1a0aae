"""The provider interface: dataclasses in, dataclasses out, and one error tree.

Every provider module (``jitsi.py``, ``bigbluebutton.py``, ...) defines one subclass of
:class:`VideoProvider`. EventHub's provisioning service is the only caller.
"""

from __future__ import annotations

import hashlib
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from .limits import CallLimits

#: (connect, read) seconds for every provider call; ``requests`` has no default timeout.
DEFAULT_TIMEOUT: tuple[float, float] = (3.05, 15.0)


def key_slug(key: str, *, max_length: int = 48) -> str:
    """A URL-safe, lowercase room name for ``key``: a readable part plus a hash of the key.

    The hash keeps distinct keys distinct after slugging and truncation.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    readable = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    readable = readable[: max(0, max_length - len(digest) - 1)].strip("-")
    return f"{readable}-{digest}" if readable else digest


class ProviderError(Exception):
    """Base of every error a provider raises. The message never contains a secret."""

    def __init__(self, message: str, *, provider: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status


class ProviderUnavailable(ProviderError):
    """A retryable fault: 5xx, 429, timeout, connection reset, malformed body."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        in_doubt: bool = False,
        **kwargs: Any,
    ):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
        #: The request was sent but its answer lost (read timeout): it may have taken effect.
        self.in_doubt = in_doubt


class ProviderRejected(ProviderError):
    """A permanent fault (400, 401, 403, 404 on create, ...): retrying will not help."""


class ProviderNotConfigured(ProviderError):
    """The provider lacks the credentials it needs; ``missing`` names the variables."""

    def __init__(self, message: str, *, missing: tuple[str, ...] = (), **kwargs: Any):
        super().__init__(message, **kwargs)
        self.missing = missing


class UnknownProvider(ProviderError):
    """No provider of that name, or not configured; ``available`` names those that are."""

    def __init__(self, name: str, available: list[str]):
        super().__init__(
            f"unknown or unconfigured provider {name!r}; available: {', '.join(available)}"
        )
        self.name = name
        self.available = available


@dataclass(frozen=True)
class Interpreter:
    """An interpreter of a meeting: their e-mail and the two languages (ISO 639-1) they work
    between."""

    email: str
    languages: tuple[str, str]


@dataclass(frozen=True)
class RoomRequest:
    """What EventHub asks for: one room for one session.

    ``key`` is stable for the session (derived from its id) and makes ``create_room`` idempotent.
    ``host`` is the account of the provider's host pool that owns the meeting ("" = the
    provider's default account); ``alternative_hosts`` are e-mails of people who may start it
    (the session's moderators); ``interpreters`` ask for language interpretation.
    """

    key: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str = "UTC"
    description: str = ""
    host: str = ""
    alternative_hosts: tuple[str, ...] = ()
    interpreters: tuple[Interpreter, ...] = ()


@dataclass(frozen=True)
class Room:
    """A provider room. ``data`` is what participants may know (JSON-safe); ``host_data`` is
    for moderators and organizers only (start URLs, moderator passwords, owner tokens)."""

    provider: str
    external_id: str
    data: dict[str, Any] = field(default_factory=dict)
    host_data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JoinRequest:
    """Who is joining: the display name shown in the meeting, and whether they host it."""

    display_name: str
    user_id: str = ""
    email: str = ""
    moderator: bool = False


@dataclass(frozen=True)
class RoomStatus:
    """What the provider says of a room, where its API says anything."""

    running: bool
    participant_count: int | None = None


class VideoProvider(ABC):
    """One video-meeting provider. Subclasses declare their name and environment variables."""

    name: ClassVar[str]
    label: ClassVar[str]
    required: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    #: Variables whose values are secret: redacted from every message and log line.
    secrets: ClassVar[tuple[str, ...]] = ()
    #: Base-URL variables and their defaults (the real service).
    base_urls: ClassVar[dict[str, str]] = {}
    #: The variable listing the accounts that host meetings, where one account can run one
    #: meeting at a time ("" = no such limit: any number of rooms at once).
    host_pool_variable: ClassVar[str] = ""
    #: The provider's documented limit of meetings one host may create or update per day.
    daily_host_limit: ClassVar[int | None] = None
    #: Whether meetings can carry language interpretation (channels per language).
    supports_interpretation: ClassVar[bool] = False
    #: The provider's documented API limits, kept by every call (integrations.limits).
    limits: ClassVar[CallLimits] = CallLimits()

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        http: Any = None,
        clock: Callable[[], float] = time.time,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
    ):
        missing = self.missing(config)
        if missing:
            raise ProviderNotConfigured(
                f"{self.name} needs {', '.join(missing)}", missing=missing, provider=self.name
            )
        self.config = config
        self.clock = clock
        self.http = http
        self.timeout = timeout

    def close(self) -> None:
        """Close the client's HTTP connections (EventHub forgets the client)."""
        close = getattr(self.http, "close", None)
        if close is not None:
            close()

    def setting(self, name: str) -> str:
        """A variable's value from the config, else its declared default, else ``""``."""
        return str(self.config.get(name) or self.base_urls.get(name, ""))

    def secret_values(self) -> list[str]:
        """The configured values of this provider's secret variables."""
        return [str(self.config[name]) for name in self.secrets if self.config.get(name)]

    @classmethod
    def missing(cls, config: Mapping[str, Any]) -> tuple[str, ...]:
        """Names of required variables absent from ``config``."""
        return tuple(name for name in cls.required if not config.get(name))

    @abstractmethod
    def create_room(self, req: RoomRequest) -> Room:
        """Create the room for ``req.key``, or return the existing one (idempotent)."""

    @abstractmethod
    def update_room(self, room: Room, req: RoomRequest) -> Room:
        """Carry a rescheduled session's new title and times to the provider."""

    @abstractmethod
    def delete_room(self, room: Room) -> None:
        """Delete the room; a room already gone counts as deleted."""

    @abstractmethod
    def join_url(self, room: Room, join: JoinRequest) -> str:
        """A participant's URL for the room, with their display name."""

    @abstractmethod
    def host_url(self, room: Room, join: JoinRequest) -> str:
        """A moderator's URL with host rights. Never shown to participants."""

    def host_pool(self) -> tuple[str, ...]:
        """The accounts that may host meetings, one meeting at a time each; () = no pool."""
        return ()

    def host_rights_by_url(self) -> bool:
        """Whether ``host_url`` itself grants host rights.

        False where the provider grants them to an account instead (the Teams organizer signs
        in; on a public Jitsi server the first to arrive moderates).
        """
        return True

    def room_status(self, room: Room) -> RoomStatus | None:
        """Whether the meeting runs, where the API can tell; None where it cannot."""
        return None
