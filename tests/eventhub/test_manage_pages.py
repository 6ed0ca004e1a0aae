"""Every back-office page in ru, de and en: it renders, each control has a label, no English
is left on a Russian or German page, and the stylesheet uses only the checked colours."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pages_support import Structure, custom_properties, english_leftovers, visible_text

from tests.eventhub.manage_support import manage_pages, sign_in, world_ids

STATIC = Path(__file__).resolve().parents[2] / "eventhub" / "static"


@pytest.fixture
def pages(app):
    world, room_id, participant_id, _user_id = world_ids(app)
    return manage_pages(world, room_id, participant_id)


@pytest.mark.parametrize("lang", ["ru", "de", "en"])
def test_every_page_renders_labelled_and_translated(app, pages, lang):
    organizer = sign_in(app)
    for name, path in pages.items():
        response = organizer.get(f"{path}?lang={lang}")
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        assert f'<html lang="{lang}">' in html
        assert 'manage.css' in html, name
        parser = Structure()
        parser.feed(html)
        unlabelled = [c for c in parser.controls
                      if c.get("id") not in parser.labels and not c.get("aria-label")]
        assert unlabelled == [], name
        assert parser.h1 == 1, name
        assert parser.empty_buttons == [], name
        assert parser.navs_without_label == 0, name
        if lang != "en":
            assert english_leftovers(visible_text(html), lang) == [], name


def test_no_inline_script_or_style(app, pages):
    """A Content-Security-Policy without 'unsafe-inline' must not break any page."""
    organizer = sign_in(app)
    for name, path in pages.items():
        html = organizer.get(path).get_data(as_text=True)
        assert " style=" not in html, name
        assert "<style" not in html, name
        for script in re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S):
            attrs, body = script
            assert "src=" in attrs or 'type="application/json"' in attrs or not body.strip(), name
        assert not re.search(r"\son[a-z]+=", html), name  # no onclick= and the like


def test_back_office_styles_use_only_checked_colours():
    css = (STATIC / "manage.css").read_text()
    assert not re.findall(r"#[0-9a-fA-F]{3,6}\b|rgb|hsl", css), "colours belong in style.css"
    assert set(re.findall(r"var\(--([\w-]+)\)", css)) <= set(custom_properties())


def test_the_menu_lists_every_section_of_this_branch(app, pages):
    organizer = sign_in(app)
    html = organizer.get(pages["event-settings"]).get_data(as_text=True)
    for section in ("/manage/users", "/rooms", "/programme", "/participants"):
        assert section in html
