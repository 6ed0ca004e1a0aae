"""The feeds read back by parsers nobody on the project wrote, compared with the database.

Besides Python's icalendar (everywhere else in the suite) and vobject (a pinned dev
dependency): ical.js (Thunderbird's parser) through node, from tests/calendars/node
(``npm ci --prefix tests/calendars/node``, as ``make test``
does), and Ruby's icalendar gem (Debian's ``ruby-icalendar``). Each reads the feed's own
VTIMEZONE. Where one is missing the tests skip, saying why; with
``EVENTHUB_REQUIRE_SERVICES=1`` (CI) they fail instead.

The programme is built to hurt: two events, Europe/Berlin and America/New_York, with sessions
on both sides of, across, and inside the clock changes of 2027 (the spring gap and the repeated
autumn hour), a delayed session and a cancelled hybrid one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from db_support import unavailable
from icalendar import Calendar

from eventhub.extensions import db
from eventhub.models import Session
from eventhub.services import agenda
from eventhub.services import sessions as session_service

HERE = Path(__file__).resolve().parent.parent / "calendars"
NODE_DIR = HERE / "node"
RUBY_SCRIPT = HERE / "ruby" / "read_ics.rb"

# The clock changes of 2027 (UTC): spring gap, repeated autumn hour.
CHANGES = {
    "Europe/Berlin": (datetime(2027, 3, 28, 1, tzinfo=UTC), datetime(2027, 10, 31, 1, tzinfo=UTC)),
    "America/New_York": (datetime(2027, 3, 14, 7, tzinfo=UTC),
                         datetime(2027, 11, 7, 6, tzinfo=UTC)),
}
# (start, end) in minutes from a change: before, across, at, inside and after it.
AROUND = [(-90, -30), (-75, -45), (-60, 0), (-45, 15), (-30, 30), (0, 60), (15, 45), (60, 120)]


def ical_js() -> list[str]:
    """The command that reads files with ical.js."""
    if shutil.which("node") is None:
        unavailable("node is not installed: ical.js cannot read the feeds")
    if not (NODE_DIR / "node_modules" / "ical.js").is_dir():
        unavailable("ical.js is not installed: run `npm ci --prefix tests/calendars/node`")
    return ["node", str(NODE_DIR / "read_ics.mjs")]


def ruby_icalendar() -> list[str]:
    """The command that reads files with Ruby's icalendar gem."""
    if shutil.which("ruby") is None:
        unavailable("ruby is not installed: apt-get install ruby ruby-icalendar")
    probe = subprocess.run(["ruby", "-e", "require 'icalendar'"], capture_output=True,
                           timeout=60, check=False)
    if probe.returncode != 0:
        unavailable("Ruby's icalendar gem is missing: apt-get install ruby-icalendar")
    return ["ruby", str(RUBY_SCRIPT)]


READERS: dict[str, Callable[[], list[str]]] = {"ical.js": ical_js, "ruby icalendar": ruby_icalendar}


def read(command: list[str], paths: list[Path]) -> dict[str, dict[str, dict]]:
    """What the reader understood: {file: {uid: {...}}}; a crash fails the test with its output."""
    done = subprocess.run([*command, *map(str, paths)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, f"{command[0]} could not read the feed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


@pytest.fixture
def programme(create_user, create_event, create_room, create_session, create_participant):
    """Two events of 2027 around clock changes, each with a participant holding every session."""
    organizer = create_user("organizer")
    events = []
    for n, (zone, changes) in enumerate(CHANGES.items()):
        event = create_event(slug=f"dst-{n}", timezone=zone, start_date=date(2027, 3, 1),
                             end_date=date(2027, 11, 30))
        hall = create_room(event, "Hall A")
        participant = create_participant(event, f"Reader {n}")
        count = 0
        for change in changes:
            for a, b in AROUND:
                count += 1
                start = change + timedelta(minutes=a)
                event_session = create_session(event, hall, start, minutes=b - a,
                                               mode=("in_person", "hybrid", "online")[count % 3],
                                               title={"en": f"Session {count}"})
                agenda.add_to_agenda(participant, participant, event_session)
        delayed, cancelled = event.sessions[0], event.sessions[1]
        session_service.set_session_status(organizer, delayed, "delayed", 25)
        cancelled.mode = "hybrid"
        db.session.commit()
        session_service.set_session_status(organizer, cancelled, "cancelled")
        events.append((event, participant))
    return events


def feeds_on_disk(client, programme, tmp_path: Path) -> list[tuple[Path, object]]:
    """Every public and personal feed, and one session feed, written to files."""
    files = []
    for event, participant in programme:
        for kind, url in (("public", f"/calendars/events/{event.id}.ics"),
                          ("personal", f"/calendars/p/{participant.token}.ics"),
                          ("session", f"/calendars/sessions/{event.sessions[3].id}.ics")):
            response = client.get(url)
            assert response.status_code == 200
            path = tmp_path / f"{event.slug}-{kind}.ics"
            path.write_bytes(response.data)
            files.append((path, event))
    return files


def expected(event_session: Session) -> dict[str, object]:
    """What every reader must find for a session: the database's view of it."""
    cancelled = event_session.status == "cancelled"
    location = "Hall A" if cancelled or event_session.mode == "in_person" else (
        "Online" if event_session.mode == "online" else "Hall A / Online")
    return {
        "start": int(event_session.expected_starts_at.timestamp()),
        "end": int(event_session.expected_ends_at.timestamp()),
        "sequence": event_session.sequence,
        "status": "CANCELLED" if cancelled else "CONFIRMED",
        "transp": "TRANSPARENT" if cancelled else "OPAQUE",
        "location": location,
        "organizer": "mailto:eventhub@localhost",
    }


@pytest.mark.parametrize("reader", list(READERS))
def test_reader_sees_the_instants_and_states_of_the_database(client, programme, tmp_path,
                                                            reader):
    command = READERS[reader]()
    files = feeds_on_disk(client, programme, tmp_path)
    understood = read(command, [path for path, _ in files])
    for path, event in files:
        events = understood[str(path)]
        uids = {str(vevent["UID"]): vevent for vevent in
                Calendar.from_ical(path.read_bytes()).walk("VEVENT")}
        assert set(events) == set(uids) and events, path.name
        for event_session in event.sessions:
            uid = next((u for u in uids if u.startswith(f"session-{event_session.id}@")), None)
            if uid is None:
                continue  # the one-session feed
            seen = {key: events[uid][key] for key in expected(event_session)}
            assert seen == expected(event_session), (reader, path.name, event_session.id)
            assert seen["end"] > seen["start"]


def test_the_old_trimmed_vtimezone_is_what_ruby_failed_on(tmp_path):
    """Why the VTIMEZONE changed: a definition whose DAYLIGHT starts inside the feed (as the
    builder wrote it before) makes Ruby's icalendar raise; ours reads."""
    command = ruby_icalendar()
    old = tmp_path / "old.ics"
    old.write_bytes(b"\r\n".join([
        b"BEGIN:VCALENDAR", b"VERSION:2.0", b"PRODID:-//test//EN",
        b"BEGIN:VTIMEZONE", b"TZID:Europe/Berlin",
        b"BEGIN:STANDARD", b"DTSTART:20261025T030000", b"TZNAME:CET", b"TZOFFSETFROM:+0200",
        b"TZOFFSETTO:+0100", b"END:STANDARD",
        b"BEGIN:DAYLIGHT", b"DTSTART:20270328T020000", b"TZNAME:CEST", b"TZOFFSETFROM:+0100",
        b"TZOFFSETTO:+0200", b"END:DAYLIGHT", b"END:VTIMEZONE",
        b"BEGIN:VEVENT", b"UID:a@test", b"DTSTAMP:20270101T000000Z",
        b"DTSTART;TZID=Europe/Berlin:20270327T100000",
        b"DTEND;TZID=Europe/Berlin:20270327T110000", b"END:VEVENT", b"END:VCALENDAR", b""]))
    done = subprocess.run([*command, str(old)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode != 0 and "comparison" in done.stderr


def test_vobject_reads_every_one_session_feed_in_one_process(client, programme):
    """vobject keeps the first VTIMEZONE it reads for a TZID for the whole process and reads
    every later feed with it: each feed's definition of a TZID must serve every other feed."""
    import vobject

    for event, _participant in programme:
        for event_session in event.sessions:
            response = client.get(f"/calendars/sessions/{event_session.id}.ics")
            vevent = vobject.readOne(response.get_data(as_text=True)).vevent
            start = vevent.dtstart.value.astimezone(UTC)
            end = vevent.dtend.value.astimezone(UTC)
            assert (start, end) == (event_session.expected_starts_at,
                                    event_session.expected_ends_at), event_session.id
