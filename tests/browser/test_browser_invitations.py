"""In a real browser: an organizer runs the invitation round of a delegation pair end to end,
the invitees answer from the links in their mails, and the table and reminders follow.
Screenshots of the pages in ru, de and en on a phone go to tests/artifacts/."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.models import AgendaItem, OutboxMail, Participant, Session
from eventhub.services import demo, mail
from tests.browser.conftest import ARTIFACTS, PHONE, Site, served

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


# -- the founding case end to end, on the demo conference --------------------------------------


@pytest.fixture
def demo_round(app_config, smtp) -> Iterator[Site]:
    """The demo conference from tomorrow (every session ahead, whatever the hour), mail to
    aiosmtpd on 127.0.0.1, the mail scan running in the background as in `make run`."""
    from eventhub import create_app
    from eventhub.services import mail_pump, provisioning
    from tests.conftest import close_app

    app = create_app({**app_config, "SMTP_URL": smtp.url, "MAIL_BURST_SECONDS": 0,
                      "MAIL_SCAN_SECONDS": 0.3})
    with app.app_context():
        db.create_all()
        result = demo.seed_demo(demo.demo_start_date() + timedelta(days=1))
        provisioning.dispatcher().wait(30)
    mail_pump.start(app)
    try:
        with served(app, result, "round-site") as running:
            yield running
    finally:
        close_app(app)  # the mail pump too


def outbox_settled(site) -> bool:
    """Nothing collecting or waiting in the outbox: every mail made so far was handed over."""
    with site.app.app_context():
        busy = db.session.scalar(select(func.count()).select_from(OutboxMail).where(
            OutboxMail.state.in_(("collecting", "pending"))))
        db.session.remove()
        return busy == 0


def kinds_by_id(site) -> dict[str, str]:
    """Message-ID -> outbox kind."""
    with site.app.app_context():
        rows = dict(db.session.execute(select(OutboxMail.message_id, OutboxMail.kind)).all())
        db.session.remove()
        return rows


def received(site, smtp, kind: str, since: set[str] = frozenset()) -> dict[str, list]:
    """The mails of ``kind`` (by the outbox's record) aiosmtpd has, not in ``since``."""
    kinds = kinds_by_id(site)
    found: dict[str, list] = {}
    for message in smtp.parsed():
        if message["Message-ID"] not in since and kinds.get(message["Message-ID"]) == kind:
            found.setdefault(message["To"].addresses[0].addr_spec, []).append(message)
    return found


def context_page(browser, site, *, phone: bool = False, lang: str = "en"):
    context = browser.new_context(viewport=PHONE if phone else {"width": 1280, "height": 900},
                                  locale="en-US", base_url=site.url, bypass_csp=True,
                                  timezone_id="Europe/Berlin")
    context.set_default_timeout(15_000)
    return context, context.new_page()


def test_the_demo_invitation_round_and_the_switch_online_end_to_end(browser, demo_round, smtp):
    """The founding case as an organizer runs it: invite the delegation pair still on the list,
    remind those who have not answered, an invitee accepts remotely from the link in their mail
    and picks a session; then the whole conference moves online, and every remote attendee of a
    session that day gets exactly one mail with their EventHub join links, and the join link
    when the window opens."""
    site = demo_round
    event_id = site.world.event_id
    wait_for(lambda: outbox_settled(site), 60, "the demo's own mails")
    seeded = {m["Message-ID"] for m in smtp.parsed()}
    contexts = []
    try:
        context, organizer = context_page(browser, site)
        contexts.append(context)
        organizer.goto("/login?lang=en")
        organizer.locator("#email").fill(demo.ORGANIZER[0])
        organizer.locator("#password").fill(demo.ORGANIZER[1])
        organizer.locator("main button[type=submit]").click()
        organizer.wait_for_url("**/console")

        # The pair still on the association's list: Kaliningrad and its twin city Kiel.
        organizer.goto(f"/manage/events/{event_id}/invitations?lang=en")
        kiel = organizer.locator("table.delegations tbody tr").filter(
            has=organizer.locator('th:text-is("Stadt Kiel")'))
        expect(kiel.locator("td")).to_have_text(
            ["Администрация г. Калининград", "2", "0", "0", "2", "0", "0", "2"])
        organizer.locator("#delegation-organization").select_option("Stadt Kiel")
        organizer.locator("#delegation_message").fill("Добро пожаловать! Willkommen!")
        organizer.get_by_role("button", name="Send the invitations").first.click()
        expect(organizer.locator(".flash")).to_contain_text("4 invitations sent.")
        pair = wait_for(lambda: (found := received(site, smtp, "invitation", seeded))
                        and len(found) == 4 and found, what="the pair's four invitations")
        assert all(len(items) == 1 for items in pair.values())
        expect(kiel.locator("td")).to_have_count(8)
        organizer.reload()
        expect(kiel.locator("td").last).to_have_text("0")  # nothing left unsent

        # Reminders: to everyone invited by mail who has not answered, nobody else.
        with site.app.app_context():
            silent = set(db.session.scalars(select(Participant.email).where(
                Participant.event_id == event_id, Participant.invitation_status == "invited",
                Participant.invited_at.is_not(None))))
            db.session.remove()
        assert len(silent) > 4
        organizer.get_by_role("link", name=re.compile(f"Remind {len(silent)} people")).click()
        organizer.get_by_role("button", name=f"Yes, remind {len(silent)} people").click()
        expect(organizer.locator(".flash")).to_contain_text(f"{len(silent)} reminders sent.")
        reminded = wait_for(lambda: (found := received(site, smtp, "reminder"))
                            and len(found) == len(silent) and found, what="the reminders")
        assert set(reminded) == silent and all(len(items) == 1 for items in reminded.values())
        assert all(items[0]["List-Unsubscribe"] for items in reminded.values())

        # Kiel's delegate accepts remotely from his invitation, on his phone, in German, and
        # adds the opening to his agenda.
        delegate = next(email for email, items in pair.items()
                        if demo.DE_DELEGATES[-1] in str(items[0]["To"]))
        link = personal_link(pair[delegate][0], site)
        context, invitee = context_page(browser, site, phone=True)
        contexts.append(context)
        invitee.goto(link + "?lang=de")
        shoot(invitee, "round-invitation-answer-de-390")
        invitee.get_by_label("Aus der Ferne, per Videolink").check()
        invitee.get_by_role("button", name="Zusagen").click()
        expect(invitee.locator(".invitation")).to_contain_text("Ihre Teilnahme: aus der Ferne.")
        opening = demo.PROGRAMME[0].de
        invitee.locator("#more-region li", has_text=opening).get_by_role("button").click()
        expect(invitee.locator("#agenda-region")).to_contain_text(opening)
        shoot(invitee, "round-invitation-accepted-de-390")
        invitee.goto(link + "?lang=ru")
        shoot(invitee, "round-invitation-accepted-ru-390")
        invitee.set_viewport_size({"width": 1280, "height": 900})
        shoot(invitee, "round-invitation-accepted-ru-1280")
        confirmed = wait_for(lambda: received(site, smtp, "confirmation", seeded),
                             what="the confirmation")
        assert list(confirmed) == [delegate]
        organizer.reload()
        expect(kiel.locator("td")).to_have_text(
            ["Администрация г. Калининград", "2", "1", "0", "1", "0", "1", "0"])
        for lang in ("ru", "de"):
            organizer.goto(f"/manage/events/{event_id}/invitations?lang={lang}")
            shoot(organizer, f"round-delegations-{lang}-1280")
            organizer.set_viewport_size(PHONE)
            shoot(organizer, f"round-delegations-{lang}-390")
            organizer.set_viewport_size({"width": 1280, "height": 900})

        # The whole conference moves online, from the board.
        wait_for(lambda: outbox_settled(site), 30, "the round's mails")
        before = {m["Message-ID"] for m in smtp.parsed()}
        first_day = demo.demo_start_date() + timedelta(days=1)
        organizer.goto(f"/console?event={event_id}&day={first_day.isoformat()}&lang=en")
        organizer.locator("#es-mode").select_option("online")
        organizer.get_by_role("button", name="Switch the whole event…").click()
        dialog = organizer.locator("dialog[data-confirm]")
        dialog.get_by_role("button", name=re.compile(r"Yes, move \d+ sessions")).click()
        expect(organizer.locator(".flash")).to_contain_text("sessions moved: online.")

        with site.app.app_context():
            zone = ZoneInfo(demo.TIMEZONE)
            moved = {s.id: s for s in db.session.scalars(select(Session).where(
                Session.event_id == event_id, Session.mode == "online"))}
            assert len(moved) == len(demo.PROGRAMME)
            follows = db.session.execute(
                select(Participant.email, Participant.token_digest, Participant.attendance,
                       AgendaItem.session_id).join(AgendaItem)
                .where(Participant.invitation_status != "declined",
                       Participant.mail_opt_out.is_(False))).all()
            day_one = {sid for sid, s in moved.items()
                       if s.expected_starts_at.astimezone(zone).date() == first_day}
            expected: dict[str, set[int]] = {}
            for email, _digest, _attendance, session_id in follows:
                expected.setdefault(email, set()).add(session_id)
            remote_day_one = {email for email, _d, attendance, sid in follows
                              if attendance == "remote" and sid in day_one}
            tokens = {p.email: p for p in db.session.scalars(select(Participant).where(
                Participant.email.in_(list(expected))))}
            join_url_of = {email: {sid: f"{site.url}/join/{sid}?t={p.token}"
                                   for sid in expected[email]} for email, p in tokens.items()}
            db.session.remove()
        assert delegate in remote_day_one and len(remote_day_one) >= 5
        wait_for(lambda: sum(len(v) for v in received(site, smtp, "change", before).values())
                 >= len(expected) and outbox_settled(site), 60, "the change notices")
        notices = received(site, smtp, "change", before)
        assert set(notices) == set(expected)
        assert all(len(items) == 1 for items in notices.values())  # one per person, not session
        for email in remote_day_one:
            [message] = notices[email]
            text = message.get_body(("plain",)).get_content()
            for url in join_url_of[email].values():
                assert url in text  # EventHub's own link, with their token
            calendars = [part.get_content() for part in message.iter_attachments()
                         if part.get_content_type() == "text/calendar"]
            assert len(calendars) == len(expected[email])
            for part in (text, message.get_body(("html",)).get_content(), *calendars):
                content = part.decode() if isinstance(part, bytes) else part
                assert "meet.jit.si" not in content  # never the provider's room

        # The first session's join window opens: its remote attendees get their link, once.
        with site.app.app_context():
            first = min((moved[sid] for sid in day_one), key=lambda s: s.starts_at)
            first = db.session.get(Session, first.id)
            opens = first.expected_starts_at - timedelta(minutes=first.event.join_window_minutes)
            assert mail.queue_join_links(opens + timedelta(seconds=1)) > 0
            assert mail.queue_join_links(opens + timedelta(minutes=1)) == 0
            first_id = first.id
            db.session.remove()
        remote_first = {email for email, _d, attendance, sid in follows
                        if attendance == "remote" and sid == first_id}
        assert delegate in remote_first
        joins = wait_for(lambda: (found := received(site, smtp, "join"))
                         and len(found) == len(remote_first) and found, 30, "the join links")
        assert set(joins) == remote_first
        for email, items in joins.items():
            [message] = items
            text = message.get_body(("plain",)).get_content()
            assert join_url_of[email][first_id] in text and "meet.jit.si" not in text
    finally:
        for context in contexts:
            context.close()
