"""The mails behind invitations: one invitation per invitee, in their language, with their link;
a confirmation on accepting; reminders. Sent by the real job runner to aiosmtpd on 127.0.0.1."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from eventhub.extensions import db
from eventhub.models import Event, Participant, User
from eventhub.services import invitations, jobs
from eventhub.services.common import pick_text
from tests.conftest import bearer


@pytest.fixture
def app_config(app_config, smtp):
    """Mail goes to the test's SMTP server."""
    return {**app_config, "SMTP_URL": smtp.url}


def sent_mails(smtp) -> list:
    """Every mail the server has accepted, once the job runner is idle (it sends after commit)."""
    assert jobs.dispatcher().wait(30), "mail jobs still running"
    return smtp.parsed()


def text_of(mail) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


@pytest.fixture
def organizer(create_user, api_token):
    return api_token(create_user("organizer", name="Olga Organizer"))


@pytest.fixture
def event(create_event):
    return create_event(title={"en": "Partner Cities", "ru": "Города-партнёры",
                               "de": "Partnerstädte"})


INVITATION = {"ru": "Приглашение", "de": "Einladung", "en": "Invitation"}  # the subject's start
INVITEES = [
    {"name": "Rita Russian", "email": "rita@example.org", "language": "ru"},
    {"name": "Dora Deutsch", "email": "dora@example.org", "country": "DE"},
    {"name": "Emma English", "email": "emma@example.org"},
]


def test_each_invitee_gets_one_invitation_in_their_language_with_their_own_link(
        smtp, client, event, organizer):
    response = client.post(f"/api/v1/events/{event.id}/invitations",
                           json={"invitees": INVITEES + [INVITEES[0]],
                                 "message": "Bienvenue à Kaluga"},
                           headers=bearer(organizer))
    assert response.status_code == 200
    # Invited again: merged, and no second invitation.
    client.post(f"/api/v1/events/{event.id}/invitations", json={"invitees": INVITEES[:1]},
                headers=bearer(organizer))
    mails = sent_mails(smtp)
    people = {p.email: p for p in db.session.scalars(select(Participant))}
    assert sorted(mail["To"].addresses[0].addr_spec for mail in mails) == sorted(people)
    for mail in mails:
        participant = people[mail["To"].addresses[0].addr_spec]
        body = text_of(mail)
        assert mail["Content-Language"] == participant.language
        assert mail["Subject"].startswith(INVITATION[participant.language])
        assert pick_text(event.title, participant.language) in mail["Subject"]
        assert f"http://eventhub.test/p/{participant.token}" in body
        assert "Bienvenue à Kaluga" in body and "Olga Organizer" in body
        others = [p.token for p in people.values() if p.id != participant.id]
        assert not any(token in mail.as_string() for token in others)
    assert {p.language for p in people.values()} == {"ru", "de", "en"}


def test_an_officials_invitation_names_them(smtp, client, event, create_participant):
    official = create_participant(event, "Oleg Official", role="official",
                                  organization="Kaluga", partner_organization="Suhl")
    client.post(f"/api/v1/events/{event.id}/invitations",
                json={"invitees": [{"name": "Sven", "email": "sven@example.org",
                                    "organization": "Suhl", "language": "de"}]},
                headers=bearer(official.token))
    [mail] = sent_mails(smtp)
    assert mail["To"].addresses[0].addr_spec == "sven@example.org"
    assert "Oleg Official (Kaluga)" in text_of(mail)
    assert official.token not in mail.as_string()


def test_accepting_sends_one_confirmation_and_a_rejected_batch_sends_nothing(
        smtp, client, event, organizer, create_participant):
    guest = create_participant(event, "Gina", language="de")
    assert client.post(f"/api/v1/events/{event.id}/invitations",
                       json={"invitees": [{"name": "Bad", "email": "bad"}]},
                       headers=bearer(organizer)).status_code == 422
    for _ in range(2):
        client.post(f"/api/v1/participants/{guest.id}/invitation",
                    json={"status": "accepted", "attendance": "remote"},
                    headers=bearer(guest.token))
    [mail] = sent_mails(smtp)
    assert mail["To"].addresses[0].addr_spec == guest.email
    assert "Partnerstädte" in mail["Subject"] and mail["Content-Language"] == "de"
    assert f"/calendars/p/{guest.token}.ics" in text_of(mail)


def test_reminders_go_to_those_who_have_not_answered(smtp, client, event, organizer):
    client.post(f"/api/v1/events/{event.id}/invitations", json={"invitees": INVITEES},
                headers=bearer(organizer))
    rita = db.session.scalar(select(Participant).where(Participant.email == "rita@example.org"))
    rita.invitation_status = "accepted"
    emma = db.session.scalar(select(Participant).where(Participant.email == "emma@example.org"))
    emma.mail_opt_out = True
    db.session.commit()
    user = db.session.scalar(select(User))
    assert invitations.count_due_reminders(user, db.session.get(Event, event.id)) == 1
    reply = client.post(f"/api/v1/events/{event.id}/reminders", headers=bearer(organizer))
    assert reply.get_json() == {"reminded": 1}
    reminders = [m for m in sent_mails(smtp) if "List-Unsubscribe" in m]
    assert [m["To"].addresses[0].addr_spec for m in reminders] == ["dora@example.org"]
