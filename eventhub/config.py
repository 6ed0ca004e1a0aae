"""Configuration: one class that reads every setting from the environment (and ``.env``)."""

from __future__ import annotations

import logging
import os
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
    "ZOOM_USER_ID", "ZOOM_API_BASE", "ZOOM_OAUTH_URL",
    "WHEREBY_API_KEY", "WHEREBY_API_BASE",
    "DAILY_API_KEY", "DAILY_API_BASE",
    "MSGRAPH_TENANT_ID", "MSGRAPH_CLIENT_ID", "MSGRAPH_CLIENT_SECRET", "MSGRAPH_USER_ID",
    "MSGRAPH_API_BASE", "MSGRAPH_TOKEN_URL",
)  # fmt: skip


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _default_database_url() -> str:
    instance = ROOT / "instance"
    return f"sqlite:///{instance / 'eventhub.db'}"


class Config:
    """Every setting EventHub reads, with the defaults of the embedded single-machine mode."""

    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or _default_database_url()
    REDIS_URL = os.environ.get("REDIS_URL") or None
    EVENTHUB_BASE_URL = os.environ.get("EVENTHUB_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    EVENTHUB_SANDBOX = _env_bool("EVENTHUB_SANDBOX")
    # Threads in the web process that call providers (DESIGN.md: at least 8 in flight).
    PROVISIONING_WORKERS = int(os.environ.get("EVENTHUB_PROVISIONING_WORKERS", "8"))
    PROVISIONING_ATTEMPTS = int(os.environ.get("EVENTHUB_PROVISIONING_ATTEMPTS", "4"))
    PROVISIONING_BACKOFF = float(os.environ.get("EVENTHUB_PROVISIONING_BACKOFF", "0.5"))
    # Jobs go to RQ on REDIS_URL unless this keeps them in the web process's thread pool.
    PROVISIONING_IN_PROCESS = _env_bool("EVENTHUB_PROVISIONING_IN_PROCESS")
    RQ_QUEUE = os.environ.get("EVENTHUB_RQ_QUEUE", "eventhub")
    PROVIDER_TIMEOUT = (float(os.environ.get("EVENTHUB_PROVIDER_CONNECT_TIMEOUT", "3.05")),
                        float(os.environ.get("EVENTHUB_PROVIDER_READ_TIMEOUT", "15")))
    # Socket.IO server mode: "threading" for `make run`; gunicorn's gevent worker in production.
    SOCKETIO_ASYNC_MODE = os.environ.get("EVENTHUB_ASYNC_MODE", "threading")
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
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_LIMIT = os.environ.get("EVENTHUB_SIGN_IN_LIMIT", "10 per minute")  # per client
    # Failed sign-ins per account before it is locked out (until they leave the window).
    SIGN_IN_ACCOUNT_LIMIT = os.environ.get("EVENTHUB_SIGN_IN_ACCOUNT_LIMIT", "10 per 15 minutes")
    # Reverse proxies in front (nginx: 1) whose X-Forwarded-For/-Proto are believed.
    TRUSTED_PROXIES = int(os.environ.get("EVENTHUB_TRUSTED_PROXIES", "0"))
    API_PAGE_LIMIT = 50
    API_PAGE_MAX = 500
    PROVIDERS = {name: os.environ[name] for name in PROVIDER_ENV if os.environ.get(name)}


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
    if config.get("PROVISIONING_ATTEMPTS", 1) < 1:
        raise ValueError("EVENTHUB_PROVISIONING_ATTEMPTS must be at least 1")
    if config.get("TRUSTED_PROXIES", 0) < 0:
        raise ValueError("EVENTHUB_TRUSTED_PROXIES must be 0 or more")
    uri = config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:///:memory:"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    if uri.startswith("postgres://"):  # Heroku-style URLs name a dialect SQLAlchemy 2 dropped
        config["SQLALCHEMY_DATABASE_URI"] = "postgresql://" + uri.removeprefix("postgres://")
