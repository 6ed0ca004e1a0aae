"""Two requests that both pass the uniqueness check: the loser gets an answer, not a 500.

The race is staged by making the check miss a row that is already there, as it would when the
other request commits between this one's check and its insert.
"""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from eventhub.errors import Conflict
from eventhub.extensions import db
from eventhub.models import AgendaItem, Event, Participant, Room
from eventhub.services import agenda, participants
from eventhub.services import events as event_service


@pytest.fixture
def world(create_user, create_event, create_room, create_session, create_participant):
    event = create_event()
    hall = create_room(event)
    return (create_user("organizer"), event, create_session(event, hall),
            create_participant(event))


def test_a_second_put_on_the_agenda_racing_the_first_answers_the_item(world, monkeypatch):
    organizer, _, event_session, participant = world
    first = agenda.add_to_agenda(participant, participant, event_session)
    real, misses = agenda.find_agenda_item, [None]
    monkeypatch.setattr(agenda, "find_agenda_item",
                        lambda *args: misses.pop() if misses else real(*args))
    again = agenda.add_to_agenda(participant, participant, event_session)
    assert again.id == first.id
    assert db.session.query(AgendaItem).count() == 1


def test_a_racing_event_with_the_same_slug_is_409(world, monkeypatch):
    organizer, event, *_ = world
    monkeypatch.setattr(event_service, "find_event_by_slug", lambda slug: None)
    with pytest.raises(Conflict) as caught:
        event_service.create_event(organizer, {
            "slug": event.slug, "title": {"en": "Twin"}, "description": {},
            "timezone": "UTC", "start_date": event.start_date, "end_date": event.end_date})
    assert "slug" in caught.value.fields
    assert db.session.query(Event).count() == 1


def test_a_racing_participant_with_the_same_email_is_409(world, monkeypatch):
    organizer, event, _, participant = world
    monkeypatch.setattr(participants, "_email_taken", lambda *args, **kwargs: False)
    with pytest.raises(Conflict) as caught:
        participants.create_participant(organizer, event,
                                        {"name": "Twin", "email": participant.email})
    assert "email" in caught.value.fields
    assert db.session.query(Participant).count() == 1


def test_a_racing_hall_with_the_same_name_is_409(world, create_event):
    organizer, *_ = world
    event = create_event(slug="halls")
    assert event.rooms == []  # loaded: this request saw no hall named "Saal"
    with db.engine.begin() as other:  # another request commits one meanwhile
        other.execute(insert(Room).values(event_id=event.id, name="Saal"))
    with pytest.raises(Conflict) as caught:
        event_service.create_room(organizer, event, {"name": "Saal"})
    assert "name" in caught.value.fields
    assert db.session.query(Room).filter_by(event_id=event.id).count() == 1
