"""Invitations, delegations and reminders through the REST API: merging, rejects, who may."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from eventhub.extensions import db
from eventhub.models import Event, Participant, User, utcnow
from eventhub.services import invitations
from tests.conftest import bearer


@dataclass
class World:
    event_id: int
    other_event_id: int
    tokens: dict[str, str | None]
    ids: dict[str, int]


@pytest.fixture
def world(create_user, create_event, create_session, create_participant, api_token) -> World:
    """An event with a Kaluga official (partner Suhl), a Suhl delegate, a guest; another event."""
    event = create_event()
    other_event = create_event(slug="other")
    moderator, organizer = create_user("moderator"), create_user("organizer")
    create_session(event, moderators=[moderator])
    official = create_participant(event, "Olga Official", role="official",
                                  organization="Kaluga", partner_organization="Suhl",
                                  language="ru", country="RU")
    delegate = create_participant(event, "Dieter Delegate", role="delegate",
                                  organization="Suhl", partner_organization="Kaluga",
                                  language="de")
    guest = create_participant(event, "Gina Guest")
    other_official = create_participant(other_event, "Oskar Other", role="official",
                                        organization="Kaluga", partner_organization="Suhl")
    tokens = {
        "anonymous": None, "participant": guest.token, "official": official.token,
        "other_participant": other_official.token, "moderator": api_token(moderator),
        "organizer": api_token(organizer),
    }
    ids = {"event": event.id, "official": official.id, "delegate": delegate.id,
           "guest": guest.id}
    return World(event.id, other_event.id, tokens, ids)


def post(client, path: str, body: dict | None, token: str | None):
    return client.post("/api/v1" + path, json=body, headers=bearer(token))


def emails(event_id: int) -> list[str]:
    return sorted(db.session.scalars(select(Participant.email)
                                     .where(Participant.event_id == event_id)))


def all_tokens() -> list[str]:
    return [p.token for p in db.session.scalars(select(Participant))]


# -- inviting ---------------------------------------------------------------------------------


def test_invitation_creates_new_people_and_merges_known_addresses(client, world):
    known = db.session.get(Participant, world.ids["delegate"])
    response = post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "Nina New", "email": "Nina.New@Example.org", "organization": "Kaluga",
         "country": "ru"},
        {"name": "Dieter again", "email": known.email.upper(), "country": "DE"},
        {"name": "Nina twice", "email": "nina.new@example.org"},
    ], "message": "Welcome to Kaluga"}, world.tokens["organizer"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [p["email"] for p in body["invited"]] == ["nina.new@example.org"]
    assert [p["id"] for p in body["merged"]] == [known.id]
    assert body["rejected"] == []
    assert body["mailed"] == 2  # Nina, and Dieter, who had never been sent an invitation
    nina = body["invited"][0]
    assert (nina["language"], nina["role"], nina["country"]) == ("ru", "delegate", "RU")
    assert nina["invitation_status"] == "invited"
    assert nina["access_url"].startswith("http://eventhub.test/p/")  # organizers get the link
    assert emails(world.event_id).count("nina.new@example.org") == 1
    db.session.refresh(known)
    assert (known.name, known.country) == ("Dieter Delegate", "DE")  # kept; empty field filled

    again = post(client, f"/events/{world.event_id}/invitations",
                 {"invitees": [{"name": "Nina", "email": "nina.new@example.org"}]},
                 world.tokens["organizer"]).get_json()
    assert (again["invited"], len(again["merged"]), again["mailed"]) == ([], 1, 0)


def test_bad_addresses_are_rejected_by_name_and_the_rest_goes(client, world):
    before = emails(world.event_id)
    response = post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "Good One", "email": "good@example.org"},
        {"name": "No At", "email": "no-at-sign"},
        {"name": "Bad Domain", "email": "x@-bad-.org"},
        {"name": "Good Two", "email": "good2@example.org"},
    ]}, world.tokens["organizer"])
    assert response.status_code == 200
    body = response.get_json()
    assert [p["email"] for p in body["invited"]] == ["good@example.org", "good2@example.org"]
    assert [(r["index"], r["email"]) for r in body["rejected"]] == [
        (1, "no-at-sign"), (2, "x@-bad-.org")]
    assert all("not a valid e-mail address" in r["error"] and r["field"] == "email"
               for r in body["rejected"])
    assert emails(world.event_id) == sorted(before + ["good2@example.org", "good@example.org"])


def test_a_batch_of_only_bad_addresses_is_422_and_changes_nothing(client, world):
    before = emails(world.event_id)
    response = post(client, f"/events/{world.event_id}/invitations",
                    {"invitees": [{"name": "A", "email": "a@"}, {"name": "B", "email": "b"}]},
                    world.tokens["organizer"])
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"invitees.0", "invitees.1"}
    assert emails(world.event_id) == before


@pytest.mark.parametrize("count", [501, 10_000])
def test_oversized_batches_are_refused_at_once(client, world, count):
    invitees = [{"name": f"Person {i}", "email": f"person{i}@example.org"} for i in range(count)]
    before = emails(world.event_id)
    response = post(client, f"/events/{world.event_id}/invitations", {"invitees": invitees},
                    world.tokens["organizer"])
    assert response.status_code in (413, 422)
    assert response.get_json()["error"]["code"] in ("too_large", "invalid")
    assert emails(world.event_id) == before


def test_ten_thousand_full_invitees_over_one_mib_are_413(client, world):
    invitees = [{"name": f"Person number {i}", "email": f"person.number.{i}@example.org",
                 "organization": "Kaluga city administration", "country": "RU",
                 "partner_organization": "Suhl"} for i in range(10_000)]
    raw = json.dumps({"invitees": invitees})
    assert len(raw) > 1024 * 1024
    response = client.post(f"/api/v1/events/{world.event_id}/invitations", data=raw,
                           content_type="application/json",
                           headers=bearer(world.tokens["organizer"]))
    assert response.status_code == 413


def test_an_official_invites_their_own_and_the_partner_delegation(client, world):
    response = post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "Kira Kaluga", "email": "kira@example.org"},
        {"name": "Sven Suhl", "email": "sven@example.org", "organization": "suhl",
         "partner_organization": "Somewhere else", "language": "de"},
    ]}, world.tokens["official"])
    assert response.status_code == 200, response.get_json()
    invited = {p["email"]: p for p in response.get_json()["invited"]}
    assert (invited["kira@example.org"]["organization"],
            invited["kira@example.org"]["partner_organization"]) == ("Kaluga", "Suhl")
    assert (invited["sven@example.org"]["organization"],
            invited["sven@example.org"]["partner_organization"]) == ("Suhl", "Kaluga")
    text = response.get_data(as_text=True)
    assert "access_url" not in text and "feed_url" not in text
    assert not any(token in text for token in all_tokens())


def test_an_official_inviting_outside_their_delegation_gets_403_and_nothing_changes(
        client, world):
    before = emails(world.event_id)
    response = post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "Kira Kaluga", "email": "kira@example.org"},
        {"name": "Tom Tula", "email": "tom@example.org", "organization": "Tula"},
    ]}, world.tokens["official"])
    assert response.status_code == 403
    assert response.get_json()["error"]["fields"] == {"invitees.1.organization":
                                                      "outside your delegation"}
    assert emails(world.event_id) == before


def test_an_official_cannot_take_over_someone_of_another_delegation(client, world):
    guest = db.session.get(Participant, world.ids["guest"])
    response = post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "Gina", "email": guest.email}, {"name": "Kira", "email": "kira@example.org"}]},
        world.tokens["official"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["merged"] == [] and len(body["invited"]) == 1
    assert body["rejected"] == [{"index": 0, "email": guest.email, "field": "participant",
                                 "error": "already a participant of another delegation"}]
    db.session.refresh(guest)
    assert guest.organization == ""


def test_interpreter_is_a_role(client, world):
    response = post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "Ivan", "email": "ivan@example.org", "role": "interpreter"}]},
        world.tokens["organizer"])
    assert response.get_json()["invited"][0]["role"] == "interpreter"


# -- answering --------------------------------------------------------------------------------


def test_participant_accepts_and_chooses_remote(client, world):
    path = f"/participants/{world.ids['guest']}/invitation"
    response = post(client, path, {"status": "accepted", "attendance": "remote"},
                    world.tokens["participant"])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["invitation_status"], body["attendance"]) == ("accepted", "remote")
    assert "access_url" not in body
    assert post(client, path, {"status": "accepted", "attendance": "online"},
                world.tokens["participant"]).status_code == 422
    assert post(client, path, {"status": "maybe"}, world.tokens["participant"]).status_code == 422
    guest = db.session.get(Participant, world.ids["guest"])
    db.session.refresh(guest)
    assert (guest.invitation_status, guest.attendance) == ("accepted", "remote")


# -- delegations ------------------------------------------------------------------------------


def test_delegations_count_answers_per_organization_and_partner(client, world):
    post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "K1", "email": "k1@example.org", "organization": "Kaluga"},
        {"name": "K2", "email": "k2@example.org", "organization": "KALUGA "},
        {"name": "T1", "email": "t1@example.org", "organization": "Tula",
         "partner_organization": "Tübingen"},
    ]}, world.tokens["organizer"])
    by_email = {p.email: p for p in db.session.scalars(select(Participant))}
    by_email["k1@example.org"].invitation_status = "accepted"
    by_email["k1@example.org"].attendance = "remote"
    by_email["k2@example.org"].invitation_status = "declined"
    db.session.get(Participant, world.ids["official"]).invitation_status = "accepted"
    db.session.commit()

    response = client.get(f"/api/v1/events/{world.event_id}/delegations",
                          headers=bearer(world.tokens["organizer"]))
    assert response.status_code == 200
    rows = [(r["organization"], r["partner_organization"], r["invited"], r["accepted"],
             r["declined"], r["no_answer"], r["in_person"], r["remote"], r["not_sent"])
            for r in response.get_json()["items"]]
    assert rows == [
        ("Kaluga", "Suhl", 3, 2, 1, 0, 1, 1, 0),  # the official answered without a mail
        ("Suhl", "Kaluga", 1, 0, 0, 1, 0, 0, 1),
        ("Tula", "Tübingen", 1, 0, 0, 1, 0, 0, 0),
        ("Tübingen", "Tula", 0, 0, 0, 0, 0, 0, 0),  # named as a partner only
        ("", "", 1, 0, 0, 1, 0, 0, 1),
    ]
    assert response.get_json()["total"] == 5


def test_delegations_csv_is_a_spreadsheet_without_formulas(client, world):
    post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "Evil", "email": "evil@example.org", "organization": "=HYPERLINK(1)"}]},
        world.tokens["organizer"])
    response = client.get(f"/api/v1/events/{world.event_id}/delegations?format=csv",
                          headers=bearer(world.tokens["organizer"]))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["organization", "partner_organization", "invited", "accepted",
                       "declined", "no_answer", "in_person", "remote", "not_sent"]
    assert ["Kaluga", "Suhl", "1", "0", "0", "1", "0", "0", "1"] in rows
    assert any(row[0] == "'=HYPERLINK(1)" for row in rows)
    assert client.get(f"/api/v1/events/{world.event_id}/delegations?format=xml",
                      headers=bearer(world.tokens["organizer"])).status_code == 422


def test_inviting_a_delegation_mails_those_not_invited_yet(client, world):
    path = f"/events/{world.event_id}/delegations/invitations"
    body = post(client, path, {"organization": "kaluga"}, world.tokens["organizer"]).get_json()
    assert sorted(p["name"] for p in body["merged"]) == ["Dieter Delegate", "Olga Official"]
    assert body["mailed"] == 2
    again = post(client, path, {"organization": "Suhl"}, world.tokens["organizer"]).get_json()
    assert again["mailed"] == 0
    assert post(client, path, {"organization": "Atlantis"},
                world.tokens["organizer"]).status_code == 404


# -- reminders --------------------------------------------------------------------------------


def test_reminders_reach_the_invited_who_have_not_answered_once_an_hour(client, world):
    post(client, f"/events/{world.event_id}/invitations", {"invitees": [
        {"name": "A", "email": "a@example.org"}, {"name": "B", "email": "b@example.org"},
        {"name": "C", "email": "c@example.org"}]}, world.tokens["organizer"])
    answered = db.session.scalar(select(Participant).where(Participant.email == "c@example.org"))
    answered.invitation_status = "declined"
    db.session.commit()
    organizer_reply = post(client, f"/events/{world.event_id}/reminders", None,
                           world.tokens["organizer"])
    assert organizer_reply.get_json() == {"reminded": 2}  # never invited by mail: not reminded
    assert post(client, f"/events/{world.event_id}/reminders", None,
                world.tokens["organizer"]).get_json() == {"reminded": 0}
    for participant in db.session.scalars(select(Participant).where(
            Participant.reminded_at.is_not(None))):
        participant.reminded_at = utcnow() - invitations.REMINDER_GAP - timedelta(minutes=1)
    db.session.commit()
    organizer = db.session.scalar(select(User).where(User.role == "organizer"))
    event = db.session.get(Event, world.event_id)
    assert invitations.count_due_reminders(organizer, event) == 2


# -- who may ----------------------------------------------------------------------------------

ACTORS = ("anonymous", "participant", "other_participant", "moderator", "official", "organizer")
INVITE = {"invitees": [{"name": "Kira", "email": "kira@example.org"}]}
#   method, path, body, statuses per ACTORS
MATRIX = [
    ("POST", "/events/{event}/invitations", INVITE, (401, 403, 403, 403, 200, 200)),
    ("GET", "/events/{event}/delegations", None, (401, 403, 403, 403, 403, 200)),
    ("GET", "/events/{event}/delegations?format=csv", None, (401, 403, 403, 403, 403, 200)),
    ("POST", "/events/{event}/delegations/invitations", {"organization": "Kaluga"},
     (401, 403, 403, 403, 403, 200)),
    ("POST", "/events/{event}/reminders", None, (401, 403, 403, 403, 403, 200)),
    # A participant record is 404 to anyone but organizers and that participant (DESIGN: an
    # object the caller may not see is 404, never 403).
    ("POST", "/participants/{guest}/invitation", {"status": "declined", "attendance": "remote"},
     (401, 200, 404, 404, 404, 200)),
    ("POST", "/participants/{official}/invitation", {"status": "accepted"},
     (401, 404, 404, 404, 200, 200)),
]


def cases():
    for method, path, body, statuses in MATRIX:
        for who, status in zip(ACTORS, statuses, strict=True):
            yield pytest.param(method, path, body, who, status, id=f"{method} {path} as {who}")


@pytest.mark.parametrize("method,path,body,who,status", list(cases()))
def test_access_matrix(client, world, method, path, body, who, status):
    response = client.open("/api/v1" + path.format(**world.ids), method=method, json=body,
                           headers=bearer(world.tokens[who]))
    assert response.status_code == status, response.get_json()
    text = response.get_data(as_text=True)
    own = {"participant": world.ids["guest"], "official": world.ids["official"]}.get(who)
    others = [p.token for p in db.session.scalars(select(Participant)) if p.id != own]
    if who != "organizer":
        assert not any(token in text for token in others), "another participant's token leaked"


def test_an_unpublished_event_is_404_for_an_official_of_another_event(client, world):
    db.session.get(Event, world.event_id).published = False
    db.session.commit()
    response = post(client, f"/events/{world.event_id}/invitations", INVITE,
                    world.tokens["other_participant"])
    assert response.status_code == 404
    assert post(client, f"/events/{world.event_id}/invitations", INVITE,
                world.tokens["official"]).status_code == 200


def test_someone_who_has_answered_is_not_invited_after_the_fact(client, world):
    official = db.session.get(Participant, world.ids["official"])
    official.invitation_status = "accepted"
    db.session.commit()
    body = post(client, f"/events/{world.event_id}/invitations",
                {"invitees": [{"name": "Olga", "email": official.email}]},
                world.tokens["organizer"]).get_json()
    assert ([p["id"] for p in body["merged"]], body["mailed"]) == ([official.id], 0)
    db.session.refresh(official)
    assert official.invited_at is None


def test_a_racing_invitation_of_the_same_address_is_merged_not_a_500(world, monkeypatch):
    """The other request commits the address between our lookup and our insert: staged by
    making the first lookup miss it. The batch runs once more and merges."""
    organizer = db.session.scalar(select(User).where(User.role == "organizer"))
    event = db.session.get(Event, world.event_id)
    known = db.session.get(Participant, world.ids["delegate"])
    real, misses = invitations.find_participants, [{}]
    monkeypatch.setattr(invitations, "find_participants",
                        lambda *args: misses.pop() if misses else real(*args))
    report = invitations.invite(organizer, event, [
        {"name": "Dieter", "email": known.email}, {"name": "New", "email": "new@example.org"}])
    assert [p.id for p in report.merged] == [known.id]
    assert [p.email for p in report.invited] == ["new@example.org"]
    assert emails(world.event_id).count(known.email) == 1


def test_the_demo_is_a_real_invitation_round_by_delegation_pair(client, api_token):
    """seed-demo's round: the association invited the Russian heads, each head their delegate
    and the partner city's leadership; every state shows, each organization under one name on
    both sides (so the table pairs them), and the last pair is on the list, not mailed yet."""
    from eventhub.models import OutboxMail
    from eventhub.services import demo, jobs

    event_id = demo.seed_demo().event_id
    jobs.dispatcher().wait(30)
    organizer = db.session.scalar(select(User).where(User.role == "organizer"))
    rows = client.get(f"/api/v1/events/{event_id}/delegations?limit=200",
                      headers=bearer(api_token(organizer))).get_json()["items"]
    by_name = {row["organization"]: row for row in rows}
    pairs = [(f"Администрация г. {ru}", f"Stadt {de}") for ru, de in demo.TWIN_CITIES]
    for ru_org, de_org in pairs:  # one row per organization, next to its partner
        assert by_name[ru_org]["partner_organization"] == de_org
        assert by_name[de_org]["partner_organization"] == ru_org
    assert len(rows) == len(pairs) * 2 + len({guest[1] for guest in demo.GUESTS})
    total = {name: sum(row[name] for row in rows)
             for name in ("invited", "accepted", "declined", "no_answer", "in_person",
                          "remote", "not_sent")}
    assert all(total[name] > 0 for name in total), total
    assert total["accepted"] == total["in_person"] + total["remote"]
    assert total["invited"] == total["accepted"] + total["declined"] + total["no_answer"]
    kiel = by_name["Stadt Kiel"]
    assert kiel["not_sent"] == kiel["invited"] == kiel["no_answer"] > 0
    mixed = [row for row in rows if row["partner_organization"] and
             len({name for name in ("in_person", "remote", "declined", "no_answer")
                  if row[name] + by_name[row["partner_organization"]][name]}) >= 3]
    assert len(mixed) >= 10  # most pairs show several kinds of answer
    # The mails of the round: an invitation to everyone invited, a confirmation to everyone
    # who accepted, from the heads for their partner cities.
    mails = list(db.session.scalars(select(OutboxMail)))
    kinds = {kind: sum(1 for m in mails if m.kind == kind) for kind in ("invitation",
                                                                        "confirmation")}
    assert kinds == {"invitation": total["invited"] - total["not_sent"],
                     "confirmation": total["accepted"]}
    suhl_head = db.session.scalar(select(Participant).where(
        Participant.organization == "Stadt Suhl", Participant.role == "official"))
    invitation = next(m for m in mails if m.kind == "invitation"
                      and m.participant_id == suhl_head.id)
    assert invitation.payload["inviter"] == f"{demo.RU_NAMES[0]} (Администрация г. Калуга)"
    # Reminders have someone to reach: those invited by mail who have not answered.
    due = invitations.count_due_reminders(organizer, db.session.get(Event, event_id))
    assert due == total["no_answer"] - total["not_sent"] > 0
    # Speakers are people who are coming.
    from eventhub.models import Session

    speakers = {p for s in db.session.scalars(select(Session)) for p in s.speakers}
    assert speakers and all(p.invitation_status == "accepted" for p in speakers)
