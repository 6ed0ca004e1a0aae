"""Calendar links for the pages: feed URLs, ``webcal://``, "add to" and "subscribe in" links.

Per session: "add to Google Calendar / Outlook" (the public session as the feed shows it, never a
join or host link). Per feed: Google's and Outlook's "subscribe by URL". These only build URLs;
EventHub never sends a request to Google or Microsoft.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from calendars.build import location_text
from calendars.model import FeedSession

from ..models import Event, Session
from ..services import feeds

GOOGLE_URL = "https://calendar.google.com/calendar/render"
OUTLOOK_URL = "https://outlook.live.com/calendar/0/action/compose"
GOOGLE_SUBSCRIBE = "https://calendar.google.com/calendar/render"
OUTLOOK_SUBSCRIBE = "https://outlook.live.com/calendar/0/addfromweb"


def webcal_url(http_url: str) -> str:
    """The ``webcal://`` form of a feed URL, which calendar apps open as a subscription."""
    return urlsplit(http_url)._replace(scheme="webcal").geturl()


def event_feed_url(event: Event, language: str | None = None) -> str:
    """The public programme feed's absolute URL (on EVENTHUB_BASE_URL)."""
    url = f"{feeds.base_url()}/calendars/events/{event.id}.ics"
    return f"{url}?lang={feeds.feed_language(language)}" if language else url


def session_feed_url(event_session: Session, language: str | None = None) -> str:
    """A one-session feed's absolute URL (on EVENTHUB_BASE_URL)."""
    url = f"{feeds.base_url()}/calendars/sessions/{event_session.id}.ics"
    return f"{url}?lang={feeds.feed_language(language)}" if language else url


def google_calendar_url(event_session: Session, language: str | None = None) -> str:
    """An "add to Google Calendar" link for a session (times in UTC)."""
    lang = _language(language)
    item = feeds.public_feed_session(event_session, lang)
    stamp = "%Y%m%dT%H%M%SZ"
    query = {
        "action": "TEMPLATE",
        "text": item.title,
        "dates": f"{_utc(item.starts_at, stamp)}/{_utc(item.ends_at, stamp)}",
        "details": _details(item),
        "location": location_text(item, feeds.labels(lang)["online"]),
    }
    return f"{GOOGLE_URL}?{urlencode(query)}"


def outlook_calendar_url(event_session: Session, language: str | None = None) -> str:
    """An "add to Outlook" link for a session (ISO 8601 times in UTC)."""
    lang = _language(language)
    item = feeds.public_feed_session(event_session, lang)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    query = {
        "subject": item.title,
        "startdt": _utc(item.starts_at, iso),
        "enddt": _utc(item.ends_at, iso),
        "body": _details(item),
        "location": location_text(item, feeds.labels(lang)["online"]),
    }
    return f"{OUTLOOK_URL}?{urlencode(query)}"


def google_subscribe_url(feed_url: str) -> str:
    """Google Calendar's "add by URL" for a feed (it takes the ``webcal://`` form as ``cid``)."""
    return f"{GOOGLE_SUBSCRIBE}?{urlencode({'cid': webcal_url(feed_url)})}"


def outlook_subscribe_url(feed_url: str, name: str) -> str:
    """Outlook on the web's "subscribe from web" for a feed."""
    return f"{OUTLOOK_SUBSCRIBE}?url={quote(feed_url, safe='')}&name={quote(name, safe='')}"


def calendar_helpers() -> dict[str, Any]:
    """The link builders every template can call."""
    return {
        "webcal_url": webcal_url,
        "event_feed_url": event_feed_url,
        "session_feed_url": session_feed_url,
        "google_calendar_url": google_calendar_url,
        "outlook_calendar_url": outlook_calendar_url,
        "google_subscribe_url": google_subscribe_url,
        "outlook_subscribe_url": outlook_subscribe_url,
    }


def _language(language: str | None) -> str:
    """The requested language, else the page's locale."""
    if language:
        return feeds.feed_language(language)
    from flask_babel import get_locale

    return feeds.feed_language(str(get_locale() or "en"))


def _details(item: FeedSession) -> str:
    """The description plus the public session page (never a join or host link)."""
    parts = [item.description.strip()] if item.description.strip() else []
    if item.page is not None:
        parts.append(item.page.url)
    return "\n\n".join(parts)


def _utc(instant: datetime, pattern: str) -> str:
    """An aware instant formatted in UTC."""
    return instant.astimezone(UTC).strftime(pattern)
