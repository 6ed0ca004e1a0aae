"""Subscribe links for whole feeds in Google Calendar and Outlook (per-session links: feeds.py)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

GOOGLE_SUBSCRIBE = "https://calendar.google.com/calendar/render"
OUTLOOK_SUBSCRIBE = "https://outlook.live.com/calendar/0/addfromweb"


def google_subscribe_url(feed_url: str) -> str:
    """Google Calendar's "add by URL" for a feed (it takes the ``webcal://`` form as ``cid``)."""
    webcal = "webcal://" + feed_url.split("://", 1)[-1]
    return f"{GOOGLE_SUBSCRIBE}?{urlencode({'cid': webcal})}"


def outlook_subscribe_url(feed_url: str, name: str) -> str:
    """Outlook on the web's "subscribe from web" for a feed."""
    return f"{OUTLOOK_SUBSCRIBE}?url={quote(feed_url, safe='')}&name={quote(name, safe='')}"
