"""Every Redis name of an installation starts with ``EVENTHUB_REDIS_PREFIX``, by default derived
from its database, so two installations on one Redis server never share a channel or a key."""

from __future__ import annotations

from eventhub.config import redis_prefix, validate
from eventhub.services.jobs import queue_name


def settings(**values) -> dict:
    config = {"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:", **values}
    validate(config)
    return config


def test_the_default_prefix_follows_the_database_and_hides_its_password():
    one = redis_prefix("postgresql+psycopg://eventhub:secret@db/one")
    assert one == redis_prefix("postgresql+psycopg://eventhub:other-secret@db/one")
    assert one != redis_prefix("postgresql+psycopg://eventhub:secret@db/two")
    assert one.startswith("eventhub-") and "secret" not in one


def test_every_name_derives_from_the_prefix():
    config = settings(REDIS_PREFIX="conf-a", RQ_QUEUE="eventhub")
    assert queue_name(config) == "conf-a:eventhub"
    assert config["RATELIMIT_KEY_PREFIX"] == "conf-a:limits"
    from eventhub.live.fanout import channel

    assert channel(config["REDIS_PREFIX"]) == "conf-a:socketio"


def test_an_app_uses_its_prefix_for_presence(app_config):
    from eventhub import create_app
    from eventhub.live import EXTENSION

    app = create_app({**app_config, "REDIS_PREFIX": "conf-b"})
    assert app.extensions[EXTENSION].presence.prefix == "conf-b:presence"
    with app.app_context():
        from eventhub.extensions import db
        from eventhub.services import provisioning

        provisioning.dispatcher().shutdown()
        db.engine.dispose()
