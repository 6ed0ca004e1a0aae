"""The programme page: cached for anonymous visitors under programme_version and the language,
revalidated with ETag / 304, never cached for a signed-in user, never outliving an unpublish."""

from __future__ import annotations

import time

import pytest
from flask_babel import refresh

from eventhub.services import events as event_service
from eventhub.services import sessions as session_service
from eventhub.web.page_cache import FRESH_SECONDS, page_cache
from tests.conftest import at


@pytest.fixture
def world(create_user, create_event, create_room, create_session):
    """A published event with a hall and two sessions, and its organizer."""
    organizer = create_user("organizer")
    event = create_event()
    hall = create_room(event, "Hall A")
    talk = create_session(event, hall, at(10), title={"en": "Opening talk", "ru": "Открытие"})
    create_session(event, hall, at(12), title={"en": "Panel", "ru": "Дискуссия"})
    return {"organizer": organizer, "event": event, "talk": talk}


def renders(app) -> int:
    """How many times the page cache rendered the page."""
    with app.app_context():
        return page_cache().renders


def test_anonymous_page_is_rendered_once_and_revalidated(app, client, world):
    url = f"/events/{world['event'].slug}?lang=en"
    first = client.get(url)
    assert first.status_code == 200 and b"Opening talk" in first.data
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.cache_control.no_cache
    assert client.get(url).data == first.data
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert renders(app) == 1


def test_a_change_to_the_programme_is_a_new_page(app, client, world):
    url = f"/events/{world['event'].slug}?lang=en"
    etag = client.get(url).headers["ETag"]
    session_service.update_session(world["organizer"], world["talk"],
                                   {"title": {"en": "Renamed talk"}})
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and b"Renamed talk" in changed.data
    assert changed.headers["ETag"] != etag
    assert renders(app) == 2


def test_each_language_is_its_own_page(app, client, world):
    slug = world["event"].slug
    russian = client.get(f"/events/{slug}?lang=ru")
    # The fixtures' app context outlives the requests, and Flask-Babel keeps the locale in it.
    refresh()
    english = client.get(f"/events/{slug}?lang=en")
    refresh()
    assert "Открытие".encode() in russian.data and b"Opening talk" in english.data
    assert russian.headers["ETag"] != english.headers["ETag"]
    assert client.get(f"/events/{slug}?lang=ru").data == russian.data
    assert renders(app) == 2


def test_a_signed_in_user_gets_a_fresh_page_of_their_own(app, client, world):
    with client.session_transaction() as browser:
        browser["user_id"] = world["organizer"].id
    page = client.get(f"/events/{world['event'].slug}?lang=en")
    assert page.status_code == 200 and "ETag" not in page.headers
    assert renders(app) == 0


def test_unpublishing_is_seen_at_once(app, client, world):
    url = f"/events/{world['event'].slug}?lang=en"
    assert client.get(url).status_code == 200
    event_service.update_event(world["organizer"], world["event"], {"published": False})
    assert client.get(url).status_code == 404


def test_a_page_is_kept_for_a_bounded_time(app, client, world):
    url = f"/events/{world['event'].slug}?lang=en"
    client.get(url)
    with app.app_context():
        pages = page_cache().pages
        assert len(pages) == 1
        pages.expire(time.monotonic() + FRESH_SECONDS + 1)  # the clock, FRESH_SECONDS on
        assert len(pages) == 0
    client.get(url)
    assert renders(app) == 2
