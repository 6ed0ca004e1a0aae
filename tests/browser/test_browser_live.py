"""In a real browser: a moderator's switch reaches other pages live, without reloading them."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.pages_support import CONNECTED, MARK, NOT_RELOADED, open_card, sign_in


def test_switch_online_updates_programme_and_gives_participant_join_button(site, new_page):
    world = site.world
    sid = world.now_id
    programme = new_page(f"/events/{world.slug}?lang=en")
    participant = new_page(f"/p/{world.anna_token}?lang=en", phone=True)
    participant.goto(f"/sessions/{sid}")
    for page in (programme, participant):
        page.wait_for_function(CONNECTED)
        page.evaluate(MARK)
    badge = programme.locator(f'article[data-session-id="{sid}"] [data-badge="mode"]')
    expect(badge).to_be_hidden()  # in person: no mode badge
    join = participant.locator(".join-link")
    expect(join).to_be_hidden()
    expect(participant.locator(".join-wait")).to_have_text(
        "This session takes place in person only.")
    # The viewer is in Berlin, the event in Moscow: both clocks are shown.
    expect(participant.locator("[data-viewer-time]")).to_contain_text("(Central European")

    moderator = new_page()
    sign_in(moderator, world.moderator)
    item = open_card(moderator, site, sid)
    item.get_by_role("button", name="Online").click()

    expect(badge).to_be_visible()
    expect(badge).to_have_text("online")
    expect(programme.locator(f'article[data-session-id="{sid}"]')).to_have_attribute(
        "data-mode", "online")
    expect(join).to_be_visible()  # room provisioned, inside the join window
    assert join.get_attribute("href") == f"/join/{sid}?t={world.anna_token}"
    expect(participant.locator(".join-wait")).to_have_text("")
    for page in (programme, participant):
        assert page.evaluate(NOT_RELOADED), "the page reloaded"

    moderator.wait_for_function(CONNECTED)
    expect(moderator.locator(f"#s{sid} [data-room-label]")).to_have_text("room ready")
    expect(moderator.locator(f"#s{sid} [data-host] a")).to_be_visible()


def test_delay_and_cancel_badges_change_live(site, new_page):
    world = site.world
    sid = world.soon_id
    programme = new_page(f"/events/{world.slug}?lang=de")
    programme.wait_for_function(CONNECTED)
    programme.evaluate(MARK)
    moderator = new_page()
    sign_in(moderator, world.moderator)
    item = open_card(moderator, site, sid)
    slot = item.locator("xpath=..")  # the card's place on the time axis
    start = slot.evaluate("li => li.style.getPropertyValue('--start')")
    item.get_by_label("Delay in minutes").fill("10")
    item.get_by_role("button", name="Delay", exact=True).click()
    status = programme.locator(f'article[data-session-id="{sid}"] [data-badge="status"]')
    expect(status).to_have_text("verschoben um 10 Min.")
    moderator.wait_for_function(  # the delayed card moves right on the board
        "([li, before]) => li.style.getPropertyValue('--start') !== before",
        arg=[slot.element_handle(), start])
    # Cancelling asks first, in place, naming the session; "No" changes nothing.
    item.get_by_role("button", name="Cancel session").click()
    dialog = moderator.locator("dialog[data-confirm]")
    expect(dialog).to_contain_text("“Urban mobility” is cancelled")
    dialog.get_by_role("button", name="No, keep it as it is").click()
    expect(dialog).to_be_hidden()
    expect(item).to_have_attribute("data-status", "delayed")
    item.get_by_role("button", name="Cancel session").click()
    dialog.get_by_role("button", name="Yes, cancel it").click()
    expect(status).to_have_text("abgesagt")
    expect(programme.locator(f'article[data-session-id="{sid}"]')).to_have_attribute(
        "data-status", "cancelled")
    assert programme.evaluate(NOT_RELOADED)


def test_console_acts_over_socketio_and_shows_presence(site, new_page):
    world = site.world
    moderator = new_page()
    sign_in(moderator, world.moderator)
    item = open_card(moderator, site, world.now_id)
    moderator.wait_for_function(CONNECTED)
    moderator.evaluate(MARK)
    new_page(f"/events/{world.slug}").wait_for_function(CONNECTED)
    presence = moderator.locator(f'[data-presence-event="{world.event_id}"]')
    # A page the moderator left closes its socket; on a loaded machine the server may take
    # some seconds to see it go (once, beside a second test run, it still counted 3 after 5 s).
    expect(presence).to_have_text("Connected: 2", timeout=20_000)
    item.get_by_role("button", name="Go live").click()
    expect(item.locator("[data-result]")).to_have_text("Done.")
    expect(item.locator('[data-badge="status"]')).to_have_text("live")
    expect(item.get_by_role("button", name="Go live")).to_be_disabled()
    assert moderator.evaluate(NOT_RELOADED), "the console fell back to posting its form"


def test_console_works_without_javascript(site, new_page):
    world = site.world
    moderator = new_page(javascript=False)
    sign_in(moderator, world.moderator)
    open_card(moderator, site, world.now_id).get_by_role("button", name="Hybrid").click()
    expect(moderator.locator(".flash")).to_have_text("Opening plenary: hybrid.")
    expect(moderator.locator(f"#s{world.now_id} [data-badge='mode']")).to_have_text("hybrid")
    # Ending asks on a page of its own, then ends.
    open_card(moderator, site, world.ready_id).get_by_role("button", name="End").click()
    expect(moderator.locator("main")).to_contain_text("“Twin towns online” ends now.")
    moderator.get_by_role("button", name="Yes, end it").click()
    expect(moderator.locator(".flash")).to_have_text("Twin towns online: ended.")
    organizer = new_page(javascript=False)
    sign_in(organizer, world.organizer)
    organizer.get_by_label("Whole event").select_option("online")
    organizer.get_by_role("button", name="Switch the whole event…").click()
    expect(organizer.locator("main")).to_contain_text("3 sessions move online.")
    organizer.get_by_role("button", name="Yes, move 3 sessions").click()
    expect(organizer.locator(".flash")).to_have_text("3 sessions moved: online.")
