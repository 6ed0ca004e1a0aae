"""Tracks per language like titles: ``track`` is the key, ``track_names`` what pages show."""

from __future__ import annotations

from eventhub.extensions import db
from eventhub.models import Session
from eventhub.services import demo
from tests.conftest import at, bearer

NAMES = {"ru": "Культура", "de": "Kultur", "en": "Culture"}


def test_the_api_takes_and_gives_track_names(client, create_user, create_event, api_token):
    event = create_event()
    token = api_token(create_user("organizer"))
    body = {"title": {"en": "T"}, "starts_at": at(10).isoformat(), "ends_at": at(11).isoformat(),
            "track": "culture", "track_names": NAMES}
    created = client.post(f"/api/v1/events/{event.id}/sessions", json=body,
                          headers=bearer(token))
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["track"] == "culture"
    assert created.get_json()["track_names"] == NAMES
    sid = created.get_json()["id"]
    changed = client.patch(f"/api/v1/sessions/{sid}", json={"track_names": {"en": "Arts"}},
                           headers=bearer(token)).get_json()
    assert changed["track_names"] == {"en": "Arts"} and changed["sequence"] == 1
    # Old clients: a plain track still works and reads back as before.
    plain = client.post(f"/api/v1/events/{event.id}/sessions",
                        json={**{k: v for k, v in body.items() if k != "track_names"},
                              "track": "Economy",
                              "starts_at": at(12).isoformat(), "ends_at": at(13).isoformat()},
                        headers=bearer(token)).get_json()
    assert plain["track"] == "Economy" and plain["track_names"] == {}
    listed = client.get(f"/api/v1/events/{event.id}/sessions?track=culture").get_json()
    assert [s["id"] for s in listed["items"]] == [sid]


def test_pages_show_the_track_in_their_language(app, client):
    # Data made in its own app context: requests made inside one would share Flask-Babel's
    # cached locale (g) and all speak the first request's language.
    from eventhub.models import Event
    from tests.conftest import START

    with app.app_context():
        event = Event(slug="conf", published=True, title={"en": "C"}, timezone="Europe/Moscow",
                      start_date=START, end_date=START)
        culture = Session(event=event, title={"en": "T"}, starts_at=at(10), ends_at=at(11),
                          track="culture", track_names=NAMES)
        sport = Session(event=event, title={"en": "S"}, starts_at=at(12), ends_at=at(13),
                        track="Sport")
        db.session.add_all([event, culture, sport])
        db.session.commit()
        slug, session_id = event.slug, culture.id
    for lang, name in NAMES.items():
        page = client.get(f"/events/{slug}?lang={lang}").get_data(as_text=True)
        assert f'<span class="track">{name}</span>' in page
        assert f">{name}</a>" in page  # the track filter, by name
        assert "Sport" in page  # no names given: the key is shown
        others = set(NAMES.values()) - {name}
        assert not any(f">{other}<" in page for other in others), lang
        session_page = client.get(f"/sessions/{session_id}?lang={lang}")
        assert f"<dd>{name}</dd>" in session_page.get_data(as_text=True)


def test_the_demo_names_its_tracks_in_each_language(app, ctx, client):
    demo.seed_demo()
    sessions = list(db.session.scalars(db.select(Session)))
    assert all(set(s.track_names) == {"ru", "de", "en"} for s in sessions)
    page = client.get(f"/events/{demo.SLUG}?lang=en").get_data(as_text=True)
    assert "Culture" in page and "Культура / Kultur" not in page and "Kultur<" not in page
