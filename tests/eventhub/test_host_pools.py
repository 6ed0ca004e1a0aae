"""Host pools: parallel halls on Zoom (and Teams) accounts where one host runs one meeting at a
time; the session's moderators as alternative hosts; language interpretation.

Everything runs against the sandbox's simulators, which refuse to start a second meeting of a
host while another runs (as Zoom does), so the tests show that the pool keeps meetings apart.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import requests
from lifecycle_support import room_of, sandbox_settings, wait_jobs

from eventhub.extensions import db
from eventhub.models import Session
from eventhub.services import switching
from integrations.sandbox import teams as teams_sim
from integrations.sandbox import zoom as zoom_sim
from tests.conftest import at, bearer

HOSTS = zoom_sim.HOST_USERS


def pool_settings(sandbox, zoom_hosts=(), teams_hosts=()):
    providers = {**sandbox.env(), "ZOOM_HOST_USERS": ",".join(zoom_hosts),
                 "MSGRAPH_USER_IDS": ",".join(teams_hosts)}
    return sandbox_settings(sandbox, PROVIDERS=providers)


@pytest.fixture
def app_config(app_config, sandbox, request):
    marker = request.node.get_closest_marker("pool")
    kwargs = marker.kwargs if marker else {"zoom_hosts": HOSTS[:5]}
    return {**app_config, **pool_settings(sandbox, **kwargs)}


def parallel_day(create_event, create_room, create_session, halls=5, slots=3, provider="zoom"):
    """A day of ``halls`` halls in parallel, ``slots`` sessions each, back to back."""
    event = create_event(default_provider=provider, join_window_minutes=15)
    sessions = []
    for h in range(halls):
        hall = create_room(event, name=f"Hall {h + 1}")
        for n in range(slots):
            sessions.append(create_session(event, room=hall, start=at(9 + 2 * n), minutes=90,
                                           title={"en": f"Hall {h + 1} talk {n + 1}"}))
    return event, sessions


def sim_meetings(sandbox, provider="zoom"):
    return list(sandbox.rooms(provider).values())


def overlapping_on_one_host(meetings, lead=timedelta(minutes=15)):
    """Pairs of meetings of one host whose times (join window included) overlap."""
    def span(meeting):
        start = datetime.strptime(meeting.data["start_time"], "%Y-%m-%dT%H:%M:%SZ")
        return start - lead, start + timedelta(minutes=meeting.data["duration"])

    clashes = []
    for i, one in enumerate(meetings):
        for other in meetings[i + 1:]:
            if one.data["host_id"] == other.data["host_id"]:
                (a0, a1), (b0, b1) = span(one), span(other)
                if a0 < b1 and b0 < a1:
                    clashes.append((one.id, other.id))
    return clashes


def start_all(room_rows):
    """Start every meeting with its host URL, as each hall's moderator would; the statuses."""
    from eventhub.services import joining

    statuses = []
    for room in room_rows:
        url = joining.host_url(room, "Moderator")
        page = requests.get(url, headers={"Accept": "application/json"}, timeout=5)
        statuses.append(page.status_code)
    return statuses


def test_a_pool_of_five_gives_no_host_two_overlapping_meetings(sandbox, create_user, ctx,
                                                              create_event, create_room,
                                                              create_session):
    """Five halls in parallel on five hosts: every room ready, no host overlaps, and every
    meeting of a time slot can be started at once."""
    organizer = create_user("organizer")
    event, sessions = parallel_day(create_event, create_room, create_session)
    switching.switch_event(event, "online", actor=organizer)
    wait_jobs()
    rooms = [room_of(s) for s in sessions]
    assert [r.state for r in rooms] == ["ready"] * len(sessions), [r.last_error for r in rooms]
    meetings = sim_meetings(sandbox)
    assert len(meetings) == len(sessions)
    assert {m.data["host_id"] for m in meetings} == set(HOSTS[:5])
    assert overlapping_on_one_host(meetings) == []
    first_slot = [room_of(s) for s in sessions if s.starts_at == at(9)]
    assert start_all(first_slot) == [200] * 5


@pytest.mark.pool(zoom_hosts=())
def test_without_a_pool_the_one_account_hosts_one_meeting_at_a_time(sandbox, create_user, ctx,
                                                                   create_event, create_room,
                                                                   create_session):
    """No ZOOM_HOST_USERS: the pool is ZOOM_USER_ID alone, so of two parallel sessions one gets
    the account and the other fails, saying why, instead of a meeting that cannot start."""
    organizer = create_user("organizer")
    event, sessions = parallel_day(create_event, create_room, create_session, halls=2, slots=1)
    switching.switch_event(event, "online", actor=organizer)
    wait_jobs()
    assert sorted(room_of(s).state for s in sessions) == ["failed", "ready"]
    failed = next(room_of(s) for s in sessions if room_of(s).state == "failed")
    assert "no free host among the 1 of ZOOM_HOST_USERS" in failed.last_error


@pytest.mark.pool(zoom_hosts=HOSTS[:2])
def test_a_pool_too_small_fails_exactly_the_sessions_that_cannot_fit(sandbox, create_user, ctx,
                                                                    create_event, create_room,
                                                                    create_session):
    """Three halls at once on two hosts: one session per time slot gets no host, fails, and its
    error names the sessions holding the hosts. Nothing is made for it at the provider."""
    organizer = create_user("organizer")
    event, sessions = parallel_day(create_event, create_room, create_session, halls=3, slots=2)
    switching.switch_event(event, "online", actor=organizer)
    wait_jobs()
    by_slot: dict[datetime, list[Session]] = {}
    for s in sessions:
        by_slot.setdefault(s.starts_at, []).append(s)
    for slot_sessions in by_slot.values():
        states = sorted(room_of(s).state for s in slot_sessions)
        assert states == ["failed", "ready", "ready"]
        failed = next(s for s in slot_sessions if room_of(s).state == "failed")
        error = room_of(failed).last_error
        assert "no free host among the 2 of ZOOM_HOST_USERS" in error
        for other in slot_sessions:
            if other is not failed:
                assert f'{other.id} "{other.title["en"]}"' in error
    assert len(sim_meetings(sandbox)) == 4
    assert overlapping_on_one_host(sim_meetings(sandbox)) == []


@pytest.mark.pool(zoom_hosts=HOSTS[:2])
def test_rescheduling_into_an_overlap_moves_the_meeting_to_a_free_host(
        sandbox, client, create_user, ctx, create_event, create_room, create_session,
        create_participant, api_token):
    """Two sessions one after another share host 1; moving the second onto the first moves its
    meeting to host 2 (a new meeting, the old one deleted); the join link stays EventHub's."""
    organizer = create_user("organizer")
    event = create_event(default_provider="zoom", join_window_minutes=15)
    hall_a, hall_b = create_room(event, name="A"), create_room(event, name="B")
    first = create_session(event, room=hall_a, start=at(9), minutes=60)
    second = create_session(event, room=hall_b, start=at(11), minutes=60)
    switching.switch_event(event, "online", actor=organizer)
    wait_jobs()
    assert room_of(first).host == room_of(second).host == HOSTS[0]
    old_id = room_of(second).external_id

    response = client.patch(f"/api/v1/sessions/{second.id}", headers=bearer(api_token(organizer)),
                            json={"starts_at": at(9, 30).isoformat(),
                                  "ends_at": at(10, 30).isoformat()})
    assert response.status_code == 200
    wait_jobs()
    moved = room_of(second)
    assert (moved.state, moved.host) == ("ready", HOSTS[1])
    assert moved.external_id != old_id
    meetings = {m.id: m for m in sim_meetings(sandbox)}
    assert old_id not in meetings
    assert meetings[moved.external_id].data["host_id"] == HOSTS[1]
    assert overlapping_on_one_host(list(meetings.values())) == []


def test_moderators_become_alternative_hosts(sandbox, create_user, ctx, create_event,
                                             create_session):
    """Zoom's settings.alternative_hosts lists the session's moderators' e-mails."""
    one = create_user("moderator", email="one@example.org")
    two = create_user("moderator", email="two@example.org")
    event = create_event(default_provider="zoom")
    event_session = create_session(event, moderators=[two, one])
    switching.switch_session(event_session, "online", actor=one)
    wait_jobs()
    meeting = sandbox.rooms("zoom")[room_of(event_session).external_id]
    assert meeting.data["settings"]["alternative_hosts"] == "one@example.org;two@example.org"


def interpreted_session(create_event, create_session, create_participant, provider):
    event = create_event(default_provider=provider)
    ru_de = create_participant(event, name="Ирина", role="interpreter")
    de_ru = create_participant(event, name="Jonas", role="interpreter")
    event_session = create_session(event, interpretation={
        "languages": ["ru", "de"], "interpreter_ids": [ru_de.id, de_ru.id]})
    return event_session, [ru_de.email, de_ru.email]


def test_an_interpreted_session_carries_zoom_interpretation(sandbox, client, create_user, ctx,
                                                           create_event, create_session,
                                                           create_participant, api_token):
    """The meeting gets language_interpretation with each interpreter's e-mail and pair, and
    the room's state says the channels are in the meeting."""
    organizer = create_user("organizer")
    event_session, emails = interpreted_session(create_event, create_session,
                                                create_participant, "zoom")
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    meeting = sandbox.rooms("zoom")[room_of(event_session).external_id]
    assert meeting.data["settings"]["language_interpretation"] == {
        "enable": True,
        "interpreters": [{"email": emails[0], "languages": "RU,DE"},
                         {"email": emails[1], "languages": "RU,DE"}],
    }
    room = client.get(f"/api/v1/sessions/{event_session.id}/room",
                      headers=bearer(api_token(organizer))).get_json()
    assert room["interpretation"] == "provider"


def test_a_provider_without_interpretation_still_makes_the_room(sandbox, client, create_user,
                                                                ctx, create_event,
                                                                create_session,
                                                                create_participant):
    """Whereby has no interpretation channels: the room is made, and its state says that the
    interpretation runs in the hall only."""
    organizer = create_user("organizer")
    event_session, _emails = interpreted_session(create_event, create_session,
                                                 create_participant, "whereby")
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    assert room_of(event_session).state == "ready"
    room = client.get(f"/api/v1/sessions/{event_session.id}/room").get_json()
    assert room["interpretation"] == "hall_only"


def test_interpreters_must_be_interpreters_of_the_event(client, create_user, ctx, create_event,
                                                       create_session, create_participant,
                                                       api_token):
    """A delegate named as interpreter is a 422 naming the field, and nothing changes."""
    organizer = create_user("organizer")
    event = create_event()
    delegate = create_participant(event, role="delegate")
    event_session = create_session(event)
    response = client.patch(f"/api/v1/sessions/{event_session.id}",
                            headers=bearer(api_token(organizer)),
                            json={"interpretation": {"languages": ["ru", "de"],
                                                     "interpreter_ids": [delegate.id]}})
    assert response.status_code == 422
    assert "interpretation" in response.get_json()["error"]["fields"]
    db.session.expire_all()
    assert db.session.get(Session, event_session.id).interpretation is None


@pytest.mark.pool(teams_hosts=teams_sim.HOST_USERS[:3])
def test_teams_pool_spreads_parallel_meetings_over_organizers(sandbox, create_user, ctx,
                                                             create_event, create_room,
                                                             create_session):
    """Teams takes the same pool rule through its organizers (MSGRAPH_USER_IDS)."""
    organizer = create_user("organizer")
    event, sessions = parallel_day(create_event, create_room, create_session, halls=3, slots=1,
                                   provider="teams")
    switching.switch_event(event, "online", actor=organizer)
    wait_jobs()
    assert {room_of(s).host for s in sessions} == set(teams_sim.HOST_USERS[:3])
    organizers = {m.data["participants"]["organizer"]["identity"]["user"]["id"]
                  for m in sim_meetings(sandbox, "teams")}
    assert organizers == set(teams_sim.HOST_USERS[:3])


def test_hosts_needed_counts_the_most_meetings_at_once(ctx, create_event, create_room,
                                                      create_session):
    """For the board: five halls in parallel need five hosts."""
    from eventhub.services.hosts import hosts_needed

    _event, sessions = parallel_day(create_event, create_room, create_session)
    assert hosts_needed(sessions) == 5
    assert hosts_needed(sessions[:1]) == 1


@pytest.mark.parametrize(("lang", "says"), [
    ("de", "„Deutsch“"), ("ru", "no channel"), ("en", "one of these channels")])
def test_the_session_page_tells_which_channel_to_choose(client, sandbox, create_user, ctx,
                                                        create_event, create_session,
                                                        create_participant, lang, says):
    """On Zoom the page names the channel in the reader's language (the floor language, here
    Russian, needs none); the English reader is offered the channels there are."""
    organizer = create_user("organizer")
    event_session, _emails = interpreted_session(create_event, create_session,
                                                 create_participant, "zoom")
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    page = client.get(f"/sessions/{event_session.id}?lang={lang}").get_data(as_text=True)
    note = page[page.index("data-interpretation"):]
    if says == "no channel":
        assert "канал перевода не нужен" in note
    elif says == "one of these channels":
        assert "choose one of these channels in the Interpretation menu: German" in note
    else:
        assert says in note


def test_the_session_page_says_hall_only_where_the_provider_has_no_channels(
        client, sandbox, create_user, ctx, create_event, create_session, create_participant):
    organizer = create_user("organizer")
    event_session, _emails = interpreted_session(create_event, create_session,
                                                 create_participant, "whereby")
    switching.switch_session(event_session, "online", actor=organizer)
    wait_jobs()
    page = client.get(f"/sessions/{event_session.id}?lang=en").get_data(as_text=True)
    assert "it runs in the hall only" in page
