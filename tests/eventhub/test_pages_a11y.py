"""Accessibility checks that need no browser: colour contrast from the CSS, labels, structure."""

from __future__ import annotations

import re

import pytest
from pages_support import (
    CSS,
    Structure,
    custom_properties,
    open_page,
    pages,
)

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


def test_pages_are_labelled_and_structured(app, world):
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
