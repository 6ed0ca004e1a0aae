"""The operations board in a real browser, on the demo conference (five halls, three days):
a day at a glance on a laptop, usable on a phone, and a whole-event switch confirmed in place
whose rooms become ready live, checked through the REST API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import expect

from eventhub.extensions import db
from eventhub.models import utcnow
from eventhub.services import demo, provisioning, switching, users
from eventhub.services import events as event_service
from tests.browser.conftest import ARTIFACTS, PHONE, Site, served
from tests.browser.pages_support import CONNECTED, MARK, NOT_RELOADED
from tests.eventhub.lifecycle_support import sandbox_settings

LAPTOP = {"width": 1366, "height": 768}
ORGANIZER, ORGANIZER_PASSWORD = demo.ORGANIZER[:2]


@pytest.fixture
def app_config(app_config: dict, sandbox) -> dict:
    """Every provider configured against the loopback sandbox (none reaches the internet)."""
    return {**app_config, **sandbox_settings(sandbox)}


@pytest.fixture
def demo_site(app) -> Iterator[Site]:
    """The demo conference (first day today in Moscow), served on 127.0.0.1:<free port>."""
    with app.app_context():
        result = demo.seed_demo(demo.demo_start_date())
        provisioning.dispatcher().wait(30)  # the press centre's hybrid rooms
    with served(app, result, "board-site") as running:
        yield running


def open_board(browser, site: Site, viewport: dict, lang: str, path: str = "/console"):
    """A signed-in organizer's board in a fresh context of the given size."""
    context = browser.new_context(bypass_csp=True,  # Playwright's waits use eval
                                  viewport=viewport, locale="en-US", base_url=site.url,
                                  timezone_id="Europe/Berlin")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"/login?lang={lang}")
    page.locator("#email").fill(ORGANIZER)
    page.locator("#password").fill(ORGANIZER_PASSWORD)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/console")
    if path != "/console":
        page.goto(path)
    page.wait_for_function(CONNECTED)
    return context, page


def second_day(site: Site) -> str:
    with site.app.app_context():
        event = event_service.get_event(None, site.world.event_id)  # type: ignore[attr-defined]
        return date.fromordinal(event.start_date.toordinal() + 1).isoformat()


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
def test_a_five_hall_day_fits_a_laptop_screen_and_a_phone(browser, demo_site, lang):
    event_id = demo_site.world.event_id  # type: ignore[attr-defined]
    for name, viewport in (("board-1366", LAPTOP), ("board-390", PHONE)):
        context, page = open_board(browser, demo_site, viewport, lang,
                                   f"/console?event={event_id}&day={second_day(demo_site)}")
        try:
            rows = page.locator(".hall-row")
            expect(rows).to_have_count(5)
            assert page.evaluate("document.documentElement.lang") == lang
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], f"{name} ({lang}) scrolls sideways: {width}px"
            if viewport is LAPTOP:
                # Every hall row, with its cards, is on the first screen.
                bottom = page.evaluate(
                    "Math.max(...[...document.querySelectorAll('.hall-row')]"
                    ".map(r => r.getBoundingClientRect().bottom))")
                assert bottom <= LAPTOP["height"], f"the fifth hall ends at {bottom}px"
                cards = page.locator(".card")
                boxes = [cards.nth(i).bounding_box() for i in range(cards.count())]
                assert all(box["y"] + box["height"] <= LAPTOP["height"] for box in boxes)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{name}-{lang}.png"),
                            full_page=viewport is not LAPTOP)
            # A card's actions open in place; its panel names the providers configured.
            first = page.locator(".card summary").first
            first.focus()
            page.keyboard.press("Enter")
            panel = page.locator(".card-box[open] .panel")
            expect(panel).to_be_visible()
            expect(panel.locator("select[name=provider] option")).to_have_count(6)  # sandbox
            page.screenshot(path=str(ARTIFACTS / f"{name}-open-{lang}.png"),
                            full_page=viewport is not LAPTOP)
        finally:
            context.close()


def test_switch_the_event_online_from_the_board_with_confirmation(browser, demo_site, sandbox):
    """The founding case: the organizer moves the conference online from the board. Rooms are
    made on Daily (the loopback sandbox, each create slowed down); one is refused by the
    provider, shows why, and is retried from its card; the page never reloads meanwhile."""
    site = demo_site
    event_id = site.world.event_id  # type: ignore[attr-defined]
    with site.app.app_context():
        event = event_service.get_event(None, event_id)
        organizer = users.find_user(ORGANIZER)
        event_service.update_event(organizer, event, {"default_provider": "daily"})
        preview = switching.preview_event_switch(event, "online", utcnow())
        moving = {s.id for s in preview.moving}
        over = {s.id: s.mode for s in preview.over}
    context, page = open_board(browser, site, LAPTOP, "en",
                               f"/console?event={event_id}&day={second_day(site)}")
    try:
        page.locator("#es-mode").select_option("online")
        page.get_by_role("button", name="Switch the whole event…").click()
        dialog = page.locator("dialog[data-confirm]")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(f"{len(moving)} sessions move online.")
        if over:
            expect(dialog).to_contain_text(f"{len(over)} session")
            expect(dialog).to_contain_text("over and stay")
        page.screenshot(path=str(ARTIFACTS / "board-1366-confirm-en.png"))
        # "No" changes nothing.
        dialog.get_by_role("button", name="No, keep it as it is").click()
        expect(dialog).to_be_hidden()
        with site.app.app_context():
            assert switching.preview_event_switch(
                event_service.get_event(None, event_id), "online", utcnow()).moving

        sandbox.faults.status("daily", 400, method="POST")  # the first create is refused
        sandbox.faults.latency("daily", 0.3, times=1000, method="POST")
        page.get_by_role("button", name="Switch the whole event…").click()
        dialog.get_by_role("button", name=f"Yes, move {len(moving)} sessions").click()
        page.wait_for_url(f"**/console?event={event_id}**")
        expect(page.locator(".flash")).to_have_text(f"{len(moving)} sessions moved: online.")
        page.wait_for_function(CONNECTED)
        page.evaluate(MARK)
        # The rooms become ready (one fails) while the page stays open: over /live.
        expect(page.locator('[data-sum="pending"]')).to_have_text("0", timeout=30_000)
        expect(page.locator('[data-sum="failed"]')).to_have_text("1")
        assert page.evaluate(NOT_RELOADED)

        api = context.request
        token = api.post(f"{site.url}/api/v1/tokens",
                         data={"email": ORGANIZER, "password": ORGANIZER_PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}

        def sessions() -> dict[int, dict]:
            body = api.get(f"{site.url}/api/v1/events/{event_id}/sessions?limit=500",
                           headers=headers).json()
            return {item["id"]: item for item in body["items"]}

        by_id = sessions()
        failed = [sid for sid in moving if by_id[sid]["room"]["state"] == "failed"]
        assert len(failed) == 1
        assert all(by_id[sid]["mode"] == "online" for sid in moving)
        assert {sid: by_id[sid]["mode"] for sid in over} == over  # over: left as they were

        # The failed room shows its reason on the board and is retried from its card.
        sid = failed[0]
        with site.app.app_context():
            day = local_day_of(sid)
        page.goto(f"/console?event={event_id}&day={day}&view=problems")
        page.wait_for_function(CONNECTED)
        page.evaluate(MARK)
        card = page.locator(f"#s{sid}")
        expect(card).to_have_class(re.compile(r"\bproblem\b"))
        card.locator("summary").click()
        expect(card.locator("[data-room-error]")).to_contain_text("could not be created")
        expect(card.locator("[data-room-error-detail]")).to_contain_text("400")
        page.screenshot(path=str(ARTIFACTS / "board-1366-failed-en.png"))
        card.get_by_role("button", name="Retry").click()
        expect(card).to_have_attribute("data-room-state", "ready", timeout=30_000)
        expect(card.locator("[data-host] a")).to_be_visible()
        expect(page.locator('[data-sum="failed"]')).to_have_text("0")
        assert page.evaluate(NOT_RELOADED)
        room = sessions()[sid]["room"]
        assert (room["state"], room["provider"]) == ("ready", "daily")
    finally:
        context.close()


def local_day_of(session_id: int) -> str:
    """The session's day in its event's zone (call in an app context)."""
    from zoneinfo import ZoneInfo

    from eventhub.models import Session

    event_session = db.session.get(Session, session_id)
    tz = ZoneInfo(event_session.event.timezone)
    return event_session.expected_starts_at.astimezone(tz).date().isoformat()


def test_now_line_runs_through_the_running_session_and_focus_is_visible(site, new_page):
    """On the world built around the clock, the "now" line crosses the session running now."""
    from tests.browser.pages_support import open_card, sign_in

    world = site.world
    page = new_page()
    page.set_viewport_size(LAPTOP)
    sign_in(page, world.moderator)
    open_card(page, site, world.now_id)
    page.wait_for_function(CONNECTED)
    page.keyboard.press("Escape")  # closes the card again, focus back on its summary
    expect(page.locator(".card-box[open]")).to_have_count(0)
    summary = page.locator(f"#s{world.now_id} summary")
    focus = summary.evaluate("el => [document.activeElement === el, getComputedStyle(el)"
                             ".outlineStyle, getComputedStyle(el).outlineWidth]")
    assert focus == [True, "solid", "3px"]
    line = page.locator("[data-now-line]")
    expect(line).to_be_visible()
    x = line.bounding_box()["x"]
    card = page.locator(f"#s{world.now_id}").bounding_box()
    assert card["x"] <= x <= card["x"] + card["width"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board-now-1366-en.png"))
