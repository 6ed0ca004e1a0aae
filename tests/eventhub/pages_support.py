"""What the page tests share: the conference they browse (``world``), every page and how to
open it as whom, sign-in, and the readers of a page's text, structure and colours."""

from __future__ import annotations

import html as html_lib
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

from eventhub.extensions import db
from eventhub.models import Session
from tests.browser.world import PASSWORD, TRANSLATIONS, World, compile_translations

compile_translations()

LANGS = ("ru", "de", "en")


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def login(client, email: str) -> None:
    token = csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def local_day(app, session_id: int) -> str:
    """The day (in the event's zone) a session is on, for the board's ``?day=``."""
    from zoneinfo import ZoneInfo

    with app.app_context():
        event_session = db.session.get(Session, session_id)
        return event_session.starts_at.astimezone(ZoneInfo(event_session.event.timezone)
                                                  ).date().isoformat()


def session_ids(html: str) -> set[int]:
    return {int(value) for value in re.findall(r'data-session-id="(\d+)"', html)}


def pages(world: World) -> dict[str, tuple[str | None, str]]:
    """Every page: (who is signed in: None, "participant" or an e-mail, path)."""
    return {
        "index": (None, "/events"),
        "programme": (None, f"/events/{world.slug}"),
        "programme-track": (None, f"/events/{world.slug}?track=Kultur"),
        "session": (None, f"/sessions/{world.now_id}"),
        "session-participant": ("participant", f"/sessions/{world.ready_id}"),
        "join-wait": (None, f"/join/{world.soon_id}?t={world.anna_token}"),
        "agenda": ("participant", f"/p/{world.anna_token}"),
        "login": (None, "/login"),
        "console-organizer": (world.organizer, "/console"),
        "console-moderator": (world.moderator, "/console"),
        "event-switch": (world.organizer, f"/console/events/{world.event_id}/switch?mode=online"),
        "invitations": (world.organizer, f"/manage/events/{world.event_id}/invitations"),
        "reminders": (world.organizer, f"/manage/events/{world.event_id}/invitations/reminders"),
        "not-found": (None, "/sessions/999999"),
    }


def open_page(app, world: World, who: str | None, path: str, lang: str):
    """A fresh client signed in as ``who``, and the page's response in ``lang``."""
    client = app.test_client()
    if who == "participant":
        client.get(f"/p/{world.anna_token}")
    elif who:
        login(client, who)
    if path == "/events":
        path = "/"
    separator = "&" if "?" in path else "?"
    return client.get(f"{path}{separator}lang={lang}")


CSS = Path(__file__).resolve().parents[2] / "eventhub" / "static" / "style.css"


def custom_properties() -> dict[str, str]:
    """The ``--name: #rrggbb`` declarations of the stylesheet's ``:root``."""
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(), flags=re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root))


class Structure(HTMLParser):
    """Collects what the checks below need from a page."""

    def __init__(self) -> None:
        super().__init__()
        self.labels: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.h1 = 0
        self.open_button: dict | None = None
        self.empty_buttons: list[str] = []
        self.navs_without_label = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        values = dict(attrs)
        if tag == "label" and values.get("for"):
            self.labels.add(values["for"])
        if tag in ("input", "select", "textarea") and values.get("type") != "hidden":
            self.controls.append(values)
        if tag == "h1":
            self.h1 += 1
        if tag == "nav" and not values.get("aria-label"):
            self.navs_without_label += 1
        if tag == "button":
            self.open_button = {"text": "", "attrs": values}

    def handle_data(self, data: str) -> None:
        if self.open_button is not None:
            self.open_button["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self.open_button is not None:
            if not self.open_button["text"].strip() and not self.open_button["attrs"].get(
                    "aria-label"):
                self.empty_buttons.append(str(self.open_button["attrs"]))
            self.open_button = None


PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ENGLISH_DATES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
                 "January", "February", "March", "April", "June", "July", "August", "September",
                 "October", "November", "December")  # fmt: skip


def catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file)


def visible_text(page: str) -> str:
    """What a reader sees or hears: text and the labelling attributes, without scripts."""
    page = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    attrs = re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html_lib.unescape(" ".join([text, *attrs]))


def english_leftovers(text: str, lang: str) -> list[str]:
    """English UI strings (translated differently in ``lang``) found in ``text``."""
    found = []
    for message in catalog(lang):
        if not message.id or isinstance(message.id, tuple):
            continue
        if message.string == message.id or PLACEHOLDER.search(message.id):
            continue
        if re.search(rf"(?<!\w){re.escape(message.id)}(?!\w)", text):
            found.append(message.id)
    same_in_german = {"April", "August", "September", "November"}
    found += [word for word in ENGLISH_DATES if re.search(rf"\b{word}\b", text)
              and not (lang == "de" and word in same_in_german)]
    return found
