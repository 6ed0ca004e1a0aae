"""The invitation pages with the Flask test client: the back office's invitations page and the
participant's answer and an official's invitation form on /p/<token>."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from eventhub.extensions import db
from eventhub.models import Event, Participant, User, utcnow
from eventhub.services import invitations
from tests.browser.world import PASSWORD, World, compile_translations

compile_translations()


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    field = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    return re.search(r'value="([^"]+)"', field).group(1)


def signed_in(app, email: str):
    client = app.test_client()
    token = csrf(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"email": email, "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    return client


def person(app, email: str) -> Participant | None:
    """The participant with this address as the database has them now (detached)."""
    with app.app_context():
        found = db.session.scalar(select(Participant).where(Participant.email == email))
        if found is not None:
            db.session.expunge(found)
        return found


def page_url(world: World) -> str:
    return f"/manage/events/{world.event_id}/invitations"


def test_the_page_is_for_organizers(app, world):
    anonymous = app.test_client().get(page_url(world))
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    assert signed_in(app, world.moderator).get(page_url(world)).status_code == 403
    participant = app.test_client()
    participant.get(f"/p/{world.anna_token}")
    assert participant.get(page_url(world)).status_code == 302
    page = signed_in(app, world.organizer).get(page_url(world))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'aria-current="page"' in html and "Invitations" in html
    rows = re.findall(r'<th scope="row">([^<]*)</th>\s*<td[^>]*>([^<]*)</td>', html)
    assert rows == [("Kaluga", "Suhl"), ("Suhl", "Kaluga"), ("Total", "")]
    assert world.anna_token not in html and world.boris_token not in html


def test_invite_one_person(app, world):
    client = signed_in(app, world.organizer)
    token = csrf(client.get(page_url(world)).get_data(as_text=True))
    response = client.post(page_url(world) + "/one", data={
        "csrf_token": token, "name": "Nina Neu", "email": "nina@example.org",
        "organization": "Suhl", "partner_organization": "Kaluga", "country": "DE",
        "language": "", "role": "", "message": "Willkommen"})
    assert response.status_code == 303
    nina = person(app, "nina@example.org")
    assert (nina.language, nina.role, nina.invited_at is not None) == ("de", "delegate", True)
    assert "1 invitation sent." in client.get(page_url(world)).get_data(as_text=True)


def test_a_bad_address_is_shown_beside_its_field_and_nothing_changes(app, world):
    client = signed_in(app, world.organizer)
    token = csrf(client.get(page_url(world)).get_data(as_text=True))
    response = client.post(page_url(world) + "/one?lang=de", data={
        "csrf_token": token, "name": "Nina Neu", "email": "nina-at-example.org"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="email"[^>]*value="nina-at-example.org"[^>]*aria-invalid="true"', html)
    assert 'id="email-error">Keine gültige E-Mail-Adresse.' in html
    assert 'value="Nina Neu"' in html
    assert person(app, "nina-at-example.org") is None


def test_a_pasted_list_invites_the_good_lines_and_lists_the_bad_ones(app, world):
    client = signed_in(app, world.organizer)
    token = csrf(client.get(page_url(world)).get_data(as_text=True))
    rows = ("name;email;organization;language\n"
            "Karl;karl@example.org;Suhl;de\n"
            "\n"
            "Broken;broken@;Suhl;de\n"
            "Anna again;ANNA@example.org;Kaluga;ru\n")
    response = client.post(page_url(world) + "/list", data={"csrf_token": token, "rows": rows})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Line 4 · broken@: Not a valid e-mail address." in html
    # Anna was a participant already but had never been sent the invitation: she gets it now.
    assert "2 invitations sent. 1 person added. 1 was already a participant." in html
    assert person(app, "karl@example.org").organization == "Suhl"
    assert person(app, "broken@") is None
    with app.app_context():  # merged: still one Anna
        assert db.session.scalar(select(func.count()).where(
            Participant.email == "anna@example.org")) == 1


def test_an_uploaded_file_with_a_bom_and_a_wrong_header(app, world):
    client = signed_in(app, world.organizer)
    token = csrf(client.get(page_url(world)).get_data(as_text=True))
    good = "\ufeffname,email,country\nLena,lena@example.org,RU\n".encode()
    response = client.post(page_url(world) + "/list", data={
        "csrf_token": token, "file": (io.BytesIO(good), "people.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 200
    assert person(app, "lena@example.org").language == "ru"
    response = client.post(page_url(world) + "/list", data={
        "csrf_token": token, "file": (io.BytesIO(b"who,where\nx,y\n"), "people.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "The first line must be the header: name,email," in response.get_data(as_text=True)
    response = client.post(page_url(world) + "/list", data={
        "csrf_token": token, "file": (io.BytesIO(b"name,email\n\xff\xfe,x\n"), "people.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    assert "This is not a CSV file in UTF-8." in response.get_data(as_text=True)


def test_invite_a_delegation_pair(app, world):
    client = signed_in(app, world.organizer)
    html = client.get(page_url(world)).get_data(as_text=True)
    assert "Kaluga and Suhl: 2 not sent yet" in html
    assert "Suhl and Kaluga" not in html  # one choice per pair
    response = client.post(page_url(world) + "/delegation",
                           data={"csrf_token": csrf(html), "organization": "Kaluga",
                                 "message": "Herzlich willkommen"})
    assert response.status_code == 303
    assert person(app, "anna@example.org").invited_at is not None
    assert person(app, "boris@example.org").invited_at is not None
    assert "2 invitations sent." in client.get(page_url(world)).get_data(as_text=True)
    refused = client.post(page_url(world) + "/delegation",
                          data={"csrf_token": csrf(html), "organization": "Atlantis"})
    assert refused.status_code == 422


def test_reminders_ask_for_confirmation_naming_how_many(app, world):
    client = signed_in(app, world.organizer)
    html = client.get(page_url(world)).get_data(as_text=True)
    client.post(page_url(world) + "/delegation",
                data={"csrf_token": csrf(html), "organization": "Kaluga"})
    assert "Remind 2 people who have not answered" in client.get(page_url(world)).get_data(
        as_text=True)
    confirm = client.get(page_url(world) + "/reminders?lang=ru").get_data(as_text=True)
    assert "Да, напомнить 2 людям" in confirm
    response = client.post(page_url(world) + "/reminders", data={"csrf_token": csrf(confirm)})
    assert response.status_code == 303
    assert person(app, "anna@example.org").reminded_at is not None
    page = client.get(page_url(world) + "?lang=en").get_data(as_text=True)
    assert "Отправлено 2 напоминания." in page  # said in the language of the POST
    assert "Nobody to remind now" in page and "Remind 0" not in page
    again = client.get(page_url(world) + "/reminders").get_data(as_text=True)
    assert "Yes, remind" not in again  # nobody due: no button


def test_forms_without_csrf_are_refused(app, world):
    client = signed_in(app, world.organizer)
    for path in ("/one", "/list", "/delegation", "/reminders"):
        assert client.post(page_url(world) + path, data={"organization": "Kaluga"}
                           ).status_code == 400
    assert person(app, "anna@example.org").invited_at is None


def test_the_table_downloads_as_csv(app, world):
    response = signed_in(app, world.organizer).get(page_url(world) + "?format=csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).splitlines()[1] == "Kaluga,Suhl,1,0,0,1,0,0,1"


# -- the participant's page ---------------------------------------------------------------------


def test_a_participant_accepts_remotely_on_their_page(app, world):
    client = app.test_client()
    html = client.get(f"/p/{world.boris_token}").get_data(as_text=True)
    assert 'id="attend-remote"' in html
    assert "Invite your delegation" not in html  # Boris is no official
    response = client.post(f"/p/{world.boris_token}/invitation",
                           data={"csrf_token": csrf(html), "status": "accepted",
                                 "attendance": "remote"})
    assert response.status_code == 303
    boris = person(app, "boris@example.org")
    assert (boris.invitation_status, boris.attendance) == ("accepted", "remote")
    assert client.post(f"/p/{world.boris_token}/invitation",
                       data={"csrf_token": csrf(html), "status": "accepted",
                             "attendance": "online"}).status_code == 400
    assert client.post(f"/p/{world.boris_token}/invitations",
                       data={"csrf_token": csrf(html), "name": "X",
                             "email": "x@example.org"}).status_code == 403
    assert person(app, "x@example.org") is None


def test_an_official_invites_their_partner_city_from_their_page(app, world):
    client = app.test_client()
    html = client.get(f"/p/{world.anna_token}?lang=ru").get_data(as_text=True)
    assert "Пригласите свою делегацию" in html
    assert '<option value="Suhl">Suhl</option>' in html
    response = client.post(f"/p/{world.anna_token}/invitations", data={
        "csrf_token": csrf(html), "name": "Sven Suhl", "email": "sven@example.org",
        "organization": "Suhl", "language": "de", "role": "delegate"})
    assert response.status_code == 303
    sven = person(app, "sven@example.org")
    assert (sven.organization, sven.partner_organization, sven.language) == (
        "Suhl", "Kaluga", "de")
    page = client.get(f"/p/{world.anna_token}?lang=en").get_data(as_text=True)
    assert "Sven Suhl · Suhl · no answer yet" in page
    with app.app_context():  # the token is derived under the app's SECRET_KEY
        assert sven.token not in page

    outside = client.post(f"/p/{world.anna_token}/invitations", data={
        "csrf_token": csrf(html), "name": "Tom", "email": "tom@example.org",
        "organization": "Tula"})
    assert outside.status_code == 403
    bad = client.post(f"/p/{world.anna_token}/invitations", data={
        "csrf_token": csrf(html), "name": "Tom", "email": "tom@", "organization": "Kaluga"})
    assert bad.status_code == 422
    assert 'id="email-error">' in bad.get_data(as_text=True)
    assert person(app, "tom@example.org") is None and person(app, "tom@") is None


def test_pages_carry_no_inline_script_or_style(app, world):
    client = signed_in(app, world.organizer)
    client.get(f"/p/{world.anna_token}")
    for path in (page_url(world), page_url(world) + "/reminders", f"/p/{world.anna_token}"):
        html = client.get(path).get_data(as_text=True)
        assert " style=" not in html and "<style" not in html, path
        scripts = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
        assert all('type="application/json"' in attrs for attrs in scripts), path


def test_reminder_gap_counts_from_the_last_reminder(app, world, ctx):
    organizer = db.session.scalar(select(User).where(User.email == world.organizer))
    event = db.session.get(Event, world.event_id)
    invitations.invite_delegation(organizer, event, "Kaluga")
    assert invitations.send_reminders(organizer, event) == 2
    assert invitations.count_due_reminders(organizer, event) == 0
    anna = db.session.scalar(select(Participant).where(Participant.email == "anna@example.org"))
    anna.reminded_at = utcnow() - invitations.REMINDER_GAP - timedelta(seconds=1)
    db.session.commit()
    assert invitations.count_due_reminders(organizer, event) == 1
