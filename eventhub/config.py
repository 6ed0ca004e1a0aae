"""Configuration: one class that reads every setting from the environment (and ``.env``)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from dotenv import load_dotenv

ROOT = Path(__file__).resolve().parent.parent
load_dotenv(ROOT / ".env")

log = logging.getLogger(__name__)

# Provider variables are read by name so that `integrations` can see them as a plain mapping.
PROVIDER_ENV = (
    "JITSI_BASE_URL", "JITSI_APP_ID", "JITSI_APP_SECRET", "JITSI_MODERATOR_AFFILIATION",
    "BBB_URL", "BBB_SECRET", "BBB_CHECKSUM",
    "ZOOM_ACCOUNT_ID", "ZOOM_CLIENT_ID", "ZOOM_CLIENT_SECRET", "ZOOM_WEBHOOK_SECRET",
    "ZOOM_USER_ID", "ZOOM_HOST_USERS", "ZOOM_API_BASE", "ZOOM_OAUTH_URL",
    "WHEREBY_API_KEY", "WHEREBY_API_BASE",
    "DAILY_API_KEY", "DAILY_API_BASE",
    "MSGRAPH_TENANT_ID", "MSGRAPH_CLIENT_ID", "MSGRAPH_CLIENT_SECRET", "MSGRAPH_USER_ID",
    "MSGRAPH_USER_IDS",
    "MSGRAPH_API_BASE", "MSGRAPH_TOKEN_URL",
)  # fmt: skip


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _default_async_mode() -> str:
    """``gevent`` where gevent has patched this process (``serve``, ``gunicorn -k gevent``),
    else ``threading`` (tests, the other commands)."""
    if "gevent" in sys.modules:
        from gevent import monkey

        if monkey.is_module_patched("socket"):
            return "gevent"
    return "threading"


def _default_database_url() -> str:
    instance = ROOT / "instance"
    return f"sqlite:///{instance / 'eventhub.db'}"


class Config:
    """Every setting EventHub reads, with the defaults of the embedded single-machine mode."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_database_url()
    REDIS_URL = os.environ.get("REDIS_URL") or None
    # Every Redis name of this installation starts with it: the Socket.IO channel, RQ queues,
    # presence and rate-limit keys. Default: derived from DATABASE_URL (see redis_prefix), so
    # two installations sharing one Redis server never hear each other.
    REDIS_PREFIX = os.environ.get("EVENTHUB_REDIS_PREFIX") or None
    EVENTHUB_BASE_URL = os.environ.get("EVENTHUB_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # "1": every process (serve, gunicorn, worker, CLI) starts the provider simulators on a
    # free 127.0.0.1 port and points every provider at them; a URL (http://127.0.0.1:5050):
    # every process points at the `flask eventhub sandbox` serving there (several processes).
    EVENTHUB_SANDBOX = os.environ.get("EVENTHUB_SANDBOX", "").strip()
    # Sender of mails, and the ORGANIZER of the calendar feeds (RFC 5546: METHOD needs one).
    MAIL_FROM = os.environ.get("MAIL_FROM", "EventHub <eventhub@localhost>")
    # How long a resolved API token is kept (eventhub/api/token_cache.py): another process's
    # revocation is seen within it, this process's at once; 0 reads the token every request.
    TOKEN_CACHE_SECONDS = float(os.environ.get("EVENTHUB_TOKEN_CACHE_SECONDS", "1"))
    # Threads in the web process that call providers (DESIGN.md: at least 8 in flight); each
    # provider's own limits (integrations.limits) cap its calls within them.
    PROVISIONING_WORKERS = int(os.environ.get("EVENTHUB_PROVISIONING_WORKERS", "20"))
    PROVISIONING_ATTEMPTS = int(os.environ.get("EVENTHUB_PROVISIONING_ATTEMPTS", "4"))
    PROVISIONING_BACKOFF = float(os.environ.get("EVENTHUB_PROVISIONING_BACKOFF", "0.5"))
    # How long a worker holds a pending room before another may take it (renewed before each
    # provider call: longer than one call plus its Retry-After wait), and how often workers
    # and the embedded web process look for rooms whose lease ran out. A room whose worker
    # died is taken up within LEASE + RECOVER seconds (README: "Room lifecycle").
    PROVISIONING_LEASE_SECONDS = float(os.environ.get("EVENTHUB_PROVISIONING_LEASE_SECONDS", "120"))
    PROVISIONING_RECOVER_SECONDS = float(
        os.environ.get("EVENTHUB_PROVISIONING_RECOVER_SECONDS", "30"))
    # Jobs go to RQ on REDIS_URL unless this keeps them in the web process's thread pool.
    PROVISIONING_IN_PROCESS = _env_bool("EVENTHUB_PROVISIONING_IN_PROCESS")
    RQ_QUEUE = os.environ.get("EVENTHUB_RQ_QUEUE", "eventhub")
    PROVIDER_TIMEOUT = (float(os.environ.get("EVENTHUB_PROVIDER_CONNECT_TIMEOUT", "3.05")),
                        float(os.environ.get("EVENTHUB_PROVIDER_READ_TIMEOUT", "15")))
    # Socket.IO server mode. `flask eventhub serve` (make run) runs gevent, as gunicorn's gevent
    # worker does in production, unless EVENTHUB_ASYNC_MODE=threading; an app built in a
    # process that gevent has not patched (tests, the other commands) runs threading.
    SOCKETIO_ASYNC_MODE = os.environ.get("EVENTHUB_ASYNC_MODE") or _default_async_mode()
    # /live background task: join-window scan period, and the fastest presence updates.
    LIVE_JOIN_SCAN_SECONDS = float(os.environ.get("EVENTHUB_LIVE_JOIN_SCAN_SECONDS", "5"))
    LIVE_PRESENCE_SECONDS = float(os.environ.get("EVENTHUB_LIVE_PRESENCE_SECONDS", "0.5"))
    MAX_CONTENT_LENGTH = 1024 * 1024  # 1 MiB: larger request bodies get 413 before parsing
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = EVENTHUB_BASE_URL.startswith("https://")
    WTF_CSRF_TIME_LIMIT = None  # tied to the login session instead of a clock
    BABEL_DEFAULT_LOCALE = "en"
    LANGUAGES = ("ru", "de", "en")
    # Counters live in Redis when there are several processes; in memory otherwise.
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"
    # Redis gone: count in this process's memory until it is back, not a 500 for every sign-in.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Said explicitly: the one Limiter of the process otherwise keeps an earlier app's "off".
    RATELIMIT_ENABLED = True
    SIGN_IN_LIMIT = os.environ.get("EVENTHUB_SIGN_IN_LIMIT", "10 per minute")  # per client
    # Failed sign-ins per account before it is locked out (until they leave the window).
    SIGN_IN_ACCOUNT_LIMIT = os.environ.get("EVENTHUB_SIGN_IN_ACCOUNT_LIMIT", "10 per 15 minutes")
    # Reverse proxies in front (nginx: 1) whose X-Forwarded-For/-Proto are believed.
    TRUSTED_PROXIES = int(os.environ.get("EVENTHUB_TRUSTED_PROXIES", "0"))
    API_PAGE_LIMIT = 50
    API_PAGE_MAX = 500
    PROVIDERS = {name: os.environ[name] for name in PROVIDER_ENV if os.environ.get(name)}
    # Mail (services/mail.py): SMTP_URL smtp://user:pass@host:587 (STARTTLS), smtps://host
    # (TLS), smtp://host:25 (plain); without it mails are .eml files in MAIL_OUTBOX_DIR.
    SMTP_URL = os.environ.get("SMTP_URL") or None
    MAIL_OUTBOX_DIR = (os.environ.get("EVENTHUB_MAIL_OUTBOX_DIR")
                       or str(ROOT / "instance" / "outbox"))
    # Changes to a participant's sessions within this many seconds go out as one mail.
    MAIL_BURST_SECONDS = float(os.environ.get("EVENTHUB_MAIL_BURST_SECONDS", "60"))
    # How often the mail scan runs (bursts due, join windows opened, retries due); 0 = never.
    MAIL_SCAN_SECONDS = float(os.environ.get("EVENTHUB_MAIL_SCAN_SECONDS", "10"))
    MAIL_BACKOFF = float(os.environ.get("EVENTHUB_MAIL_BACKOFF", "2"))  # first retry's delay
    MAIL_BACKOFF_MAX = float(os.environ.get("EVENTHUB_MAIL_BACKOFF_MAX", "600"))
    MAIL_SMTP_TIMEOUT = float(os.environ.get("EVENTHUB_MAIL_SMTP_TIMEOUT", "15"))
    MAIL_BATCH = int(os.environ.get("EVENTHUB_MAIL_BATCH", "25"))  # mails per SMTP connection


def _instance_secret() -> str:
    """A random key kept in ``instance/secret_key`` (mode 600), made on first use."""
    path = ROOT / "instance" / "secret_key"
    if not path.exists():
        import secrets

        path.parent.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
        log.info("created %s (set SECRET_KEY in production)", path)
    return path.read_text().strip()


def validate(config: dict) -> None:
    """Fail fast on settings that cannot work; fill in what a single machine can make itself."""
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret()
    if config.get("PROVISIONING_WORKERS", 1) < 1:
        raise ValueError("EVENTHUB_PROVISIONING_WORKERS must be at least 1")
    if config.get("PROVISIONING_LEASE_SECONDS", 1) <= 0:
        raise ValueError("EVENTHUB_PROVISIONING_LEASE_SECONDS must be positive")
    if config.get("PROVISIONING_ATTEMPTS", 1) < 1:
        raise ValueError("EVENTHUB_PROVISIONING_ATTEMPTS must be at least 1")
    if config.get("SMTP_URL"):
        from .services.mail_transport import smtp_settings

        smtp_settings(config["SMTP_URL"])  # raises ValueError naming the problem, not the URL
    if config.get("TOKEN_CACHE_SECONDS", 0) < 0:
        raise ValueError("EVENTHUB_TOKEN_CACHE_SECONDS must be 0 or more")
    if config.get("TRUSTED_PROXIES", 0) < 0:
        raise ValueError("EVENTHUB_TRUSTED_PROXIES must be 0 or more")
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("postgres://"):  # Heroku-style URLs name a dialect SQLAlchemy 2 dropped
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql://" + uri.removeprefix("postgres://")
    if not config.get("REDIS_PREFIX"):
        config["REDIS_PREFIX"] = redis_prefix(config["SQLALCHEMY_DATABASE_URI"])
    config.setdefault("RATELIMIT_KEY_PREFIX", f"{config['REDIS_PREFIX']}:limits")


def redis_prefix(database_url: str) -> str:
    """``eventhub-<hash of the database URL, password left out>``: the same in every process of
    an installation (they share DATABASE_URL), different for another database."""
    import hashlib

    from sqlalchemy.engine import make_url

    try:
        shown = make_url(database_url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL fails later, with a clearer error
        shown = database_url
    return "eventhub-" + hashlib.sha256(shown.encode()).hexdigest()[:12]
