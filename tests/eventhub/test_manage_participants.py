"""Participants in the back office and the API: filters and search, add, edit, delete, rotate
a link; CSV import (preview, all or nothing, report) and export of the filtered table."""

from __future__ import annotations

import csv
import html as html_lib
import io
import re

import pytest

from eventhub.extensions import db
from eventhub.models import ApiToken, Event, Participant, User
from eventhub.services import access
from tests.conftest import START, bearer
from tests.eventhub.manage_support import csrf, field_errors, post, sign_in

HEADER = "name,email,organization,partner_organization,country,role,attendance,language"
PEOPLE = [  # name, e-mail, organization, role, attendance, invitation
    ("Анна Петрова", "anna@kaluga.ru", "Администрация Калуги", "official", "in_person",
     "accepted"),
    ("Борис Иванов", "boris@kaluga.ru", "Администрация Калуги", "delegate", "remote", "invited"),
    ("Jürgen Groß", "jg@suhl.de", "Stadt Suhl", "official", "remote", "declined"),
    ("Ölaf Weiß", "ow@suhl.de", "Stadt Suhl", "press", "in_person", "accepted"),
    ("100%_Name", "odd@example.org", "", "guest", "in_person", "invited"),
]


@pytest.fixture
def event_id(app) -> int:
    with app.app_context():
        event = Event(slug="conf", title={"en": "Conference"}, timezone="Europe/Moscow",
                      start_date=START, end_date=START, published=True)
        db.session.add(event)
        for name, email, org, role, attendance, invitation in PEOPLE:
            access.issue_participant_token(Participant(
                event=event, name=name, email=email, organization=org, role=role,
                attendance=attendance, invitation_status=invitation))
        db.session.commit()
        return event.id


def people(app) -> list[tuple]:
    with app.app_context():
        return sorted((p.email, p.name, p.organization, p.partner_organization, p.country,
                       p.role, p.attendance, p.language, p.invitation_status, p.token)
                      for p in db.session.query(Participant))


def names_on(html: str) -> list[str]:
    return [html_lib.unescape(n) for n in re.findall(
        r'<th scope="row"><a href="/manage/participants/\d+">([^<]*)</a>', html)]


def organizer_token(app) -> str:
    with app.app_context():
        user = User(email="api@example.org", role="organizer", password_hash="x")
        token = access.new_token()
        db.session.add_all([user, ApiToken(user=user, digest=access.digest(token))])
        db.session.commit()
        return token


FILTERS = [
    ({"role": "official"}, ["Jürgen Groß", "Анна Петрова"]),
    ({"attendance": "remote"}, ["Jürgen Groß", "Борис Иванов"]),
    ({"invitation_status": "accepted"}, ["Ölaf Weiß", "Анна Петрова"]),
    ({"organization": "Stadt Suhl"}, ["Jürgen Groß", "Ölaf Weiß"]),
    ({"organization": "Stadt Suhl", "role": "press"}, ["Ölaf Weiß"]),
    ({"q": "Петров"}, ["Анна Петрова"]),
    ({"q": "анна"}, ["Анна Петрова"]),  # Cyrillic, whatever the case (SQLite too)
    ({"q": "weiß"}, ["Ölaf Weiß"]),
    ({"q": "SUHL.DE"}, ["Jürgen Groß", "Ölaf Weiß"]),
    ({"q": "%"}, ["100%_Name"]),  # LIKE wildcards are literal
    ({"q": "_"}, ["100%_Name"]),
    ({"q": "nobody"}, []),
]


@pytest.mark.parametrize(("filters", "expected"), FILTERS)
def test_the_table_and_the_api_filter_alike(app, event_id, filters, expected):
    organizer = sign_in(app)
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    html = organizer.get(f"/manage/events/{event_id}/participants?{query}").get_data(
        as_text=True)
    assert sorted(names_on(html)) == sorted(expected)
    response = app.test_client().get(f"/api/v1/events/{event_id}/participants?{query}",
                                     headers=bearer(organizer_token(app)))
    assert response.status_code == 200
    assert sorted(p["name"] for p in response.json["items"]) == sorted(expected)
    assert response.json["total"] == len(expected)


def test_the_api_refuses_unknown_filter_values(app, event_id):
    token = organizer_token(app)
    client = app.test_client()
    for query, field in (("role=king", "role"), ("attendance=moon", "attendance"),
                         ("invitation_status=maybe", "invitation_status"),
                         ("q=" + "x" * 201, "q")):
        response = client.get(f"/api/v1/events/{event_id}/participants?{query}",
                              headers=bearer(token))
        assert response.status_code == 422, query
        assert field in response.json["error"]["fields"]
    with app.app_context():
        moderator = User(email="mod@example.org", role="moderator", password_hash="x")
        mod_token = access.new_token()
        db.session.add_all([moderator, ApiToken(user=moderator, digest=access.digest(mod_token))])
        db.session.commit()
    response = client.get(f"/api/v1/events/{event_id}/participants?role=king",
                          headers=bearer(mod_token))
    assert response.status_code == 403  # permission before field validation


def test_the_table_pages_through_thousands(app, event_id):
    with app.app_context():
        for n in range(1200):
            db.session.add(Participant(event_id=event_id, name=f"Person {n:04d}",
                                       email=f"p{n}@example.org"))
        db.session.commit()
    organizer = sign_in(app)
    first = organizer.get(f"/manage/events/{event_id}/participants").get_data(as_text=True)
    assert len(names_on(first)) == 50 and "1205 participants" in first
    assert "Page 1 of 25" in first
    last = organizer.get(f"/manage/events/{event_id}/participants?page=25").get_data(
        as_text=True)
    assert len(names_on(last)) == 5 and names_on(last)[-1] == "Борис Иванов"  # by name
    searched = organizer.get(f"/manage/events/{event_id}/participants?page=99&q=Person")
    html = searched.get_data(as_text=True)  # past the end: the last page (24 of them)
    assert names_on(html)[-1] == "Person 1199" and "Page 24 of 24" in html
    assert "page=23&amp;q=Person" in html  # the filter is kept


def test_export_the_filtered_table_as_csv(app, event_id):
    organizer = sign_in(app)
    response = organizer.get(f"/manage/events/{event_id}/participants?format=csv"
                             "&organization=Stadt+Suhl")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff" + HEADER + ",invitation_status\r\n")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert sorted(r["name"] for r in rows) == ["Jürgen Groß", "Ölaf Weiß"]


def test_export_defuses_spreadsheet_formulas(app, event_id):
    with app.app_context():
        db.session.add(Participant(event_id=event_id, name="=HYPERLINK(1)", email="f@x.org"))
        db.session.commit()
    organizer = sign_in(app)
    text = organizer.get(f"/manage/events/{event_id}/participants?format=csv&q=f@x").get_data(
        as_text=True)
    assert "'=HYPERLINK(1)" in text


def test_add_edit_rotate_and_delete_a_participant(app, event_id):
    organizer = sign_in(app)
    data = {"name": "Мария Смирнова", "email": "Maria@Example.org", "organization": "Калуга",
            "partner_organization": "Suhl", "country": "RU", "role": "speaker",
            "attendance": "remote", "language": "ru", "invitation_status": "invited"}
    response = post(organizer, f"/manage/events/{event_id}/participants/new", data)
    assert response.status_code == 303
    with app.app_context():
        maria = db.session.query(Participant).filter_by(email="maria@example.org").one()
        maria_id, old_token = maria.id, maria.token
        assert (maria.name, maria.role, maria.attendance) == ("Мария Смирнова", "speaker",
                                                              "remote")
    page = organizer.get(f"/manage/participants/{maria_id}").get_data(as_text=True)
    assert f"/p/{old_token}" in page and 'id="access-url" readonly' in page
    response = post(organizer, f"/manage/participants/{maria_id}",
                    {**data, "attendance": "in_person", "invitation_status": "accepted"})
    assert response.status_code == 303
    asked = organizer.get(f"/manage/participants/{maria_id}/rotate")
    assert "stop working at once" in asked.get_data(as_text=True)
    assert people(app)[2][-1] == old_token or old_token in [p[-1] for p in people(app)]
    assert post(organizer, f"/manage/participants/{maria_id}/rotate").status_code == 303
    with app.app_context():
        maria = db.session.get(Participant, maria_id)
        assert maria.token != old_token
        assert (maria.attendance, maria.invitation_status) == ("in_person", "accepted")
    assert app.test_client().get(f"/p/{old_token}").status_code == 404
    assert post(organizer, f"/manage/participants/{maria_id}/delete").status_code == 303
    with app.app_context():
        assert db.session.get(Participant, maria_id) is None


@pytest.mark.parametrize(("changes", "field", "message", "status"), [
    ({"name": ""}, "f-name", "This field is required.", 422),
    ({"email": "not-an-address"}, "f-email", "Enter a valid e-mail address.", 422),
    ({"role": "king"}, "f-role", "Choose one of the listed values.", 422),
    ({"attendance": "moon"}, "f-attendance", "Choose one of the listed values.", 422),
    ({"language": "fr"}, "f-language", "Choose one of the listed values.", 422),
    ({"country": "RUS"}, "f-country", "Too long: at most 2 characters.", 422),
    ({"email": "JG@suhl.de"}, "f-email", "This is already taken.", 409),
])
def test_a_rejected_participant_form_says_why_and_changes_nothing(app, event_id, changes,
                                                                 field, message, status):
    organizer = sign_in(app)
    data = {"name": "Neu", "email": "neu@example.org", "organization": "", "country": "",
            "partner_organization": "", "role": "guest", "attendance": "in_person",
            "language": "de", "invitation_status": "invited", **changes}
    before = people(app)
    response = post(organizer, f"/manage/events/{event_id}/participants/new", data)
    assert response.status_code == status
    assert field_errors(response.get_data(as_text=True))[field] == message
    with app.app_context():
        anna = db.session.query(Participant).filter_by(email="anna@kaluga.ru").one().id
    response = post(organizer, f"/manage/participants/{anna}", data)
    assert response.status_code == status
    assert field_errors(response.get_data(as_text=True))[field] == message
    assert people(app) == before


# -- CSV import -------------------------------------------------------------------------------


def upload(client, event_id: int, raw: bytes):
    """Send a CSV file to the import's preview."""
    path = f"/manage/events/{event_id}/participants/import"
    token = csrf(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "file": (io.BytesIO(raw), "list.csv")},
                       content_type="multipart/form-data")


def apply(client, event_id: int, preview_html: str):
    """Press "Import now" on a preview page: it posts the previewed text back."""
    path = f"/manage/events/{event_id}/participants/import"
    text = html_lib.unescape(re.search(r'name="csv" value="([^"]*)"', preview_html).group(1))
    return client.post(path, data={"csrf_token": csrf(preview_html), "csv": text, "apply": "1"},
                       content_type="multipart/form-data")


def report_counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def rejected_lines(html: str) -> dict[int, str]:
    rows = re.findall(r'<tr data-line="(\d+)">(.*?)</tr>', html, flags=re.S)
    return {int(line): html_lib.unescape(re.sub(r"<[^>]+>", " ", body)) for line, body in rows}


@pytest.mark.parametrize(("encode", "delimiter"), [
    (lambda text: text.encode("utf-8"), ","),
    (lambda text: ("\ufeff" + text).encode("utf-8"), ";"),  # Excel: BOM, semicolons
    (lambda text: ("\ufeff" + text).replace("\n", "\r\n").encode("utf-8"), ","),
])
def test_import_previews_then_creates_updates_and_keeps(app, event_id, encode, delimiter):
    rows = [
        HEADER,
        "Мария Смирнова,maria@kaluga.ru,Администрация Калуги,Stadt Suhl,RU,speaker,remote,ru",
        "Jürgen Groß,JG@suhl.de,Stadt Suhl,Администрация Калуги,DE,official,in_person,de",
        "Анна Петрова,anna@kaluga.ru,Администрация Калуги,,,,,",
        "",
    ]
    text = "\n".join(row.replace(",", delimiter) for row in rows)
    organizer = sign_in(app)
    before = people(app)
    preview = upload(organizer, event_id, encode(text))
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert report_counts(html) == {"created": 1, "updated": 1, "unchanged": 1, "rejected": 0}
    assert "attendance" in html and "Import now" in html
    assert people(app) == before  # a preview writes nothing
    done = apply(organizer, event_id, html)
    assert done.status_code == 200
    assert report_counts(done.get_data(as_text=True)) == {"created": 1, "updated": 1,
                                                          "unchanged": 1, "rejected": 0}
    assert "The import is done." in done.get_data(as_text=True)
    with app.app_context():
        maria = db.session.query(Participant).filter_by(email="maria@kaluga.ru").one()
        assert (maria.name, maria.partner_organization, maria.country, maria.role,
                maria.attendance, maria.language) == (
            "Мария Смирнова", "Stadt Suhl", "RU", "speaker", "remote", "ru")
        assert maria.token and maria.token_digest == access.digest(maria.token)
        jurgen = db.session.query(Participant).filter_by(email="jg@suhl.de").one()
        assert (jurgen.attendance, jurgen.country, jurgen.invitation_status) == (
            "in_person", "DE", "declined")  # updated; invitation kept
        anna = db.session.query(Participant).filter_by(email="anna@kaluga.ru").one()
        assert anna.role == "official"  # empty cells keep what the participant has


@pytest.mark.parametrize(("raw", "reason"), [
    (b"vorname,email\nX,x@example.org\n", "The first line must name the columns"),
    (b"name,email,email\nX,x@example.org,y@example.org\n", "The first line must name"),
    (b"name,email,age\nX,x@example.org,3\n", "The first line must name the columns"),
    ("name,email\nJürgen,jg2@suhl.de\n".encode("cp1252"), "not UTF-8"),
    (b"", "The file is empty."),
    (b"name,email\n\"unclosed,x@example.org\n", "not valid CSV"),
])
def test_a_file_that_is_not_the_format_is_refused_whole(app, event_id, raw, reason):
    organizer = sign_in(app)
    before = people(app)
    response = upload(organizer, event_id, raw)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The file is refused and nothing was changed." in html and reason in html
    assert "Import now" not in html
    assert people(app) == before


def test_rejected_rows_are_listed_and_nothing_is_imported(app, event_id):
    text = "\n".join([
        HEADER,
        "Gut,gut@example.org,,,,guest,,",
        "Schlecht,not-an-email,,,,guest,,",
        "König,koenig@example.org,,,,king,,",
        ",nameless@example.org,,,,,,",
        "Zweimal,gut@example.org,,,,,,",
        "Kurz,kurz@example.org",
        "Land,land@example.org,,,DEU,,,",
    ])
    organizer = sign_in(app)
    before = people(app)
    response = upload(organizer, event_id, text.encode())
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "6 rows are rejected" in html and "Import now" not in html
    assert report_counts(html)["rejected"] == 6
    lines = rejected_lines(html)
    assert set(lines) == {3, 4, 5, 6, 7, 8}
    assert "Enter a valid e-mail address." in lines[3]
    assert "role" in lines[4] and "Choose one of the listed values." in lines[4]
    assert "This field is required." in lines[5]
    assert "already on line 2" in lines[6]
    assert "2 cells" in lines[7]
    assert "Too long" in lines[8]
    # Forcing the import with the same text changes nothing either.
    path = f"/manage/events/{event_id}/participants/import"
    forced = organizer.post(path, data={"csrf_token": csrf(html), "csv": text, "apply": "1"},
                            content_type="multipart/form-data")
    assert forced.status_code == 422
    assert people(app) == before


def test_a_10_mb_file_is_refused_with_a_report(app, event_id):
    organizer = sign_in(app)
    path = f"/manage/events/{event_id}/participants/import"
    token = csrf(organizer.get(path).get_data(as_text=True))
    boundary = "eventhub-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode()
    body += (HEADER + "\n").encode() + b"A,a@example.org,,,,,,\n" * (10_000_000 // 22)
    body += f"\r\n--{boundary}--\r\n".encode()
    assert len(body) > 10_000_000
    before = people(app)
    response = organizer.post(path, data=body,
                              content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 303
    page = organizer.get(response.location)
    assert "The file is too large" in page.get_data(as_text=True)
    assert people(app) == before


def test_a_file_just_over_the_import_limit_is_refused(ctx, create_user, create_event):
    from eventhub.services import participant_import
    from eventhub.web.manage.participants import validate_row

    organizer, event = create_user("organizer"), create_event()
    raw = (HEADER + "\n").encode() + b"x" * participant_import.MAX_BYTES
    report = participant_import.import_participants(organizer, event, raw, validate_row)
    assert report.error == "too_large" and not report.applied
    assert db.session.query(Participant).count() == 0

