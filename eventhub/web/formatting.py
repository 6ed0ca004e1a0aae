"""Dates, times and labels for the pages, formatted for the visitor's language."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time, get_timezone_name
from flask_babel import get_locale

from ..models import utcnow


def _locale() -> str:
    return str(get_locale() or "en")


def local_time(instant: datetime, tz: ZoneInfo) -> str:
    """A time of day in the event's zone, e.g. ``10:00`` (ru, de) or ``10:00 AM`` (en)."""
    return format_time(instant, "short", tzinfo=tz, locale=_locale())


def local_date(day: date, form: str = "full") -> str:
    """A calendar day, e.g. ``понедельник, 28 июня 2021 г.``."""
    return format_date(day, form, locale=_locale())


def local_datetime(instant: datetime, tz: ZoneInfo) -> str:
    """A day and time of day in the event's zone, e.g. ``29 нояб. 2026 г., 18:30``."""
    day = instant.astimezone(tz).date()
    return f"{format_date(day, 'medium', locale=_locale())}, {local_time(instant, tz)}"


def zone_name(timezone: str) -> str:
    """A time zone as people say it in the page's language: "Moscow Time", "Moskauer Zeit",
    "Москва" (CLDR's generic name), not its IANA id."""
    return get_timezone_name(timezone, "long", locale=_locale())


def now() -> datetime:
    """This instant, for templates deciding what is past (``s.is_over(current_time())``)."""
    return utcnow()


def day_label(day: date) -> str:
    """A short day name for the day navigation, e.g. ``Mon, Jun 28`` or ``Пн, 28 июн.``."""
    return format_skeleton("MMMEd", datetime.combine(day, time(12)), locale=_locale())


def language_name(code: str) -> str:
    """A language's name in the visitor's language, e.g. ``de`` -> ``немецкий`` on a ru page."""
    from babel import Locale

    return Locale.parse(_locale()).languages.get(code, code)


def register(app_or_bp) -> None:
    """Make the formatters available as Jinja globals."""
    app_or_bp.add_app_template_global(local_time)
    app_or_bp.add_app_template_global(local_date)
    app_or_bp.add_app_template_global(local_datetime)
    app_or_bp.add_app_template_global(day_label)
    app_or_bp.add_app_template_global(language_name)
    app_or_bp.add_app_template_filter(language_name, "language_name")
    from ..services.provisioning import interpretation_state

    app_or_bp.add_app_template_global(interpretation_state)
    app_or_bp.add_app_template_global(zone_name)
    app_or_bp.add_app_template_global(now, "current_time")  # "now" is often a page variable
    app_or_bp.add_app_template_filter(ZoneInfo, "tz")
