"""The programme page of a published event, cached for anonymous visitors and revalidated.

Rendering the programme of a large event takes seconds (a 3,000-session page took 2.2 s), and
every anonymous visitor gets the same page. Like the calendar feeds
(:mod:`eventhub.services.feeds`) it is kept under what it is built from, read with one query:
the event's ``programme_version`` (bumped in the same transaction as every change of the
event, its sessions and halls), with the page's language and query string. The answer carries
a strong ``ETag``; a browser that revalidates gets ``304``.

What the version does not cover moves on its own: the clock ("now and next", sessions
becoming past) and the video rooms' state in ``data-room-state``. A page is therefore kept at
most :data:`FRESH_SECONDS`; the page's script brings both up to date from ``/live`` anyway.
Signed-in users and participants see their own page (sign-out form, join links): never cached.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from flask import Response, g, make_response, request
from flask_babel import get_locale
from sqlalchemy import select

from ..extensions import db, per_app
from ..models import Event

FRESH_SECONDS = 30  # the longest a page lags behind the clock and the rooms' state
MAX_PAGES = 64  # events x languages x track filters kept per app
_EXTENSION = "eventhub.page_cache"
_EVENT_STATE = select(Event.id, Event.published, Event.programme_version)


class PageCache:
    """Rendered pages (ETag, body) by key, each for at most FRESH_SECONDS; thread-safe."""

    def __init__(self) -> None:
        self.pages: TTLCache = TTLCache(maxsize=MAX_PAGES, ttl=FRESH_SECONDS)
        self.lock = threading.Lock()  # cachetools' caches are not thread-safe
        self.renders = 0


def page_cache() -> PageCache:
    """The current app's page cache (one per app, so tests and apps never share pages)."""
    return per_app(_EXTENSION, PageCache)


def cached_programme(view: Callable[[str], Any]) -> Callable[[str], Any]:
    """Serve ``view(slug)`` from the cache for anonymous visitors of a published event."""

    @functools.wraps(view)
    def wrapper(slug: str) -> Any:
        if g.get("user") is not None or g.get("participant") is not None:
            return view(slug)
        row = db.session.execute(_EVENT_STATE.where(Event.slug == slug)).one_or_none()
        if row is None or not row.published:
            return view(slug)  # its 404 (or an organizer's page), never cached
        key = (row.id, row.programme_version, str(get_locale()),
               tuple(sorted(request.args.items(multi=True))))
        cache = page_cache()
        with cache.lock:
            entry = cache.pages.get(key)
        if entry is None:
            rendered = make_response(view(slug))
            if rendered.status_code != 200:
                return rendered
            body = rendered.get_data()
            entry = (f'"{hashlib.sha256(body).hexdigest()}"', body)
            with cache.lock:
                cache.pages[key] = entry
                cache.renders += 1
        response = Response(entry[1], content_type="text/html; charset=utf-8")
        response.set_etag(entry[0].strip('"'))
        response.cache_control.no_cache = True  # keep it, but ask every time (ETag)
        response.vary.update(("Cookie", "Accept-Language"))
        return response.make_conditional(request)

    return wrapper
