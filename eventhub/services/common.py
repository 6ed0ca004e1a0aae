"""Small helpers the services share: loading by id, time zones, languages, pagination."""

from __future__ import annotations

from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db

T = TypeVar("T")

LANGUAGES = ("ru", "de", "en")
MAX_ID = 2**63 - 1  # the largest 64-bit INTEGER: SQLite refuses to bind anything larger
# Names the tz database ships that are not zones an event may use: the host's own zone
# ("localtime" follows /etc/localtime) and the placeholder "Factory".
NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def get_or_404(model: type[T], object_id: int, what: str) -> T:
    """Load by primary key or raise NotFound naming ``what``."""
    obj = db.session.get(model, object_id) if 0 < object_id <= MAX_ID else None
    if obj is None:
        raise NotFound(f"{what} {object_id} not found")
    return obj


def check_timezone(name: str, field: str = "timezone") -> ZoneInfo:
    """The ZoneInfo for an IANA name, or Invalid (422) naming the field."""
    if name in NOT_ZONES or name not in available_timezones():
        raise Invalid(f"unknown time zone {name!r}", fields={field: "unknown IANA time zone"})
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError as exc:  # pragma: no cover - available_timezones said yes
        raise Invalid(f"unknown time zone {name!r}", fields={field: str(exc)}) from exc


def pick_text(texts: dict[str, str] | None, language: str) -> str:
    """The text in ``language``, else in English, Russian, German, else the first one."""
    texts = texts or {}
    for lang in (language, "en", "ru", "de"):
        if texts.get(lang):
            return texts[lang]
    return next(iter(texts.values()), "")


def paginate(query: Select[Any], limit: int, offset: int) -> tuple[list[Any], int]:
    """One page of ``query`` and the total count of its rows."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    items = list(db.session.scalars(query.limit(limit).offset(offset)))
    return items, total or 0


def apply_changes(obj: Any, changes: dict[str, Any]) -> set[str]:
    """Set the attributes that differ; return the names of those that changed."""
    changed = set()
    for name, value in changes.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.add(name)
    return changed


def commit_unique(conflict: Conflict) -> None:
    """Commit; when a concurrent request took the unique value first, roll back and raise 409."""
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise conflict from exc


def lock_rows(model: Any, *where: Any) -> None:
    """Hold the rows of ``model`` matching ``where`` until this transaction ends, so that a
    check made after this and the write that follows it see no other writer in between.

    PostgreSQL locks the rows (SELECT ... FOR UPDATE, in id order: no deadlock between two
    lockers). SQLite has no row locks: a write takes the database's write lock at once, as
    BEGIN IMMEDIATE would (pysqlite opens the transaction at the first write, so the reads
    before it hold no snapshot). Objects loaded earlier must be read again after the lock.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(model.id).where(*where).order_by(model.id).with_for_update())
    else:
        table = model.__table__
        unchanged = {c.name: c for c in table.c if c.onupdate is not None or c.name == "id"}
        db.session.execute(update(table).where(*where).values(unchanged))  # no onupdate
