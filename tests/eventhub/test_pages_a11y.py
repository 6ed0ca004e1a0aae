"""Accessibility checks that need no browser: colour contrast from the CSS, labels, structure."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.eventhub.test_pages import open_page, pages, world  # noqa: F401  (fixture)

CSS = Path(__file__).resolve().parents[2] / "eventhub" / "static" / "style.css"

# (foreground, background, minimum): WCAG 2.1 AA, 4.5:1 for text, 3:1 for non-text (1.4.11).
TEXT_PAIRS = [
    ("fg", "bg"), ("muted", "bg"), ("accent", "bg"), ("error", "bg"), ("ok", "bg"),
    ("fg", "surface"), ("error", "surface"), ("muted", "surface"),
    ("accent-fg", "accent"), ("secondary-fg", "secondary-bg"), ("muted", "secondary-bg"),
    ("danger-fg", "danger-bg"), ("badge-fg", "badge-bg"),
    ("live-fg", "live-bg"), ("paused-fg", "paused-bg"), ("delayed-fg", "delayed-bg"),
    ("cancelled-fg", "cancelled-bg"), ("ended-fg", "ended-bg"),
    ("online-fg", "online-bg"), ("hybrid-fg", "hybrid-bg"),
]  # fmt: skip
NON_TEXT_PAIRS = [("focus", "bg"), ("focus", "surface"), ("border", "bg"), ("accent-fg", "accent")]


def custom_properties() -> dict[str, str]:
    """The ``--name: #rrggbb`` declarations of the stylesheet's ``:root``."""
    root = re.search(r":root\s*\{(.*?)\}", CSS.read_text(), flags=re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})\s*;", root))


def luminance(colour: str) -> float:
    """Relative luminance of an sRGB colour (WCAG 2.1 definition)."""
    channels = []
    for index in (1, 3, 5):
        value = int(colour[index:index + 2], 16) / 255
        channels.append(value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: str, second: str) -> float:
    """The contrast ratio of two colours, 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_contrast_function_matches_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("pairs", "minimum"), [(TEXT_PAIRS, 4.5), (NON_TEXT_PAIRS, 3.0)])
def test_colour_pairs_meet_wcag_aa(pairs, minimum):
    colours = custom_properties()
    weak = {f"{fg} on {bg}": round(contrast(colours[fg], colours[bg]), 2) for fg, bg in pairs
            if contrast(colours[fg], colours[bg]) < minimum}
    assert weak == {}


def test_every_colour_is_a_checked_custom_property():
    css = CSS.read_text()
    outside_root = re.sub(r":root\s*\{.*?\}", "", css, count=1, flags=re.S)
    assert not re.findall(r"#[0-9a-fA-F]{3,6}\b", outside_root), "colours belong in :root"
    used = set(re.findall(r"var\(--([\w-]+)\)", css))
    assert used <= set(custom_properties())
    checked = {name for pair in TEXT_PAIRS + NON_TEXT_PAIRS for name in pair}
    assert set(custom_properties()) <= checked, "add new colours to the pairs above"


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


def test_pages_are_labelled_and_structured(app, world):  # noqa: F811
    for name, (who, path) in pages(world).items():
        response = open_page(app, world, who, path, "en")
        if response.status_code == 302:
            continue
        page = response.get_data(as_text=True)
        parser = Structure()
        parser.feed(page)
        unlabelled = [c for c in parser.controls
                      if c.get("id") not in parser.labels and not c.get("aria-label")]
        assert unlabelled == [], name
        assert parser.empty_buttons == [], name
        assert parser.h1 == 1, name
        assert parser.navs_without_label == 0, name
        assert 'class="skip" href="#main"' in page and 'id="main"' in page


def test_phone_layout_rules_exist():
    css = CSS.read_text()
    assert "@media (max-width: 40rem)" in css
    assert ":focus-visible" in css and "outline" in css
    assert "min-height: 2.75rem" in css  # touch targets of 44 CSS px
