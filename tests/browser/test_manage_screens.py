"""Every back-office page in ru, de and en on a phone (390 px) and on a laptop (1366 px): no
sideways scrolling of the page, visible keyboard focus, and a screenshot under tests/artifacts/."""

from __future__ import annotations

import pytest

from eventhub.extensions import db
from eventhub.models import Participant, Room
from tests.browser.conftest import ARTIFACTS, PHONE
from tests.browser.pages_support import sign_in
from tests.eventhub.manage_support import manage_pages


def paths(site) -> dict[str, str]:
    world = site.world
    with site.app.app_context():
        room_id = db.session.query(Room).filter_by(event_id=world.event_id).first().id
        participant_id = db.session.query(Participant).filter_by(
            event_id=world.event_id).first().id
    return manage_pages(world, room_id, participant_id)


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
def test_every_back_office_page_on_a_phone_and_a_laptop(site, new_page, lang):
    phone = new_page(f"/login?lang={lang}", phone=True)
    sign_in(phone, site.world.organizer, lang=lang)
    laptop = new_page(f"/login?lang={lang}")
    laptop.set_viewport_size({"width": 1366, "height": 768})
    sign_in(laptop, site.world.organizer, lang=lang)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for name, path in paths(site).items():
        phone.goto(f"{path}?lang={lang}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} ({lang}) scrolls sideways: {width}px"
        assert phone.evaluate("document.documentElement.lang") == lang
        phone.screenshot(path=str(ARTIFACTS / f"manage-{name}-{lang}-phone.png"),
                         full_page=True)
        laptop.goto(f"{path}?lang={lang}")
        laptop.screenshot(path=str(ARTIFACTS / f"manage-{name}-{lang}.png"), full_page=True)


def test_keyboard_focus_is_visible_on_back_office_controls(site, new_page):
    page = new_page("/login?lang=en")
    sign_in(page, site.world.organizer)
    page.goto(f"/manage/events/{site.world.event_id}/sessions/new?lang=en")
    seen = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("""() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {tag: el.tagName, outline: style.outlineStyle, width: style.outlineWidth};
        }""")
        seen.add(focused["tag"])
        assert (focused["outline"], focused["width"]) == ("solid", "3px"), focused
    assert {"A", "INPUT", "SELECT"} <= seen


def test_the_programme_grid_scrolls_inside_its_box_on_a_phone(site, new_page):
    page = new_page("/login?lang=ru", phone=True)
    sign_in(page, site.world.organizer, lang="ru")
    page.goto(f"/manage/events/{site.world.event_id}/programme?lang=ru")
    box = page.locator(".grid-scroll")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")  # the grid is wider ...
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # the page not
    box.focus()  # the box itself takes focus, so the keyboard can scroll it
    page.keyboard.press("ArrowRight")
    page.wait_for_function("document.querySelector('.grid-scroll').scrollLeft > 0")


def test_copy_a_participants_personal_link(site, new_page):
    page = new_page("/login?lang=de")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    sign_in(page, site.world.organizer, lang="de")
    page.goto(f"/manage/events/{site.world.event_id}/participants?q=Anna")
    page.get_by_role("link", name="Anna Petrova").click()
    link = page.locator("#access-url").input_value()
    assert link.endswith(f"/p/{site.world.anna_token}")
    page.get_by_role("button", name="Link kopieren").first.click()
    page.get_by_text("Kopiert.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link


def test_without_javascript_the_link_is_still_there_to_copy(site, new_page):
    page = new_page("/login?lang=en", javascript=False)
    sign_in(page, site.world.organizer)
    page.goto(f"/manage/events/{site.world.event_id}/participants?q=Anna")
    page.get_by_role("link", name="Anna Petrova").click()
    assert page.locator("#access-url").input_value().endswith(f"/p/{site.world.anna_token}")
    assert not page.get_by_role("button", name="Copy the link").first.is_visible()
