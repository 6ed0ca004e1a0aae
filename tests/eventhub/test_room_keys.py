"""Provider room keys: stable for a session and generation, never shared across databases."""

from __future__ import annotations

from eventhub import create_app
from eventhub.extensions import db
from eventhub.models import Event, Session, VideoRoom
from eventhub.services import provisioning
from tests.conftest import START, at


def first_room_key(app_config, path) -> tuple[str, str]:
    """Session 1's room key in a fresh database, twice (read back from the database)."""
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        event = Event(slug="conf", title={"en": "C"}, timezone="Europe/Moscow",
                      start_date=START, end_date=START)
        event_session = Session(event=event, title={"en": "T"}, starts_at=at(10),
                                ends_at=at(11))
        room = VideoRoom(session=event_session, provider="jitsi", data={}, host_data={})
        db.session.add_all([event, event_session, room])
        db.session.commit()
        assert event_session.id == 1 and room.generation == 1
        first = provisioning.room_key(room)
        db.session.expire_all()
        again = provisioning.room_key(db.session.get(VideoRoom, room.id))
        db.session.remove()
        db.engine.dispose()
    return first, again


def test_two_databases_sharing_a_secret_key_never_share_a_room(app_config, tmp_path):
    one, one_again = first_room_key(app_config, tmp_path / "one.db")
    two, _ = first_room_key(app_config, tmp_path / "two.db")
    assert one == one_again  # stable for the session and generation
    assert one != two
