"""Translations: complete catalogs, no English left on a Russian or German page, kept choice."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.browser.world import TRANSLATIONS
from tests.eventhub.test_pages import open_page, pages, world  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ENGLISH_DATES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
                 "January", "February", "March", "April", "June", "July", "August", "September",
                 "October", "November", "December")  # fmt: skip


def catalog(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        return read_po(po_file)


def source_ids() -> set[str]:
    """Every msgid in the templates and Python code, as ``pybabel extract -F babel.cfg`` finds."""
    method_map = [("eventhub/**.py", "python"), ("templates/**.html", "jinja2")]
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, keywords={"_": None, "gettext": None,
                                             "ngettext": (1, 2), "lazy_gettext": None}):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
def test_catalog_complete_and_consistent(lang):
    messages = [m for m in catalog(lang) if m.id]
    assert not catalog(lang).fuzzy
    ids = set()
    for message in messages:
        ident = message.id[0] if isinstance(message.id, tuple) else message.id
        ids.add(ident)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), f"{lang}: empty msgstr for {ident!r}"
        assert not message.fuzzy, f"{lang}: fuzzy {ident!r}"
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(ident)), ident
    assert source_ids() <= ids, f"{lang}: untranslated {sorted(source_ids() - ids)}"


def visible_text(page: str) -> str:
    """What a reader sees or hears: text and the labelling attributes, without scripts."""
    page = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S)
    attrs = re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', page)
    text = re.sub(r"<[^>]+>", " ", page)
    return html_lib.unescape(" ".join([text, *attrs]))


def script_text(page: str) -> str:
    """The translated labels a page's script shows later."""
    match = re.search(r'<script type="application/json" id="live-config">(.*?)</script>', page,
                      flags=re.S)
    if not match:
        return ""
    values: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, str):
            values.append(node)

    walk(json.loads(match.group(1))["labels"])
    return " ".join(values)


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


@pytest.mark.parametrize("lang", ["ru", "de"])
def test_no_english_left_on_any_page(app, world, lang):  # noqa: F811
    for name, (who, path) in pages(world).items():
        response = open_page(app, world, who, path, lang)
        if response.status_code == 302:
            continue
        page = response.get_data(as_text=True)
        assert english_leftovers(visible_text(page), lang) == [], name
        assert english_leftovers(script_text(page), lang) == [], name


def test_dates_and_times_follow_the_locale(app, world):  # noqa: F811
    client = app.test_client()
    ru = client.get(f"/events/{world.slug}?lang=ru").get_data(as_text=True)
    assert re.search(r"\d{1,2} (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|"
                     r"октября|ноября|декабря) \d{4}", ru)
    en = client.get(f"/events/{world.slug}?lang=en").get_data(as_text=True)
    assert re.search(r"\d{1,2}:\d{2}\s?[AP]M", en)  # English: 12-hour clock
    assert not re.search(r"\d{1,2}:\d{2}\s?[AP]M", ru)


def test_language_choice_is_kept_in_the_session(client, world):  # noqa: F811
    assert '<html lang="de">' in client.get("/login?lang=de").get_data(as_text=True)
    assert '<html lang="de">' in client.get(f"/events/{world.slug}").get_data(as_text=True)
    assert "Anmelden" in client.get("/login").get_data(as_text=True)


def test_browser_language_when_nothing_chosen(client, world):  # noqa: F811
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in page.get_data(as_text=True)


def test_error_pages_are_translated(client):
    page = client.get("/sessions/424242?lang=ru").get_data(as_text=True)
    assert "Такой страницы нет." in page and "not found" not in page
