"""Browser tests: Debian's chromium driven by Playwright against a server started by the test.

No browser is downloaded (``playwright install`` is not used): the tests launch
``/usr/bin/chromium``, which ``make test`` installs with apt when it is missing. Without it they
are skipped, unless ``EVENTHUB_REQUIRE_SERVICES=1``, which turns the skip into a failure.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from eventhub.extensions import db
from tests.browser.world import World, build_world, compile_translations
from tests.conftest import password_hash

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PHONE = {"width": 390, "height": 844}

compile_translations()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless chromium for the run."""
    if not os.path.exists(CHROMIUM):
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium; make test does it)"
        if os.environ.get("EVENTHUB_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Join notices scanned often, so a test sees them within a second."""
    app_config.update({"LIVE_JOIN_SCAN_SECONDS": 0.5, "LIVE_PRESENCE_SECONDS": 0.2})
    return app_config


@dataclass
class Site:
    """A running server with the test conference."""

    app: Flask
    url: str
    world: World


@contextlib.contextmanager
def served(app: Flask, data=None, name: str = "browser-site") -> Iterator[Site]:
    """Serve ``app`` on 127.0.0.1:<free port> in a thread; its own address is its pages'
    origin (the only one /live accepts). Stopped, with the live tasks, on leaving."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.port}"
    app.config["EVENTHUB_BASE_URL"] = url
    try:
        yield Site(app, url, data)
    finally:
        from eventhub import live

        live.shutdown(app)
        server.shutdown()
        server.server_close()
        thread.join(5)
        with app.app_context():
            db.session.remove()


@pytest.fixture
def site(app: Flask) -> Iterator[Site]:
    """The test app with :func:`build_world`'s conference, served on 127.0.0.1:<free port>."""
    with app.app_context():
        world = build_world(password_hash("secret-pw-1"))
    with served(app, world) as running:
        yield running


@pytest.fixture
def new_page(browser, site: Site) -> Iterator:
    """Open pages in fresh browser contexts (separate cookies), closed after the test."""
    contexts = []

    def open_page(path: str = "/", *, phone: bool = False, timezone: str = "Europe/Berlin",
                  javascript: bool = True, csp: bool = False):
        # Playwright evaluates string predicates (wait_for_function) with eval, which the
        # pages' Content-Security-Policy forbids; test_browser_csp.py runs under it (csp=True).
        context = browser.new_context(
            viewport=PHONE if phone else {"width": 1280, "height": 900},
            timezone_id=timezone, locale="en-US", base_url=site.url,
            java_script_enabled=javascript, bypass_csp=not csp)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(path)
        return page

    yield open_page
    for context in contexts:
        context.close()
