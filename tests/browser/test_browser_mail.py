"""The mail pages in a browser, on a phone, in every language: the back office's outbox, one
mail, and the participant's unsubscribe page (screenshots under tests/artifacts/)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventhub.extensions import db
from eventhub.models import OutboxMail, Participant, Session
from eventhub.services import access, jobs, mail
from tests.browser.conftest import ARTIFACTS, PHONE


def shoot(page, name: str, lang: str) -> None:
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} ({lang}) scrolls sideways: {width}px"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}.png"), full_page=True)


def sign_in(page, email: str, lang: str) -> None:
    page.goto(f"/login?lang={lang}")
    page.locator("#email").fill(email)
    page.locator("#password").fill("secret-pw-1")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/console")


@pytest.fixture
def app_config(app_config):
    return {**app_config, "MAIL_BURST_SECONDS": 0}


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
def test_outbox_and_unsubscribe_pages_on_a_phone(site, new_page, lang):
    world = site.world
    with site.app.app_context():
        anna = db.session.scalar(select(Participant).where(
            Participant.token_digest == access.digest(world.anna_token)))
        anna.language = lang
        mail.queue_mail(anna, "invitation", context={"message": "Herzlich willkommen!",
                                                     "inviter": "Olga Iwanowa"})
        event_session = db.session.get(Session, world.tomorrow_id)
        event_session.delay_minutes = 20  # a change notice for those who follow it
        db.session.commit()
        mail.scan()
        jobs.dispatcher().wait(30)
        change = db.session.scalar(select(OutboxMail.id).where(OutboxMail.kind == "change"))
    page = new_page(f"/p/{world.anna_token}/unsubscribe?lang={lang}", phone=True)
    shoot(page, "mail-unsubscribe", lang)
    back_office = new_page(f"/login?lang={lang}", phone=True)
    sign_in(back_office, world.organizer, lang)
    back_office.goto(f"/manage/outbox?lang={lang}")
    assert back_office.locator("li[data-mail-id]").count() >= 2
    shoot(back_office, "mail-outbox", lang)
    back_office.goto(f"/manage/outbox/{change}?lang={lang}")
    html = back_office.frame_locator("iframe.mail-html").locator("body")
    assert "Boris Becker" in html.inner_text()  # the HTML part renders, scripts off
    shoot(back_office, "mail-detail", lang)
    back_office.locator("iframe.mail-html").screenshot(
        path=str(ARTIFACTS / f"mail-detail-html-{lang}.png"))
