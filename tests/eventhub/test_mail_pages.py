"""Without SMTP: .eml files under the outbox directory and /manage/outbox (organizers only);
the participant's unsubscribe page and one-click POST."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

import pytest
from mail_support import outbox, settle

from eventhub.extensions import db
from eventhub.services import mail, users


@pytest.fixture
def people(create_event, create_participant):
    event = create_event()
    return [create_participant(event, name="Анна", language="ru"),
            create_participant(event, name="Ben", language="de", attendance="remote")]


def sign_in(client, app, role: str) -> None:
    with app.app_context():
        user = users.create_user(f"{role}@example.org", "secret-pw-1", role, role.title())
        user_id = user.id
    with client.session_transaction() as browser:
        browser["user_id"] = user_id


def test_without_smtp_mails_are_eml_files_and_organizers_read_them(app, ctx, client, people):
    anna, ben = people
    mail.queue_mail(anna, "invitation", context={"message": "Ждём вас <b>в Калуге</b>"})
    mail.queue_mail(ben, "confirmation")
    db.session.commit()
    settle()
    files = sorted(Path(app.config["MAIL_OUTBOX_DIR"]).glob("*.eml"))
    assert len(files) == 2
    parsed = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]
    assert {m["Message-ID"] for m in parsed} == {row.message_id for row in outbox()}
    assert all(row.state == "sent" for row in outbox())

    sign_in(client, app, "organizer")
    page = client.get("/manage/outbox?lang=ru")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Приглашение: Конференция" in html and ben.email in html
    assert "письма сохраняются как файлы .eml" in html
    row = next(r for r in outbox() if r.kind == "invitation")
    detail = client.get(f"/manage/outbox/{row.id}?lang=ru").get_data(as_text=True)
    assert "Ждём вас &lt;b&gt;в Калуге&lt;/b&gt;" in detail  # escaped, never markup
    assert 'sandbox=""' in detail  # the HTML part runs nothing
    eml = client.get(f"/manage/outbox/{row.id}.eml")
    assert eml.status_code == 200 and eml.mimetype == "message/rfc822"
    assert client.get("/manage/outbox/999999").status_code == 404


@pytest.mark.parametrize("who", ["moderator", None])
def test_the_outbox_is_for_organizers_only(app, client, people, who):
    if who:
        sign_in(client, app, who)
        assert client.get("/manage/outbox").status_code == 403
    else:
        response = client.get("/manage/outbox")
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_one_click_unsubscribe_and_the_page_still_shows_everything(app, ctx, client, people):
    _anna, ben = people
    token = ben.token
    page = client.get(f"/p/{token}/unsubscribe?lang=de")
    assert page.status_code == 200 and "Abbestellen" in page.get_data(as_text=True)
    # RFC 8058: a mail client's POST, no cookie, no CSRF token.
    fresh = app.test_client()
    done = fresh.post(f"/p/{token}/unsubscribe", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    db.session.refresh(ben)
    assert ben.mail_opt_out
    mail.queue_mail(ben, "reminder")
    mail.queue_mail(ben, "join", context={"session_id": 1})  # nothing written: no session read
    db.session.commit()
    assert outbox() == []
    assert client.get(f"/p/{token}").status_code == 200  # the page is unaffected
    again = fresh.post(f"/p/{token}/unsubscribe", data={"action": "resubscribe"})
    assert again.status_code == 200
    db.session.refresh(ben)
    assert not ben.mail_opt_out


@pytest.mark.parametrize(("method", "data"), [("get", None), ("post", {}),
                                              ("post", {"action": "other"})])
def test_unsubscribe_with_a_bad_token_or_action_changes_nothing(app, ctx, client, people,
                                                                method, data):
    response = getattr(client, method)("/p/not-a-token/unsubscribe", data=data)
    assert response.status_code == 404
    if data:
        bad = client.post(f"/p/{people[0].token}/unsubscribe", data={"action": "other"})
        assert bad.status_code == 400
        db.session.refresh(people[0])
        assert not people[0].mail_opt_out
