"""The shared services tests use: PostgreSQL (a schema of its own per test) and Redis, each
checked first; without one the test is skipped, or fails where ``EVENTHUB_REQUIRE_SERVICES=1``
(CI). ``database`` runs a test on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest

DATABASE_URL = os.environ.get("EVENTHUB_TEST_DATABASE_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: The server's libpq URL (psycopg's, without SQLAlchemy's driver name).
PLAIN_URL = DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")


def unavailable(message: str) -> NoReturn:
    """Skip, or fail where the services must be there (CI sets EVENTHUB_REQUIRE_SERVICES=1)."""
    if os.environ.get("EVENTHUB_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def require_postgres() -> None:
    """Go on only if the PostgreSQL test server answers."""
    import psycopg

    try:
        psycopg.connect(PLAIN_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        unavailable(f"PostgreSQL at {PLAIN_URL} is not reachable: {exc}")


def require_redis(url: str) -> str:
    """``url`` if Redis answers there."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {url} is not reachable ({type(exc).__name__}: {exc})")
    return url


def create_schema(prefix: str = "eventhub") -> tuple[str, str]:
    """A new, empty schema in the test database: its name, and a database URL that uses it."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PLAIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{DATABASE_URL}?options=-csearch_path%3D{schema}"


def drop_schema(schema: str) -> None:
    """Drop a schema made by :func:`create_schema`, with everything in it."""
    import psycopg

    with psycopg.connect(PLAIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def postgres_schema(prefix: str = "eventhub") -> Iterator[str]:
    """A database URL on a schema of its own, dropped afterwards (the server checked first)."""
    require_postgres()
    schema, url = create_schema(prefix)
    try:
        yield url
    finally:
        drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[str]:
    """A fresh database URL of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'eventhub.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def app_config(app_config: dict[str, Any], database: str) -> dict[str, Any]:
    """The test configuration on ``database``."""
    return {**app_config, "SQLALCHEMY_DATABASE_URI": database}
