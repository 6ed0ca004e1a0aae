"""``/?lang=ru``, as the README tells, shows the programme in Russian."""

from __future__ import annotations


def test_the_front_page_redirect_keeps_the_language(client, create_event):
    create_event()
    response = client.get("/?lang=ru")
    assert response.status_code == 302 and "lang=ru" in response.headers["Location"]
    page = client.get("/?lang=ru", follow_redirects=True).get_data(as_text=True)
    assert "Конференция" in page and 'lang="ru"' in page


def test_an_unknown_language_is_not_carried(client, create_event):
    create_event()
    response = client.get("/?lang=xx")
    assert "lang=" not in response.headers["Location"]
