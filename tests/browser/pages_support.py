"""What browser tests share: signing in through the form, opening a board card, and the page
marks that show a page was updated live rather than reloaded."""

from __future__ import annotations

MARK = "window.__eventhubNoReload = true"
NOT_RELOADED = "window.__eventhubNoReload === true"
CONNECTED = "document.documentElement.dataset.live === 'connected'"


def sign_in(page, email: str, password: str = "secret-pw-1", lang: str = "en") -> None:
    """Sign in through the form, as a person would (the form's fields by their ids)."""
    page.goto(f"/login?lang={lang}")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/console")


def open_card(page, site, session_id: int):
    """The board on the session's day, with the session's card opened (its actions in place)."""
    from zoneinfo import ZoneInfo

    from eventhub.extensions import db
    from eventhub.models import Session

    with site.app.app_context():
        event_session = db.session.get(Session, session_id)
        day = event_session.starts_at.astimezone(ZoneInfo(event_session.event.timezone)).date()
    page.goto(f"/console?day={day.isoformat()}")
    item = page.locator(f"#s{session_id}")
    item.locator("summary").click()
    return item
