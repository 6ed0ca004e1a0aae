"""In a real browser: times, "Now and next" and lists follow session.updated without reload."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import expect

from eventhub.extensions import db
from eventhub.models import Session, User
from eventhub.services import sessions as session_service
from tests.browser.conftest import ARTIFACTS

MARK = "window.__eventhubNoReload = true"
NOT_RELOADED = "window.__eventhubNoReload === true"
CONNECTED = "document.documentElement.dataset.live === 'connected'"


def organizer_does(site, session_id: int, action) -> Session:
    with site.app.app_context():
        organizer = db.session.scalar(db.select(User).where(User.role == "organizer"))
        event_session = db.session.get(Session, session_id)
        action(organizer, event_session)
        db.session.refresh(event_session)
        return event_session


def start_of(page, selector: str) -> datetime:
    value = page.locator(selector).first.get_attribute("datetime")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_delay_moves_the_times_and_ending_leaves_now_and_next(site, new_page):
    world = site.world
    page = new_page(f"/events/{world.slug}?lang=en")
    page.wait_for_function(CONNECTED)
    page.evaluate(MARK)
    soon_time = (f'#programme-region article[data-session-id="{world.soon_id}"] '
                 'time[data-time="start"]')
    before = start_of(page, soon_time)
    text_before = page.locator(soon_time).inner_text()

    organizer_does(site, world.soon_id,
                   lambda who, s: session_service.set_session_status(who, s, "delayed", 30))
    expect(page.locator(soon_time)).not_to_have_text(text_before)
    assert start_of(page, soon_time) == before + timedelta(minutes=30)

    now_cell = f'#now-next-region [data-session-id="{world.now_id}"]'
    expect(page.locator(now_cell)).to_have_count(1)
    organizer_does(site, world.now_id,
                   lambda who, s: (session_service.set_session_status(who, s, "live"),
                                   session_service.set_session_status(who, s, "ended")))
    expect(page.locator(now_cell)).to_have_count(0)  # the list came again from the server
    assert page.evaluate(NOT_RELOADED), "the page reloaded"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "follow-programme-en.png"), full_page=True)


def test_a_new_time_moves_the_session_on_the_agenda(site, new_page):
    world = site.world
    page = new_page(f"/p/{world.boris_token}?lang=de", phone=True)
    page.wait_for_function(CONNECTED)
    page.evaluate(MARK)
    selector = (f'#agenda-region article[data-session-id="{world.tomorrow_id}"] '
                'time[data-time="start"]')
    before = start_of(page, selector)
    text_before = page.locator(selector).inner_text()

    def reschedule(who, event_session):
        session_service.update_session(who, event_session, {
            "starts_at": event_session.starts_at + timedelta(days=1),
            "ends_at": event_session.ends_at + timedelta(days=1)})

    organizer_does(site, world.tomorrow_id, reschedule)
    expect(page.locator(selector)).not_to_have_text(text_before)
    assert start_of(page, selector) == before + timedelta(days=1)
    assert page.evaluate(NOT_RELOADED)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "follow-agenda-de-phone.png"), full_page=True)
