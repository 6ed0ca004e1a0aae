"""Translations: complete catalogs, no English left on a Russian or German page, kept choice."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from pages_support import (
    PLACEHOLDER,
    catalog,
    english_leftovers,
    open_page,
    pages,
    visible_text,
)

ROOT = Path(__file__).resolve().parents[2]






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


@pytest.mark.parametrize("lang", ["ru", "de"])
def test_no_english_left_on_any_page(app, world, lang):
    for name, (who, path) in pages(world).items():
        response = open_page(app, world, who, path, lang)
        if response.status_code == 302:
            continue
        page = response.get_data(as_text=True)
        assert english_leftovers(visible_text(page), lang) == [], name
        assert english_leftovers(script_text(page), lang) == [], name


def test_dates_and_times_follow_the_locale(app, world):
    client = app.test_client()
    ru = client.get(f"/events/{world.slug}?lang=ru").get_data(as_text=True)
    assert re.search(r"\d{1,2} (января|февраля|марта|апреля|мая|июня|июля|августа|сентября|"
                     r"октября|ноября|декабря) \d{4}", ru)
    en = client.get(f"/events/{world.slug}?lang=en").get_data(as_text=True)
    assert re.search(r"\d{1,2}:\d{2}\s?[AP]M", en)  # English: 12-hour clock
    assert not re.search(r"\d{1,2}:\d{2}\s?[AP]M", ru)


def test_language_choice_is_kept_in_the_session(client, world):
    assert '<html lang="de">' in client.get("/login?lang=de").get_data(as_text=True)
    assert '<html lang="de">' in client.get(f"/events/{world.slug}").get_data(as_text=True)
    assert "Anmelden" in client.get("/login").get_data(as_text=True)


def test_browser_language_when_nothing_chosen(client, world):
    page = client.get("/login", headers={"Accept-Language": "ru-RU,ru;q=0.9"})
    assert '<html lang="ru">' in page.get_data(as_text=True)


def test_error_pages_are_translated(client):
    page = client.get("/sessions/424242?lang=ru").get_data(as_text=True)
    assert "Такой страницы нет." in page and "not found" not in page


def test_feed_words_come_from_the_catalogue_in_the_feeds_language_not_the_requests(app):
    from eventhub.services import feeds

    with app.test_request_context("/?lang=ru", headers={"Accept-Language": "ru"}):
        german = feeds.labels("de")
        russian = feeds.labels("ru")
    assert german == {"online": "Online", "join": "Online teilnehmen", "page": "Sitzungsseite",
                      "agenda": "meine Agenda"}
    assert russian["join"] == "Подключиться онлайн" and russian["agenda"] == "моя программа"
