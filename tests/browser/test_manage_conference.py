"""The back office in chromium, as an organizer builds a conference from an empty database:
an event, its halls, a programme of a dozen sessions, a moderator, 200 participants from a
CSV with Cyrillic and German names. Each result is checked through the REST API."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from eventhub.extensions import db
from eventhub.models import User
from tests.browser.conftest import ARTIFACTS, Site, served
from tests.conftest import password_hash

ORGANIZER = "olga@kaluga.example"
HALLS = ("Большой зал", "Малый зал", "Saal Suhl", "Пресс-центр")
FIRST_NAMES = ["Анна", "Борис", "Ольга", "Дмитрий", "Jürgen", "Käthe", "Ölaf", "Günther",
               "Мария", "Sören"]
LAST_NAMES = ["Петрова", "Иванов", "Смирнова", "Groß", "Weiß", "Müller", "Кузнецов", "Schäfer"]
ORGANIZATIONS = [("Администрация Калуги", "Stadt Suhl"), ("Stadt Suhl", "Администрация Калуги"),
                 ("Администрация Пскова", "Stadt Neuss"), ("Stadt Neuss", "Администрация Пскова")]
ROLES = ["official", "delegate", "delegate", "speaker", "press", "guest"]


@pytest.fixture
def empty_site(app) -> Iterator[Site]:
    """An empty instance with one organizer account, served on 127.0.0.1:<free port>."""
    with app.app_context():
        db.session.add(User(email=ORGANIZER, role="organizer", name="Ольга",
                            password_hash=password_hash("secret-pw-1")))
        db.session.commit()
    with served(app, None, "manage-site") as running:
        yield running


@pytest.fixture
def organizer_page(browser, empty_site) -> Iterator:
    context = browser.new_context(bypass_csp=True,  # Playwright's waits use eval
                                  viewport={"width": 1366, "height": 900},
                                  timezone_id="Europe/Berlin", locale="ru-RU",
                                  base_url=empty_site.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"manage-build-{name}.png"), full_page=True)


def submit(page) -> None:
    page.locator("form.manage-form button[type=submit]").first.click()


def participants_csv(count: int) -> bytes:
    """``count`` participants, semicolon-separated with a BOM, as Excel saves them."""
    rng = random.Random(12)
    lines = ["name;email;organization;partner_organization;country;role;attendance;language"]
    for n in range(count):
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        organization, partner = ORGANIZATIONS[n % len(ORGANIZATIONS)]
        russian = "Администрация" in organization
        lines.append(";".join([
            name, f"person{n}@{'kaluga.ru' if russian else 'suhl.de'}", organization, partner,
            "RU" if russian else "DE", ROLES[n % len(ROLES)],
            "remote" if n % 3 == 0 else "in_person", "ru" if russian else "de"]))
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def api(site: Site, path: str, token: str):
    client = site.app.test_client()
    response = client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, path
    return response.json


def test_an_organizer_builds_the_conference_in_the_browser(empty_site, organizer_page):
    page = organizer_page
    start = date.today() + timedelta(days=30)
    days = [start + timedelta(days=n) for n in range(3)]

    # Sign in from the back office's address: the sign-in page sends the organizer back.
    page.goto("/manage?lang=ru")
    page.wait_for_url("**/login?next=**")
    page.locator("#email").fill(ORGANIZER)
    page.locator("#password").fill("secret-pw-1")
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/manage?lang=ru")
    page.get_by_role("link", name="Новое мероприятие").click()

    # The event.
    page.locator("#f-title-ru").fill("XVI Конференция городов-партнёров")
    page.locator("#f-title-de").fill("XVI. Konferenz der Partnerstädte")
    page.locator("#f-title-en").fill("XVI Conference of Partner Cities")
    page.locator("#f-slug").fill("partner-cities")
    page.locator("#f-start-date").fill(days[0].isoformat())
    page.locator("#f-end-date").fill(days[-1].isoformat())
    page.locator("#f-timezone").fill("Europe/Moscow")
    page.locator("#f-venue").fill("Калуга")
    page.locator("#f-published").check()
    shot(page, "event")
    submit(page)
    page.wait_for_url("**/rooms")

    # The halls.
    for index, hall in enumerate(HALLS):
        page.locator("#f-name").fill(hall)
        page.locator("#f-capacity").fill(str(300 - 50 * index))
        submit(page)
        page.wait_for_url("**/rooms")
    page.locator("form.room-form").first.locator("input[name=capacity]").fill("350")
    page.locator("form.room-form").first.get_by_role("button", name="Сохранить").click()
    page.wait_for_url("**/rooms")
    shot(page, "rooms")

    # A moderator account, to be assigned in a session form.
    page.goto("/manage/users")
    page.locator("#f-email").fill("max@suhl.example")
    page.locator("#f-name").fill("Max Müller")
    page.locator("#f-role").select_option("moderator")
    page.locator("#f-password").fill("moderator-pw-1")
    submit(page)
    page.wait_for_url("**/manage/users")
    shot(page, "users")

    # The programme: twelve sessions, each from a free slot of the grid.
    page.goto("/manage")
    event_id = int(page.locator("[data-event-id]").first.get_attribute("data-event-id"))
    titles = []
    for day in days:
        for hall_index, hall in enumerate(HALLS):
            hour = 10 + hall_index  # a staggered day
            page.goto(f"/manage/events/{event_id}/programme?day={day.isoformat()}")
            page.get_by_role("link", name=f"Новое заседание: {hall}, {hour}:00").click()
            number = len(titles) + 1
            page.locator("#f-title-ru").fill(f"Секция {number}")
            page.locator("#f-title-de").fill(f"Sektion {number}")
            page.locator("#f-track").fill("Kultur" if number % 2 else "Экономика")
            if number == 1:
                page.locator("#f-ends-at").fill(f"{day.isoformat()}T12:00")
                page.get_by_label("Max Müller").check()
            if number == 5:
                page.locator("#f-mode").select_option("online")
            if number == 12:
                shot(page, "session-form")
            submit(page)
            page.wait_for_url(f"**/programme?day={day.isoformat()}*")
            titles.append(f"Секция {number}")

    # A conflict is shown beside its field, and nothing is added.
    page.goto(f"/manage/events/{event_id}/sessions/new?starts_at={days[0]}T11:00")
    page.locator("#f-title-ru").fill("Двойное бронирование")
    page.locator("#f-room-id").select_option(label=HALLS[0])
    submit(page)
    error = page.locator("#f-room-id-error")
    assert "занят" in error.inner_text()
    assert page.locator("#f-room-id").get_attribute("aria-invalid") == "true"
    shot(page, "session-conflict")
    page.goto(f"/manage/events/{event_id}/programme?day={days[0].isoformat()}")
    assert page.locator("a.grid-session").count() == 4
    shot(page, "programme")

    # 200 participants from a CSV: a preview first, then the import and its report.
    page.goto(f"/manage/events/{event_id}/participants/import")
    page.locator("#f-file").set_input_files({"name": "teilnehmer.csv", "mimeType": "text/csv",
                                             "buffer": participants_csv(200)})
    page.locator("form.manage-form button[type=submit]").click()
    assert page.locator('[data-count="created"]').inner_text() == "200"
    assert page.locator('[data-count="rejected"]').inner_text() == "0"
    shot(page, "import-preview")
    page.get_by_role("button", name="Импортировать").click()
    page.get_by_text("Импорт выполнен.").wait_for()
    shot(page, "import-report")
    page.goto(f"/manage/events/{event_id}/participants?organization=Stadt+Suhl")
    assert "50" in page.get_by_role("status").inner_text()
    shot(page, "participants")

    # Everything through the API.
    with empty_site.app.app_context():
        from eventhub.services import users

        token = users.issue_api_token(ORGANIZER, "secret-pw-1")
    event = api(empty_site, f"/events/{event_id}", token)
    assert event["title"]["de"] == "XVI. Konferenz der Partnerstädte"
    assert (event["timezone"], event["published"], event["start_date"]) == (
        "Europe/Moscow", True, days[0].isoformat())
    rooms = api(empty_site, f"/events/{event_id}/rooms", token)["items"]
    assert [(r["name"], r["capacity"]) for r in rooms] == [
        ("Большой зал", 350), ("Малый зал", 250), ("Saal Suhl", 200), ("Пресс-центр", 150)]
    programme = api(empty_site, f"/events/{event_id}/sessions?limit=100", token)["items"]
    assert sorted(s["title"]["ru"] for s in programme) == sorted(titles)
    first = next(s for s in programme if s["title"]["ru"] == "Секция 1")
    assert first["starts_at"] == f"{days[0].isoformat()}T07:00:00+00:00"  # 10:00 in Moscow
    assert first["ends_at"] == f"{days[0].isoformat()}T09:00:00+00:00"
    assert first["room_id"] == rooms[0]["id"] and len(first["moderator_ids"]) == 1
    online = next(s for s in programme if s["title"]["ru"] == "Секция 5")
    assert online["mode"] == "online" and online["room"] is not None
    people = api(empty_site, f"/events/{event_id}/participants?limit=500", token)
    assert people["total"] == 200
    names = {p["name"] for p in people["items"]}
    assert any("ü" in n or "ß" in n or "ö" in n.lower() for n in names)
    assert any(n[0] in "АБОДМ" for n in names)
    suhl = api(empty_site, f"/events/{event_id}/participants?organization=Stadt+Suhl&limit=500",
               token)
    assert suhl["total"] == 50
    assert {p["partner_organization"] for p in suhl["items"]} == {"Администрация Калуги"}
    # The public programme shows the edits.
    public = empty_site.app.test_client().get("/events/partner-cities?lang=de")
    assert "Sektion 1" in public.get_data(as_text=True)
