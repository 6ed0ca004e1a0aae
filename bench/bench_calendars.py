"""Calendar feeds and the programme page: cold and warm times, next to baselines of the same run.

Run ``python -m bench.bench_calendars`` (or through ``python -m bench``; ``--tiny`` for a
seconds-long run that only checks it works). It builds a temporary SQLite database with a
1,000-session event and a participant with 50 sessions on their agenda, then times, in the same
run and process:

- a cold feed request (feed cache emptied before each one: query, build, hash, stamp),
- a warm request (served from the cache), and a warm revalidation answered 304,
- a "static" request: the same bytes from a route that only returns them,
- icalendar alone serializing the same calendar: ``Calendar.to_ical()`` of the feed parsed back
  (every property of ours, nothing of EventHub's): the baseline of the goal, cold <= 2x;
- icalendar alone serializing a smaller rebuild of it (the VEVENTs' main properties only, as
  this benchmark measured before, for comparison with older figures);
- the anonymous programme page of the event: cold (page cache emptied), warm, and 304.

Requests go through Flask's test client (the whole WSGI stack, without sockets). Figures are
printed and returned by :func:`run`, never asserted.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, Response, request
from icalendar import Calendar, Event

EVENT_DAYS = 10
HALLS = 10
SLOTS_PER_DAY = 10  # 10 days x 10 halls x 10 slots = 1,000 sessions
AGENDA_SIZE = 50
FEED_GOAL = 2.0  # issue 14: a cold public feed in at most 2x icalendar alone
TIMEZONE = "Europe/Berlin"  # a zone with DST, so VTIMEZONE has observances to compute
START = date(2030, 3, 25)  # the feed spans the spring change (the last Sunday of March)
BASE_URL = "http://bench.eventhub.test"


def _timed(func: Callable[[], object], repeat: int) -> list[float]:
    """Seconds per call of ``func``, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return times


def _ms(times: list[float]) -> float:
    """The median of ``times`` in milliseconds."""
    return statistics.median(times) * 1000


def _make_app(tmp: Path) -> tuple[Flask, dict[str, bytes]]:
    """The app on a fresh SQLite file, the feed routes and a static route for comparison."""
    from eventhub import create_app
    from eventhub import feeds as feed_routes
    from eventhub.extensions import db

    app = create_app({
        "SECRET_KEY": "bench-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}",
        "EVENTHUB_BASE_URL": BASE_URL,
        "PROVIDERS": {},
    })
    feed_routes.init_app(app)
    static: dict[str, bytes] = {}

    @app.get("/bench/static/<name>.ics")
    def static_feed(name: str) -> Response:
        """The same bytes with the same headers, nothing computed: the floor to compare with."""
        response = Response(static[name], content_type="text/calendar; charset=utf-8")
        response.headers["ETag"] = '"static"'
        return response.make_conditional(request)

    with app.app_context():
        db.create_all()
    return app, static


def _seed(app: Flask, days: int = EVENT_DAYS, halls_count: int = HALLS,
          slots: int = SLOTS_PER_DAY, agenda_size: int = AGENDA_SIZE) -> tuple[int, str]:
    """The days x halls x slots event and a participant with ``agenda_size`` of its sessions;
    returns (event id, token)."""
    from eventhub.extensions import db
    from eventhub.models import AgendaItem, Event, Participant, Room, Session
    from eventhub.services import access

    zone = ZoneInfo(TIMEZONE)
    with app.app_context():
        event = Event(slug="bench", title={"en": "Benchmark conference", "ru": "Конференция",
                                           "de": "Konferenz"},
                      description={"en": "A large programme."}, timezone=TIMEZONE,
                      start_date=START, end_date=START + timedelta(days=days - 1),
                      venue="Kaluga", published=True)
        halls = [Room(event=event, name=f"Hall {i + 1}") for i in range(halls_count)]
        db.session.add_all([event, *halls])
        sessions = []
        for day in range(days):
            for slot in range(slots):
                local = datetime.combine(START + timedelta(days=day), datetime.min.time(), zone)
                starts = (local + timedelta(hours=8, minutes=60 * slot)).astimezone(UTC)
                for h, hall in enumerate(halls):
                    n = len(sessions) + 1
                    sessions.append(Session(
                        event=event, room=hall, starts_at=starts,
                        ends_at=starts + timedelta(minutes=45), track=f"Track {h % 4}",
                        mode=("in_person", "hybrid", "online")[n % 3],
                        title={"en": f"Session {n}: partnership, cities; practice",
                               "ru": f"Сессия {n}: партнёрство, города; практика",
                               "de": f"Sitzung {n}: Partnerschaft, Städte; Praxis"},
                        description={"en": "Discussion of municipal cooperation. " * 4}))
        participant = Participant(event=event, name="Anna", email="anna@example.org",
                                  language="ru")
        db.session.add_all([*sessions, participant])
        db.session.flush()
        token = access.issue_participant_token(participant)
        db.session.add_all(AgendaItem(participant=participant, session=s)
                           for s in sessions[::max(len(sessions) // agenda_size, 1)][:agenda_size])
        db.session.commit()
        return event.id, token


def _icalendar_alone(body: bytes) -> Calendar:
    """The same VEVENTs rebuilt property by property with icalendar's own API."""
    zone = ZoneInfo(TIMEZONE)
    calendar = Calendar()
    calendar.add("PRODID", "-//bench//EN")
    calendar.add("VERSION", "2.0")
    for parsed in Calendar.from_ical(body).walk("VEVENT"):
        event = Event()
        for name in ("UID", "SUMMARY", "DESCRIPTION", "LOCATION", "URL", "STATUS"):
            if name in parsed:
                event.add(name, str(parsed[name]))
        event.add("DTSTAMP", parsed["DTSTAMP"].dt)
        event.add("DTSTART", parsed["DTSTART"].dt.astimezone(zone))
        event.add("DTEND", parsed["DTEND"].dt.astimezone(zone))
        event.add("SEQUENCE", int(parsed["SEQUENCE"]))
        if "CATEGORIES" in parsed:
            event.add("CATEGORIES", list(parsed["CATEGORIES"].cats))
        calendar.add_component(event)
    return calendar


def _measure(app: Flask, static: dict[str, bytes], name: str, url: str,
             cold_repeat: int, warm_repeat: int) -> dict[str, float]:
    """Cold, warm, 304, static and icalendar-alone times for one feed URL."""
    from eventhub.services import feeds

    client = app.test_client()

    def cold() -> None:
        """One request with an empty feed cache."""
        with app.app_context():
            feeds.feed_cache().clear()
        assert client.get(url).status_code == 200

    def get() -> None:
        """One request."""
        assert client.get(url).status_code == 200

    cold()  # first request: imports, query plans, connection
    cold_times = _timed(cold, cold_repeat)
    body = client.get(url).data
    etag = client.get(url).headers["ETag"]
    warm_times = _timed(get, warm_repeat)
    not_modified = _timed(lambda: client.get(url, headers={"If-None-Match": etag}), warm_repeat)
    static[name] = body
    static_times = _timed(lambda: client.get(f"/bench/static/{name}.ics"), warm_repeat)
    same = Calendar.from_ical(body)
    same_times = _timed(same.to_ical, cold_repeat)
    smaller = _icalendar_alone(body)
    smaller_times = _timed(smaller.to_ical, cold_repeat)
    return {"events": body.count(b"BEGIN:VEVENT"), "bytes": len(body),
            "cold": _ms(cold_times), "warm": _ms(warm_times), "304": _ms(not_modified),
            "static": _ms(static_times), "icalendar": _ms(same_times),
            "icalendar_smaller": _ms(smaller_times)}


def _measure_page(app: Flask, slug: str, cold_repeat: int, warm_repeat: int) -> dict[str, float]:
    """Cold, warm and 304 times of the anonymous programme page."""
    from eventhub.web.page_cache import page_cache

    client = app.test_client()
    url = f"/events/{slug}?lang=en"

    def cold() -> None:
        """One request with an empty page cache."""
        with app.app_context():
            page_cache().pages.clear()
        assert client.get(url).status_code == 200

    cold()
    cold_times = _timed(cold, cold_repeat)
    first = client.get(url)
    etag = first.headers["ETag"]
    warm_times = _timed(lambda: client.get(url), warm_repeat)
    not_modified = _timed(lambda: client.get(url, headers={"If-None-Match": etag}), warm_repeat)
    return {"bytes": len(first.data), "cold": _ms(cold_times), "warm": _ms(warm_times),
            "304": _ms(not_modified)}


def _report(title: str, r: dict[str, float]) -> None:
    """Print one feed's figures and ratios."""
    ratio = r["cold"] / r["icalendar"]
    verdict = "met" if ratio <= FEED_GOAL else "MISSED"
    print(f"\n{title}: {r['events']:.0f} sessions, {r['bytes'] / 1024:.0f} KiB")
    print(f"  cold request (build + serve)     {r['cold']:9.2f} ms")
    print(f"  warm request (cached)            {r['warm']:9.3f} ms")
    print(f"  warm revalidation (304)          {r['304']:9.3f} ms")
    print(f"  static bytes, same route stack   {r['static']:9.3f} ms")
    print(f"  icalendar alone, same calendar   {r['icalendar']:9.2f} ms")
    print(f"  icalendar alone, smaller rebuild {r['icalendar_smaller']:9.2f} ms")
    print(f"  cold / icalendar same calendar   {ratio:9.2f}x"
          f"  (goal <= {FEED_GOAL:.0f}x: {verdict})")
    print(f"  cold / icalendar smaller rebuild {r['cold'] / r['icalendar_smaller']:9.2f}x")
    print(f"  warm / static                    {r['warm'] / r['static']:9.2f}x")


def _report_page(r: dict[str, float], sessions: int) -> None:
    """Print the programme page's figures."""
    print(f"\nprogramme page, anonymous: {sessions} sessions, {r['bytes'] / 1024:.0f} KiB")
    print(f"  cold request (render)            {r['cold']:9.2f} ms")
    print(f"  warm request (cached)            {r['warm']:9.3f} ms")
    print(f"  warm revalidation (304)          {r['304']:9.3f} ms")
    print(f"  cold / warm                      {r['cold'] / r['warm']:9.1f}x")


def run(tiny: bool = False) -> dict[str, dict[str, float]]:
    """Seed, measure the feeds and the page, print the figures and return them."""
    import logging

    logging.getLogger("eventhub").setLevel(logging.WARNING)
    sizes = dict(days=1, halls_count=2, slots=2, agenda_size=2) if tiny else {}
    cold, warm = (1, 3) if tiny else (5, 300)
    with tempfile.TemporaryDirectory(prefix="eventhub-bench-") as tmp:
        app, static = _make_app(Path(tmp))
        try:
            event_id, token = _seed(app, **sizes)
            print("calendar feeds (Flask test client, median per request; same process, same run)")
            public = _measure(app, static, "public", f"/calendars/events/{event_id}.ics",
                              cold_repeat=cold, warm_repeat=warm)
            _report("public programme feed", public)
            personal = _measure(app, static, "personal", f"/calendars/p/{token}.ics",
                                cold_repeat=cold * 4, warm_repeat=warm)
            _report("personal agenda feed", personal)
            page = _measure_page(app, "bench", cold_repeat=cold, warm_repeat=warm // 3)
            _report_page(page, int(public["events"]))
            return {"public_feed": public, "personal_feed": personal, "programme_page": page}
        finally:
            from eventhub import shutdown
            from eventhub.extensions import db

            with app.app_context():
                shutdown(app)
                db.session.remove()
                db.engine.dispose()


def main(argv: list[str] | None = None, quick: bool = False) -> list:
    """``--tiny`` (or ``quick``): a seconds-long run that checks the benchmark works (the suite
    runs it). Returns the figures for ``python -m bench``'s table."""
    import sys

    from bench.report import Figure

    args = sys.argv[1:] if argv is None else argv
    results = run(tiny=quick or "--tiny" in args)
    public, personal, page = (results["public_feed"], results["personal_feed"],
                              results["programme_page"])
    return [
        Figure("calendars", f"cold public feed, {public['events']} sessions", public["cold"],
               "ms", goal="<= 2x", baseline=public["icalendar"],
               baseline_name="icalendar serializing the same calendar"),
        Figure("calendars", "warm public feed", public["warm"], "ms",
               baseline=public["static"], baseline_name="the same bytes from a bare route"),
        Figure("calendars", f"cold personal feed, {personal['events']} sessions",
               personal["cold"], "ms", baseline=personal["icalendar"],
               baseline_name="icalendar serializing the same calendar"),
        Figure("calendars", "programme page, anonymous, warm", page["warm"], "ms",
               baseline=page["cold"], baseline_name="the same page cold"),
    ]


if __name__ == "__main__":
    main()
