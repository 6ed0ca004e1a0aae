"""The attendance page and the interpretation note, as organizers and attendees see them: in
each language, on a laptop and a phone, with a screenshot under tests/artifacts/ for review."""

from __future__ import annotations

import pytest

from eventhub.extensions import db
from eventhub.models import Participant, Session
from eventhub.services import access, attendance
from tests.browser.conftest import ARTIFACTS, PHONE


def sign_in(page, email: str, lang: str) -> None:
    page.goto(f"/login?lang={lang}")
    page.locator("#email").fill(email)
    page.locator("#password").fill("secret-pw-1")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/console")


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
@pytest.mark.parametrize("phone", [False, True], ids=["laptop", "phone"])
def test_attendance_page(site, new_page, lang, phone):
    """Figures in a table that fits the screen; the opened link is counted."""
    with site.app.app_context():
        event_session = db.session.get(Session, site.world.ready_id)
        anna = db.session.scalar(db.select(Participant).where(
            Participant.token_digest == access.digest(site.world.anna_token)))
        attendance.record_join_open(anna, event_session)
    page = new_page(f"/login?lang={lang}", phone=phone)
    sign_in(page, site.world.organizer, lang)
    page.goto(f"/manage/events/{site.world.event_id}/attendance?lang={lang}")
    row = page.locator(f"tr[data-session-id='{site.world.ready_id}'] td.num").nth(1)
    assert row.inner_text() == "1"
    if phone:
        body = page.evaluate("document.body.scrollWidth")
        assert body <= PHONE["width"], f"the page scrolls sideways: {body}px"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"attendance-{lang}{'-phone' if phone else ''}.png"),
                    full_page=True)


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
def test_interpretation_note_on_the_session_page(site, new_page, lang):
    with site.app.app_context():
        event_session = db.session.get(Session, site.world.ready_id)
        event_session.interpretation = {"languages": ["ru", "de"], "interpreter_ids": []}
        db.session.commit()
    page = new_page(f"/sessions/{site.world.ready_id}?lang={lang}", phone=True)
    assert page.locator("[data-interpretation]").is_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"session-interpretation-{lang}.png"), full_page=True)
