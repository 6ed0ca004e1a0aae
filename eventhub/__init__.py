"""EventHub: hybrid conferences with one-click switching online.

:func:`create_app` is the only place that wires the application together.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, make_response, request
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .config import Config, validate
from .errors import DomainError
from .extensions import babel, csrf, db, limiter, migrate, socketio

log = logging.getLogger(__name__)


def shutdown(app: Flask) -> None:
    """Stop what the app runs in the background: the lease recovery, the mail pump, the live
    task, and the job pool once its jobs are done; then close the provider clients' pooled
    connections (a server's shutdown; tests after each app, so that no task or socket of an
    earlier app outlives it)."""
    from . import live
    from .services import mail_pump, providers

    recovery = app.extensions.pop("eventhub.recovery", None)
    if recovery is not None:
        recovery.stop()
    mail_pump.stop(app)
    live.shutdown(app)
    app.extensions["eventhub.dispatcher"].shutdown()
    providers.reset_clients(app)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``config`` overrides the environment (tests pass theirs)."""
    app = Flask(__name__, template_folder="../templates", instance_relative_config=True)
    app.config.from_object(Config)
    app.config.update(config or {})
    validate(app.config)
    _configure_logging(app)

    from .cli.sandbox import configure_sandbox

    configure_sandbox(app)  # EVENTHUB_SANDBOX, in every process
    _sqlite_options(app)
    db.init_app(app)
    _sqlite_pragmas(app)
    from pathlib import Path

    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)

    from .catalogs import ensure_compiled
    from .web import i18n

    # Compiled here, so that every way of starting the server (make, gunicorn, flask run)
    # shows the translated interface.
    catalogs = ensure_compiled(fallback=Path(app.instance_path) / "translations")
    babel.init_app(app, locale_selector=i18n.select_locale,
                   default_translation_directories=str(catalogs))
    # Flask-SocketIO keeps an earlier init_app's message queue (tests build many apps).
    socketio.server_options.pop("client_manager", None)
    from .live import fanout

    manager = None
    if app.config["REDIS_URL"]:  # the channel is the installation's own (EVENTHUB_REDIS_PREFIX)
        manager = fanout.OrderedRedisManager(
            app.config["REDIS_URL"], channel=fanout.channel(app.config["REDIS_PREFIX"]),
            snapshot=fanout.snapshot(app))
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        message_queue=app.config["REDIS_URL"],
        client_manager=manager,
        cors_allowed_origins=_base_origin_only(app),
        logger=False,
        engineio_logger=False,
    )

    _trusted_proxies(app)

    from . import publish, versioning
    from .services import jobs, mail

    versioning.init_app(app)
    publish.init_app(app)
    jobs.init_app(app)
    if "eventhub.rq" not in app.extensions and not app.testing:
        from .services import provisioning  # embedded mode: this process runs the jobs

        app.extensions["eventhub.recovery"] = provisioning.start_recovery(app)
    mail.init_app(app)

    _bounded_int_routes(app)
    from . import api, cli, feeds, live, web, webhooks
    from .web import manage

    csrf.exempt(api.bp)  # the API authenticates with bearer tokens, never with cookies
    csrf.exempt(webhooks.bp)  # providers sign their webhooks; no cookies involved
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(webhooks.bp)
    feeds.init_app(app)
    live.init_app(app)
    cli.init_app(app)
    _register_errors(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.after_request(_referrer_policy)
    _log_providers(app)
    return app


def _trusted_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies the client is the X-Forwarded-For address
    they set (rate limits per client), and the scheme X-Forwarded-Proto. With none (the
    default) those headers are the client's own word and are ignored."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL as browsers send it in ``Origin`` (no default port)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:  # a malformed (or doubled, "a, b") Origin matches nothing
        return ""
    if port is None or (scheme, port) in {("http", 80), ("https", 443)}:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _base_origin_only(app: Flask):
    """Socket.IO's Origin check: only pages of ``EVENTHUB_BASE_URL``'s origin may connect (a
    page elsewhere could otherwise drive /live with a signed-in moderator's cookie). Clients
    that send no Origin (scripts, not browsers) carry no cookie of ours and are let through."""

    def allowed(origin: str | None, _environ: dict | None = None) -> bool:
        return bool(origin) and origin_of(origin) == origin_of(app.config["EVENTHUB_BASE_URL"])

    return allowed


def _bounded_int_routes(app: Flask) -> None:
    """``<int:...>`` in every route matches 0..2**63-1 only: a larger id is a 404 from routing,
    never an overflow in the database driver."""
    from werkzeug.exceptions import NotFound
    from werkzeug.routing import IntegerConverter

    from .services.common import MAX_ID

    class BoundedIntegerConverter(IntegerConverter):
        # ASCII digits only: werkzeug's \d would read "١" (an Arabic-Indic one) as id 1.
        regex = r"[0-9]+"

        def __init__(self, url_map, *args, **kwargs):
            kwargs.setdefault("max", MAX_ID)
            super().__init__(url_map, *args, **kwargs)

        def to_python(self, value: str) -> int:
            # A path that names a too-large id names nothing: 404 on every method. (Not
            # matching the rule would let routing answer 405 for a rule of another method.)
            number = int(value)
            if self.max is not None and number > self.max:
                raise NotFound()
            return number

    app.url_map.converters["int"] = BoundedIntegerConverter


# Every script and stylesheet is a file of ours (no inline code, no style attributes: JSON
# for the scripts travels in <script type="application/json">, which is data, not code);
# /live is same-origin (ws: too); no site may frame a page (clickjacking of the console).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'",
    "frame-ancestors 'none'",
))
#: Paths whose responses carry a personal token (the page, its forms' redirects, and the
#: join redirect whose Location may be a signed provider URL): never kept by any cache.
PERSONAL_PREFIXES = ("/p/", "/join/")
DATABASE_RETRY_AFTER = 2  # seconds: a lock outlasting the 30 s busy timeout is rare


def _referrer_policy(response):
    """Security headers on every response: pages and API alike.

    Personal pages carry a token in their URL: never send it to another site as Referer."""
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for old browsers
    if request.path.startswith(PERSONAL_PREFIXES):
        response.headers["Cache-Control"] = "no-store"
    return response


def _configure_logging(app: Flask) -> None:
    from . import redaction

    redaction.install()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _sqlite_options(app: Flask) -> None:
    """A busy timeout, so the web process and its provisioning threads share the file."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {}).setdefault("timeout", 30)


def _sqlite_pragmas(app: Flask) -> None:
    """WAL (readers don't wait for writers) and enforced foreign keys on every connection."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():

        @sa_event.listens_for(db.engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL keeps the database consistent through a crash and skips an
            # fsync per commit (a power cut may lose the last commits, never corrupt).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()


def _register_errors(app: Flask) -> None:
    from .web import render_error

    def wants_json() -> bool:
        return request.path.startswith("/api/") or request.path.startswith("/integrations/")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            response = jsonify(error.to_dict()), error.status
        else:
            response = render_error(error.status, error.message)
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            response = make_response(response)
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        """The database locked past the busy timeout, or gone: 503, try again shortly. The
        transaction is rolled back whole (a service commits once), so nothing is half written."""
        db.session.rollback()
        log.warning("database unavailable: %s", str(error.orig).splitlines()[0][:200])
        message = "the database is busy or unreachable; try again shortly"
        if wants_json():
            response = make_response(jsonify({"error": {"code": "unavailable",
                                                        "message": message, "fields": {}}}), 503)
        else:
            response = make_response(render_error(503, message))
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        db.session.rollback()
        codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "too_large", 429: "rate_limited"}
        # Keep the exception's own headers (405's Allow, 429's Retry-After), not its body's.
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        if wants_json():
            body = {"error": {"code": codes.get(error.code, "error"),
                              "message": error.description or error.name, "fields": {}}}
            return jsonify(body), error.code, headers
        page, status = render_error(error.code, error.description or error.name)
        return page, status, headers


def healthz():
    """Liveness and readiness: the database answers (and Redis, when configured)."""
    from flask import current_app

    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        log.warning("health check: database: %s", exc.__class__.__name__)
        checks["database"] = "unavailable"
    if current_app.config["REDIS_URL"]:
        try:
            import redis

            redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2).ping()
            checks["queue"] = "ok"
        except Exception as exc:  # noqa: BLE001
            log.warning("health check: queue: %s", exc.__class__.__name__)
            checks["queue"] = "unavailable"
    ok = all(value == "ok" for value in checks.values())
    return jsonify({"status": "ok" if ok else "unavailable", "checks": checks}), (
        200 if ok else 503)


def _log_providers(app: Flask) -> None:
    """Say at start-up which providers are usable and which lack variables (names, not values)."""
    from integrations.registry import PROVIDERS

    config = app.config.get("PROVIDERS") or {}
    for name, cls in PROVIDERS.items():
        missing = cls.missing(config)
        given = [var for var in cls.required if config.get(var)]
        if missing and given:
            log.warning("provider %s is missing %s", name, ", ".join(missing))
