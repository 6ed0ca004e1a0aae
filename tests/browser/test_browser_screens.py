"""Every page in every language on a phone (390×844): no sideways scrolling, keyboard focus is
visible, and a screenshot under tests/artifacts/ for review."""

from __future__ import annotations

import pytest

from tests.browser.conftest import ARTIFACTS, PHONE
from tests.browser.pages_support import CONNECTED, sign_in


def shoot(page, name: str, lang: str) -> None:
    """Check the layout fits the phone's width, then save a full-page screenshot."""
    page.wait_for_load_state("load")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} ({lang}) scrolls sideways: {width}px"
    assert page.evaluate("document.documentElement.lang") == lang
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}.png"), full_page=True)


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
def test_every_page_on_a_phone(site, new_page, lang):
    world = site.world
    participant = new_page(f"/p/{world.anna_token}?lang={lang}", phone=True)
    shoot(participant, "agenda", lang)
    for name, path in (("programme", f"/events/{world.slug}"),
                       ("session", f"/sessions/{world.ready_id}"),
                       ("join-wait", f"/join/{world.soon_id}?t={world.anna_token}")):
        participant.goto(path)
        participant.wait_for_function(CONNECTED)
        shoot(participant, name, lang)

    organizer = new_page(f"/login?lang={lang}", phone=True)
    shoot(organizer, "login", lang)
    sign_in(organizer, world.organizer, lang=lang)
    organizer.wait_for_function(CONNECTED)
    shoot(organizer, "console", lang)
    organizer.goto(f"/console/events/{world.event_id}/switch?mode=online")
    shoot(organizer, "event-switch", lang)


def test_keyboard_reaches_skip_link_with_visible_focus(site, new_page):
    page = new_page(f"/events/{site.world.slug}?lang=en", phone=True)
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {cls: el.className, outline: style.outlineStyle, width: style.outlineWidth};
    }""")
    assert focused == {"cls": "skip", "outline": "solid", "width": "3px"}
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
