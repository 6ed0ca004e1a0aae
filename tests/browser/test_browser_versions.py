"""In a real browser: a page keeps the newest version of each session; an older message that
arrives late (a request's held payload after its job's) changes nothing."""

from __future__ import annotations

from playwright.sync_api import expect

from eventhub.extensions import db
from eventhub.models import Session, User
from eventhub.services import sessions as session_service

CONNECTED = "document.documentElement.dataset.live === 'connected'"
#: Deliver a payload to the page's own session.updated handlers, as if it came off the socket.
DELIVER = """payload => window.eventhubSocket.listeners('session.updated')
    .forEach(handler => handler(payload))"""


def test_an_older_version_arriving_late_changes_nothing(site, new_page):
    world = site.world
    sid = world.now_id
    page = new_page(f"/events/{world.slug}?lang=en")
    page.wait_for_function(CONNECTED)
    article = page.locator(f'article[data-session-id="{sid}"]')
    shown = int(article.get_attribute("data-version"))
    with site.app.app_context():  # a real change, published over the real socket
        organizer = db.session.scalar(db.select(User).where(User.role == "organizer"))
        event_session = db.session.get(Session, sid)
        status = "paused" if event_session.status == "live" else "live"
        session_service.set_session_status(organizer, event_session, status)
        payload = _payload(event_session)
    expect(article).to_have_attribute("data-status", status)
    expect(article).to_have_attribute("data-version", str(payload["version"]))
    assert payload["version"] > shown

    stale = {**payload, "status": "cancelled", "version": payload["version"] - 1}
    page.evaluate(DELIVER, stale)
    page.evaluate(DELIVER, {**payload, "status": "cancelled"})  # the same version again
    expect(article).to_have_attribute("data-status", status)
    newer = {**payload, "status": "ended", "version": payload["version"] + 1}
    page.evaluate(DELIVER, newer)
    expect(article).to_have_attribute("data-status", "ended")
    expect(article).to_have_attribute("data-version", str(newer["version"]))


def _payload(event_session: Session) -> dict:
    from eventhub.serializers import session_update_payload

    db.session.refresh(event_session)
    return session_update_payload(event_session)
