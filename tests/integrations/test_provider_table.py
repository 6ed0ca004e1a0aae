"""The README's provider table is generated from the providers' declarations."""

from __future__ import annotations

from integrations.registry import PROVIDERS, provider_table_markdown


def test_table_names_every_provider_and_variable():
    """One row per provider; every required, optional and base-URL variable appears."""
    table = provider_table_markdown()
    rows = table.strip().splitlines()[2:]
    assert len(rows) == len(PROVIDERS)
    for name, cls in PROVIDERS.items():
        row = next(r for r in rows if f"| `{name}` |" in r)
        for var in (*cls.required, *cls.optional, *cls.base_urls):
            assert f"`{var}`" in row
        for var in cls.secrets:
            assert f"`{var}` (secret)" in row


def test_readme_shows_the_generated_table():
    """The README's table is the generated one, so it cannot drift from the code."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert provider_table_markdown().strip() in readme
