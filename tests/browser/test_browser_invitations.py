"""In a real browser: an organizer runs the invitation round of a delegation pair end to end,
the invitees answer from the links in their mails, and the table and reminders follow.
Screenshots of the pages in ru, de and en on a phone go to tests/artifacts/."""

from __future__ import annotations

import re
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, PHONE

LIST = """name,email,organization,partner_organization,language
Katja Kaluga,katja@example.org,Kaluga,Suhl,ru
Kolja Kaluga,kolja@example.org,Kaluga,Suhl,ru
Susanne Suhl,susanne@example.org,Suhl,Kaluga,de
Stefan Suhl,stefan@example.org,Suhl,Kaluga,de
Broken line,not-an-address,Suhl,Kaluga,de
"""


def wait_for(condition, timeout: float = 20.0, what: str = "condition"):
    """Poll ``condition`` until it returns something truthy (the mails are sent by a job)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def mails(site, kind: str) -> dict[str, list]:
    """The outbox's mails of one kind (its files end in ``-<kind>.eml``) by recipient."""
    found: dict[str, list] = {}
    for path in sorted(Path(site.app.config["MAIL_OUTBOX_DIR"]).glob(f"*-{kind}.eml")):
        mail = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        found.setdefault(mail["To"].addresses[0].addr_spec, []).append(mail)
    return found


def mails_when(site, kind: str, count: int) -> dict[str, list] | None:
    """The mails of ``kind`` by recipient once there are ``count`` of them, else None."""
    found = mails(site, kind)
    return found if sum(len(items) for items in found.values()) == count else None


def personal_link(mail, site) -> str:
    """The /p/<token> path in an invitation, on the test server."""
    text = mail.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"/p/[\w-]+", text).group(0)


def sign_in(page, email: str, lang: str = "en") -> None:
    page.goto(f"/login?lang={lang}")
    page.locator("#email").fill(email)
    page.locator("#password").fill("secret-pw-1")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/console")


def shoot(page, name: str) -> None:
    """No sideways scrolling on a phone; a full-page screenshot for review."""
    page.wait_for_load_state("load")
    if page.viewport_size["width"] == PHONE["width"]:
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{name} scrolls sideways: {width}px"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_invitation_round_of_a_delegation_pair(site, new_page):
    world = site.world
    organizer = new_page()
    sign_in(organizer, world.organizer)
    organizer.goto(f"/manage/events/{world.event_id}/invitations?lang=en")
    expect(organizer.locator("h1")).to_contain_text("Invitations")

    # A list of four, one line broken: the others go, the broken one is named.
    organizer.locator("#rows").fill(LIST)
    organizer.locator("#list_message").fill("Welcome to the partner cities conference")
    organizer.get_by_role("button", name="Send the invitations").last.click()
    expect(organizer.locator(".report")).to_contain_text("Line 6 · not-an-address")
    expect(organizer.locator(".flash")).to_contain_text("4 invitations sent. 4 people added.")

    # The whole pair: Anna and Boris, who were participants already, get theirs now.
    organizer.locator("#delegation-organization").select_option("Kaluga")
    organizer.get_by_role("button", name="Send the invitations").first.click()
    expect(organizer.locator(".flash")).to_contain_text("2 invitations sent.")
    inbox = wait_for(lambda: mails_when(site, "invitation", 6), what="six invitations")
    assert all(len(items) == 1 for items in inbox.values())  # one invitation each

    # Susanne accepts remotely from her mail's link; Stefan declines.
    susanne = new_page(personal_link(inbox["susanne@example.org"][0], site) + "?lang=de",
                       phone=True)
    shoot(susanne, "invitation-answer-de")
    susanne.get_by_label("Aus der Ferne, per Videolink").check()
    susanne.get_by_role("button", name="Zusagen").click()
    expect(susanne.locator(".invitation")).to_contain_text("Ihre Teilnahme: aus der Ferne.")
    stefan = new_page(personal_link(inbox["stefan@example.org"][0], site) + "?lang=de")
    stefan.get_by_role("button", name="Absagen").click()
    expect(stefan.locator(".invitation")).to_contain_text("abgelehnt")

    # The table follows; a reminder reaches the four who have not answered.
    organizer.goto(f"/manage/events/{world.event_id}/invitations?lang=en")
    suhl = organizer.locator("table.delegations tbody tr", has_text="Suhl").filter(
        has=organizer.locator('th:text-is("Suhl")'))
    expect(suhl.locator("td")).to_have_text(["Kaluga", "3", "1", "1", "1", "0", "1", "0"])
    organizer.get_by_role("link", name=re.compile("Remind 4 people")).click()
    expect(organizer.locator("main")).to_contain_text(
        "4 people have been invited and have not answered yet.")
    organizer.get_by_role("button", name="Yes, remind 4 people").click()
    expect(organizer.locator(".flash")).to_contain_text("4 reminders sent.")
    reminded = wait_for(lambda: mails_when(site, "reminder", 4), what="four reminders")
    assert wait_for(lambda: mails_when(site, "confirmation", 1)).keys() == {"susanne@example.org"}
    assert sorted(reminded) == ["anna@example.org", "boris@example.org", "katja@example.org",
                        "kolja@example.org"]


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
def test_invitation_pages_on_a_phone(site, new_page, lang):
    world = site.world
    organizer = new_page(phone=True)
    sign_in(organizer, world.organizer, lang=lang)
    organizer.goto(f"/manage/events/{world.event_id}/invitations?lang={lang}")
    assert organizer.evaluate("document.documentElement.lang") == lang
    shoot(organizer, f"invitations-{lang}")
    organizer.locator("#email").fill("broken")
    organizer.locator("#name").fill("Ivan")
    organizer.locator("form.invite-form button[type=submit]").first.click()
    expect(organizer.locator("#email")).to_have_attribute("aria-invalid", "true")
    shoot(organizer, f"invitations-refused-{lang}")
    organizer.goto(f"/manage/events/{world.event_id}/invitations/reminders?lang={lang}")
    shoot(organizer, f"invitation-reminders-{lang}")
    official = new_page(f"/p/{world.anna_token}?lang={lang}", phone=True)
    shoot(official, f"agenda-official-{lang}")
    organizer.set_viewport_size({"width": 1280, "height": 900})
    organizer.goto(f"/manage/events/{world.event_id}/invitations?lang={lang}")
    shoot(organizer, f"invitations-wide-{lang}")
