"""Run a test on SQLite and on PostgreSQL: ``database`` is parametrized over both.

PostgreSQL is the one CI runs on 127.0.0.1 (``EVENTHUB_TEST_DATABASE_URL``); each test gets a
schema of its own, dropped afterwards. Without the server the PostgreSQL case is skipped (or
fails where ``EVENTHUB_REQUIRE_SERVICES=1``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

DATABASE_URL = os.environ.get("EVENTHUB_TEST_DATABASE_URL",
                              "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> Iterator[str]:
    """A fresh database URL of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'eventhub.db'}"
        return
    import psycopg

    plain = DATABASE_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        psycopg.connect(plain, connect_timeout=3).close()
    except psycopg.Error as exc:
        if os.environ.get("EVENTHUB_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL at {plain} is not reachable: {exc}")
        pytest.skip(f"PostgreSQL at {plain} is not reachable: {exc}")
    schema = f"eventhub_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{DATABASE_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def app_config(app_config: dict[str, Any], database: str) -> dict[str, Any]:
    """The test configuration on ``database``."""
    return {**app_config, "SQLALCHEMY_DATABASE_URI": database}
