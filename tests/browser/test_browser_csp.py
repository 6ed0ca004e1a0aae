"""In a real browser the Content-Security-Policy blocks nothing of ours: no violation on the
pages, and /live still connects (connect-src 'self' covers the same-origin WebSocket)."""

from __future__ import annotations

from playwright.sync_api import expect

WATCH = """() => { window.__violations = [];
  document.addEventListener('securitypolicyviolation',
    e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI)); }"""


def connected(page) -> None:
    """/live connected (a locator: no eval, which the policy forbids)."""
    expect(page.locator("html")).to_have_attribute("data-live", "connected")


def test_pages_run_under_the_policy_without_violations(site, new_page):
    world = site.world
    paths = ["/", f"/events/{world.slug}", f"/sessions/{world.now_id}", f"/p/{world.anna_token}",
             "/login"]
    for path in paths:
        page = new_page("about:blank", csp=True)
        messages: list[str] = []
        page.on("console", lambda m, messages=messages: messages.append(m.text))
        page.add_init_script(f"({WATCH})()")
        page.goto(path)
        if path != "/login":
            connected(page)
        assert page.evaluate("window.__violations") == [], path
        assert not [m for m in messages if "Content Security Policy" in m], (path, messages)
    console = new_page("about:blank", csp=True)
    console.add_init_script(f"({WATCH})()")
    console.goto("/login")
    console.locator("#email").fill(world.moderator)
    console.locator("#password").fill("secret-pw-1")
    console.locator("main button[type=submit]").click()
    console.wait_for_url("**/console")
    connected(console)
    assert console.evaluate("window.__violations") == []
