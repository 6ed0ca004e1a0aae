"""Pages say what is true now: expected times, dates outside a one-day context, zones as people
name them, sessions over shown as past."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date

from eventhub.extensions import db
from eventhub.models import Session, User, utcnow
from eventhub.services import sessions as session_service
from tests.browser.world import compile_translations

compile_translations()
MOSCOW = ZoneInfo("Europe/Moscow")


def login(client, email: str) -> None:
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
    client.post("/login", data={"email": email, "password": "secret-pw-1",
                                "csrf_token": token})


def test_a_delay_moves_the_times_the_pages_show(app, client, world):
    with app.app_context():
        event_session = db.session.get(Session, world.soon_id)
        organizer = db.session.scalar(db.select(User).where(User.role == "organizer"))
        session_service.set_session_status(organizer, event_session, "delayed", 30)
        expected = event_session.starts_at + timedelta(minutes=30)
        planned = event_session.starts_at
    html = client.get(f"/sessions/{world.soon_id}?lang=de").get_data(as_text=True)
    shown = expected.astimezone(MOSCOW).strftime("%H:%M")
    assert f'datetime="{expected.isoformat()}"' in html and f">{shown}</time>" in html
    assert f'datetime="{planned.isoformat()}" data-time' not in html
    programme = client.get(f"/events/{world.slug}?lang=de").get_data(as_text=True)
    assert f">{shown}</time>" in programme


def test_the_agenda_gives_the_day_of_every_time(app, world):
    client = app.test_client()
    html = client.get(f"/p/{world.boris_token}?lang=de").get_data(as_text=True)
    with app.app_context():
        tomorrow = db.session.get(Session, world.tomorrow_id)
        day = format_date(tomorrow.starts_at.astimezone(MOSCOW).date(), "medium", locale="de")
    chosen = html.split('id="agenda-region"', 1)[1].split('id="more-region"', 1)[0]
    assert f'data-dated="1">{day},' in chosen
    more = html.split('id="more-region"', 1)[1]
    assert more.count('data-dated="1"') >= 3  # every other session, with its day


def test_join_notice_and_join_page_carry_their_date(app, world):
    client = app.test_client()
    client.get(f"/p/{world.anna_token}?lang=en")
    with app.app_context():
        soon = db.session.get(Session, world.failed_id)
        opens = soon.starts_at - timedelta(minutes=15)
    day = format_date(opens.astimezone(MOSCOW).date(), "medium", locale="en")
    page = client.get(f"/sessions/{world.failed_id}").get_data(as_text=True)
    assert f"The join link opens on {day} at" in page
    wait = client.get(f"/join/{world.failed_id}?t={world.anna_token}").get_data(as_text=True)
    assert f"opens on {day} at" in wait
    start_day = format_date(soon.starts_at.astimezone(MOSCOW).date(), "medium", locale="en")
    assert f'data-dated="1">{start_day},' in wait


@pytest.mark.parametrize("lang,name", [("en", "Moscow Time"), ("de", "Moskauer Zeit"),
                                       ("ru", "Москва")])
def test_zones_are_named_as_people_say_them(client, world, lang, name):
    for path in (f"/events/{world.slug}", f"/sessions/{world.now_id}"):
        html = client.get(f"{path}?lang={lang}").get_data(as_text=True)
        assert name in html and "(Europe/Moscow)" not in html
        assert "Times in Europe/Moscow" not in html


def test_a_session_past_its_expected_end_is_shown_as_past(app, client, world):
    with app.app_context():
        event_session = db.session.get(Session, world.now_id)
        event_session.starts_at = utcnow() - timedelta(hours=3)
        event_session.ends_at = utcnow() - timedelta(hours=2)
        db.session.commit()
    html = client.get(f"/events/{world.slug}?lang=en").get_data(as_text=True)
    article = html.split(f'data-session-id="{world.now_id}"', 2)[-1].split("</article>", 1)[0]
    assert 'data-past="1"' in article and '<span class="badge past" data-badge="past">past' \
        in article
    soon = html.split(f'data-session-id="{world.soon_id}"', 2)[-1].split("</article>", 1)[0]
    assert 'data-past="1"' not in soon


def test_the_console_offers_no_go_live_for_a_session_over(app, world):
    with app.app_context():
        event_session = db.session.get(Session, world.now_id)
        event_session.starts_at = utcnow() - timedelta(hours=3)
        event_session.ends_at = utcnow() - timedelta(hours=2)
        db.session.commit()
        tz = ZoneInfo(event_session.event.timezone)
        day = event_session.starts_at.astimezone(tz).date().isoformat()
    client = app.test_client()
    login(client, world.moderator)
    # The board shows one day: ask for the session's (near midnight it is yesterday's).
    html = client.get(f"/console?lang=en&day={day}").get_data(as_text=True)
    item = html.split(f'id="s{world.now_id}"', 1)[1].split("</article>", 1)[0]
    assert 'value="live" disabled' in item
    html = client.get("/console?lang=en").get_data(as_text=True)  # today's, with the next one
    soon = html.split(f'id="s{world.soon_id}"', 1)[1].split("</article>", 1)[0]
    assert 'value="live">' in soon
