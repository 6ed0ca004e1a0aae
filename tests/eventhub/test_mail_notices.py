"""Change notices and join links: one mail per participant per burst, iTIP that matches the
feed, the join link once per session when its window opens."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from mail_support import outbox, scan_and_settle, settle
from sqlalchemy import select

from eventhub.extensions import db
from eventhub.models import AgendaItem, OutboxMail, Participant, Session, User
from eventhub.services import agenda, demo, mail, sessions, switching, users


@pytest.fixture
def app_config(app_config, smtp):
    app_config["SMTP_URL"] = smtp.url
    app_config["MAIL_BURST_SECONDS"] = 0  # the scan closes every burst at once
    return app_config


@pytest.fixture
def organizer(ctx):
    return users.create_user("chair@example.org", "secret-pw-1", "organizer", "Chair")


@pytest.fixture
def programme(create_event, create_room, create_session, create_participant):
    """Two sessions in an hour from now; Anna (remote, ru) and Ben (in person, de) follow
    both; Dora declined; Emil follows nothing."""
    now = datetime.now(UTC).replace(microsecond=0)
    event = create_event(start_date=now.date() - timedelta(days=1),
                         end_date=now.date() + timedelta(days=1))
    hall = create_room(event)
    first = create_session(event, hall, start=now + timedelta(hours=1),
                           title={"en": "Opening", "ru": "Открытие", "de": "Eröffnung"})
    second = create_session(event, hall, start=now + timedelta(hours=3), title={"en": "Panel"})
    people = {
        "anna": create_participant(event, "Анна", attendance="remote", language="ru"),
        "ben": create_participant(event, "Ben", language="de"),
        "dora": create_participant(event, "Dora", invitation_status="declined"),
        "emil": create_participant(event, "Emil"),
    }
    for key in ("anna", "ben", "dora"):
        for event_session in (first, second):
            agenda.add_to_agenda(people[key], people[key], event_session)
    return event, first, second, people


def mails_to(smtp, participant) -> list:
    return [m for m in smtp.parsed() if m["To"].addresses[0].addr_spec == participant.email]


def itips(message) -> list[Calendar]:
    return [Calendar.from_ical(part.get_content().encode()
                               if isinstance(part.get_content(), str) else part.get_content())
            for part in message.iter_attachments() if part.get_content_type() == "text/calendar"]


def feed_entries(client, participant) -> dict[str, int]:
    response = client.get(f"/calendars/p/{participant.token}.ics")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.data)
    return {str(e["UID"]): int(e["SEQUENCE"]) for e in calendar.walk("VEVENT")}


def test_a_burst_of_changes_is_one_mail_whose_itip_matches_the_feed(
        ctx, client, smtp, organizer, programme):
    _event, first, second, people = programme
    sessions.set_session_status(organizer, first, "delayed", 15)
    sessions.update_session(organizer, second, {"starts_at": second.starts_at + timedelta(
        minutes=30), "ends_at": second.ends_at + timedelta(minutes=30)})
    switching.switch_session(first, "online", actor=organizer)
    settle()
    assert smtp.count() == 0  # the burst is still open until the scan
    scan_and_settle()
    anna, ben = people["anna"], people["ben"]
    [to_anna] = mails_to(smtp, anna)
    [to_ben] = mails_to(smtp, ben)
    assert mails_to(smtp, people["dora"]) == [] and mails_to(smtp, people["emil"]) == []
    assert to_anna["Subject"] == "Изменения в вашей программе: Конференция"
    assert to_anna["List-Unsubscribe"] == f"<http://eventhub.test/p/{anna.token}/unsubscribe>"
    text = to_anna.get_body(("plain",)).get_content()
    assert "переведено в онлайн" in text and "задерживается" in text and "новое время" in text
    # The remote attendee's join link is EventHub's, never the provider's.
    assert f"http://eventhub.test/join/{first.id}?t={anna.token}" in text
    assert "meet.jit.si" not in to_anna.as_string()
    feed = feed_entries(client, anna)
    calendars = itips(to_anna)
    assert len(calendars) == 2
    for calendar in calendars:
        assert str(calendar["METHOD"]) == "REQUEST"
        [entry] = calendar.walk("VEVENT")
        assert feed[str(entry["UID"])] == int(entry["SEQUENCE"])
        assert str(entry["ATTENDEE"]) == f"mailto:{anna.email}"
        assert str(entry["ORGANIZER"]).startswith("mailto:")
    by_uid = {str(c.walk("VEVENT")[0]["UID"]): c.walk("VEVENT")[0] for c in calendars}
    opening = by_uid[f"session-{first.id}@eventhub.test"]
    db.session.refresh(first)
    assert opening.DTSTART == first.expected_starts_at  # planned + the 15-minute delay
    assert len(itips(to_ben)) == 2


def test_a_cancellation_sends_an_itip_cancel(ctx, client, smtp, organizer, programme):
    _event, first, _second, people = programme
    sessions.set_session_status(organizer, first, "cancelled")
    scan_and_settle()
    [to_ben] = mails_to(smtp, people["ben"])
    [calendar] = itips(to_ben)
    assert str(calendar["METHOD"]) == "CANCEL"
    [entry] = calendar.walk("VEVENT")
    assert str(entry["STATUS"]) == "CANCELLED"
    assert feed_entries(client, people["ben"])[str(entry["UID"])] == int(entry["SEQUENCE"])
    assert 'method="CANCEL"' in to_ben.as_string() or "method=CANCEL" in to_ben.as_string()


def test_going_live_is_no_news_and_unsubscribed_people_get_none(ctx, smtp, organizer, programme):
    _event, first, second, people = programme
    sessions.set_session_status(organizer, first, "live")
    scan_and_settle()
    assert smtp.count() == 0 and outbox("change") == []
    mail.set_mail_opt_out(people["ben"], True)
    sessions.set_session_status(organizer, second, "cancelled")
    scan_and_settle()
    assert [m["To"].addresses[0].addr_spec for m in smtp.parsed()] == [people["anna"].email]


def test_a_rolled_back_change_owes_nobody_a_mail(ctx, organizer, programme):
    _event, first, _second, _people = programme
    first.delay_minutes = 30
    db.session.flush()
    assert db.session.scalar(select(OutboxMail).where(OutboxMail.kind == "change"))
    db.session.rollback()
    assert outbox("change") == []


def test_changes_within_the_burst_window_are_one_mail(app_config, ctx, smtp, organizer,
                                                      programme):
    from flask import current_app

    current_app.config["MAIL_BURST_SECONDS"] = 60
    _event, first, second, people = programme
    sessions.set_session_status(organizer, first, "delayed", 10)
    sessions.set_session_status(organizer, second, "delayed", 20)
    sessions.set_session_status(organizer, first, "delayed", 25)
    scan_and_settle()
    assert smtp.count() == 0  # the minute is not over
    rows = outbox("change")
    assert {r.state for r in rows} == {"collecting"}
    assert len({r.next_attempt_at for r in rows if r.participant_id == people["anna"].id}) == 1
    later = datetime.now(UTC) + timedelta(seconds=61)
    ready = mail.compose_due_notices(later)
    mail.submit_sends(ready)
    settle()
    assert len(mails_to(smtp, people["anna"])) == 1 and len(mails_to(smtp, people["ben"])) == 1


def test_the_join_link_goes_once_when_the_window_opens(ctx, smtp, organizer, programme):
    _event, first, _second, people = programme
    switching.switch_session(first, "online", actor=organizer)
    scan_and_settle()  # the change notice
    smtp.messages.clear()
    assert mail.queue_join_links() == 0  # an hour before the start: not yet
    opens = first.expected_starts_at - timedelta(minutes=first.event.join_window_minutes)
    assert mail.queue_join_links(opens + timedelta(seconds=1)) == 1  # Anna only: remote
    assert mail.queue_join_links(opens + timedelta(minutes=2)) == 0  # once only
    db.session.commit()
    settle()
    [message] = smtp.parsed()
    assert message["To"].addresses[0].addr_spec == people["anna"].email
    assert message["List-Unsubscribe"]
    body = message.get_body(("plain",)).get_content()
    assert f"http://eventhub.test/join/{first.id}?t={people['anna'].token}" in body
    [row] = outbox("join")
    assert row.dedupe_key == f"join:{first.id}:{people['anna'].id}"


def test_a_whole_event_switch_of_the_demo_is_one_mail_per_attendee(ctx, smtp):
    # The demo from tomorrow: every session is ahead whatever the hour (near midnight in
    # Moscow, a demo starting "today" would already be over and the switch would skip it).
    today = date.today() + timedelta(days=1)
    demo.seed_demo(today, now=datetime.now(UTC))
    settle()
    scan_and_settle()  # the demo's own hybrid press sessions
    before = set(smtp.parsed() and [m["Message-ID"] for m in smtp.parsed()])
    event = db.session.scalar(select(Session.event_id).limit(1))
    organizer = db.session.scalar(select(User).where(User.role == "organizer"))
    from eventhub.models import Event

    moved = switching.switch_event(db.session.get(Event, event), "online", actor=organizer)
    moved_ids = {s.id for s in moved}
    assert len(moved_ids) >= 10
    scan_and_settle()
    new = [m for m in smtp.parsed() if m["Message-ID"] not in before]
    recipients = Counter(m["To"].addresses[0].addr_spec for m in new)
    followers = db.session.execute(
        select(Participant.email, AgendaItem.session_id).join(AgendaItem)
        .where(AgendaItem.session_id.in_(moved_ids))).all()
    expected = {email for email, _ in followers}
    remote_today = {p.email for p in db.session.scalars(
        select(Participant).join(AgendaItem).join(Session, Session.id == AgendaItem.session_id)
        .where(Participant.attendance == "remote", Session.id.in_(moved_ids),
               Session.starts_at < datetime.combine(today + timedelta(days=1),
                                                    datetime.min.time(), UTC)))}  # day one
    assert remote_today and remote_today <= expected
    assert set(recipients) == expected
    assert set(recipients.values()) == {1}  # one mail each, not one per session
    per_person = Counter(email for email, _ in followers)
    for message in new:
        email = message["To"].addresses[0].addr_spec
        assert len(itips(message)) == per_person[email]


def cancel_of(message, session_id: int):
    """The iTIP of ``session_id`` in a mail, as (METHOD, VEVENT)."""
    for calendar in itips(message):
        [entry] = calendar.walk("VEVENT")
        if str(entry["UID"]).startswith(f"session-{session_id}@"):
            return str(calendar["METHOD"]), entry
    raise AssertionError(f"no iTIP for session {session_id}")


def test_a_deleted_session_is_a_cancel_with_the_feed_uid_and_a_higher_sequence(
        ctx, client, smtp, organizer, programme, create_participant, api_token):
    """DELETE /sessions/<id>: everyone who followed it hears, in the same burst as the other
    changes, with a CANCEL their calendar applies to the entry the feed gave it; the feed then
    no longer has the session (DESIGN.md keeps cancelled sessions, not deleted ones)."""
    event, first, second, people = programme
    quiet = create_participant(event, "Quiet")
    agenda.add_to_agenda(quiet, quiet, first)
    mail.set_mail_opt_out(quiet, True)
    before = {key: feed_entries(client, people[key]) for key in ("anna", "ben")}
    uid = f"session-{first.id}@eventhub.test"
    assert all(uid in entries for entries in before.values())
    first_id, titles = first.id, {"anna": "Открытие", "ben": "Eröffnung"}
    sessions.set_session_status(organizer, second, "delayed", 10)
    response = client.delete(f"/api/v1/sessions/{first_id}",
                             headers={"Authorization": f"Bearer {api_token(organizer)}"})
    assert response.status_code == 204
    settle()
    assert smtp.count() == 0  # the burst is still open until the scan
    scan_and_settle()
    assert {m["To"].addresses[0].addr_spec for m in smtp.parsed()} == {
        people["anna"].email, people["ben"].email}  # not Dora (declined), Emil, Quiet
    for key in ("anna", "ben"):
        participant = people[key]
        [message] = mails_to(smtp, participant)  # one mail for the burst
        assert message["List-Unsubscribe"]
        method, entry = cancel_of(message, first_id)
        assert method == "CANCEL"
        assert str(entry["UID"]) == uid
        assert int(entry["SEQUENCE"]) > before[key][uid]
        assert str(entry["STATUS"]) == "CANCELLED"
        assert str(entry["ATTENDEE"]) == f"mailto:{participant.email}"
        assert str(entry["ORGANIZER"]) == "mailto:eventhub@localhost"  # MAIL_FROM
        assert entry.DTSTART == first.expected_starts_at
        assert str(entry["SUMMARY"]) == titles[key]  # in the participant's language
        assert "session-" + str(first_id) + ".ics" in message.as_string()
        method, delayed = cancel_of(message, second.id)  # the other change of the burst
        assert method == "REQUEST"
        after = feed_entries(client, participant)
        assert uid not in after  # gone from the feed
        assert after[str(delayed["UID"])] == int(delayed["SEQUENCE"])
        text = message.get_body(("plain",)).get_content()
        assert titles[key] in text and f"/join/{first_id}" not in text


def test_a_cancelled_session_deleted_later_is_not_news_again(
        ctx, smtp, organizer, programme):
    _event, first, second, people = programme
    sessions.set_session_status(organizer, first, "cancelled")
    scan_and_settle()
    assert smtp.count() == 2  # Anna and Ben heard of the cancellation
    notices = len(outbox("change"))
    sessions.delete_session(organizer, first)
    scan_and_settle()
    assert smtp.count() == 2 and len(outbox("change")) == notices  # no notice written
    # Cancelled and deleted within one burst: the CANCEL still goes, once.
    smtp.messages.clear()
    second_id, sequence = second.id, second.sequence
    sessions.set_session_status(organizer, second, "cancelled")
    sessions.delete_session(organizer, second)
    scan_and_settle()
    for key in ("anna", "ben"):
        [message] = mails_to(smtp, people[key])
        assert len(itips(message)) == 1
        method, entry = cancel_of(message, second_id)
        assert method == "CANCEL" and int(entry["SEQUENCE"]) > sequence


def test_deleting_a_session_that_is_over_is_no_news(ctx, smtp, organizer, programme):
    _event, first, _second, _people = programme
    first.starts_at -= timedelta(hours=5)
    first.ends_at -= timedelta(hours=5)
    db.session.commit()
    scan_and_settle()
    smtp.messages.clear()
    sessions.delete_session(organizer, first)
    scan_and_settle()
    assert smtp.count() == 0
