"""Request and response schemas of the REST API (pydantic).

The same models validate request bodies and generate the OpenAPI document. The response
models document the dict shapes that :mod:`eventhub.serializers` builds.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
)

from ..services.invitations import BATCH_MAX, MESSAGE_MAX
from ..validation import Id, Mode, Schema, Status

Language = Literal["ru", "de", "en"]
Role = Literal["official", "delegate", "speaker", "press", "guest", "interpreter"]
Attendance = Literal["in_person", "remote"]
InvitationStatus = Literal["invited", "accepted", "declined"]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
ISO_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}")


def _iso(pattern: re.Pattern, parse: Any, what: str) -> Any:
    """Only ISO 8601 text: pydantic alone reads "1796148000" as a Unix time. The text is
    parsed here (strict validation of JSON would refuse a str coming out of a validator)."""

    def check(value: Any) -> Any:
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise ValueError(f"an ISO 8601 {what}")
        if isinstance(value, str):
            if not pattern.match(value):
                raise ValueError(f"an ISO 8601 {what}")
            try:
                return parse(value)
            except ValueError as exc:
                raise ValueError(f"an ISO 8601 {what}") from exc
        return value

    return BeforeValidator(check)


#: An instant, ISO 8601 with offset (DESIGN.md).
Instant = Annotated[AwareDatetime,
                    _iso(ISO_DATETIME, datetime.fromisoformat, "date and time with offset")]
#: A calendar day, ISO 8601.
Day = Annotated[date, _iso(ISO_DATE, date.fromisoformat, "date (YYYY-MM-DD)")]


class Texts(Schema):
    """A text per language; any subset of ru, de, en."""

    ru: str | None = Field(None, max_length=5000)
    de: str | None = Field(None, max_length=5000)
    en: str | None = Field(None, max_length=5000)


def texts(value: Texts | None) -> dict[str, str]:
    """The languages given, without empty ones."""
    return {k: v for k, v in (value.model_dump() if value else {}).items() if v}


# -- requests ---------------------------------------------------------------------------------


class EventCreate(Schema):
    slug: Slug
    title: Texts
    description: Texts | None = None
    timezone: str = Field(max_length=64)
    start_date: Day
    end_date: Day
    venue: str = Field("", max_length=300)
    default_provider: str = Field("jitsi", max_length=40)
    fallback_provider: str | None = Field(None, max_length=40)
    join_window_minutes: int = Field(15, ge=0, le=24 * 60)
    published: bool = False


NULLABLE = frozenset({"room_id", "fallback_provider", "description", "interpretation"})


def _null_only_where_it_clears(schema: dict[str, Any]) -> None:
    """An update's fields are optional; ``null`` is accepted only by the NULLABLE ones (the
    others answer 422 for it), so the document must not offer it for them."""
    for name, prop in schema.get("properties", {}).items():
        if name in NULLABLE or "anyOf" not in prop:
            continue
        rest = [option for option in prop.pop("anyOf") if option.get("type") != "null"]
        if len(rest) == 1:
            prop.update(rest[0])
        else:
            prop["anyOf"] = rest
        prop.pop("default", None)


class Update(Schema):
    """Base of PATCH bodies: every field optional, ``null`` only where it clears a value."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True,
                              json_schema_extra=_null_only_where_it_clears)


class EventUpdate(Update):
    slug: Slug | None = None
    title: Texts | None = None
    description: Texts | None = None
    timezone: str | None = Field(None, max_length=64)
    start_date: Day | None = None
    end_date: Day | None = None
    venue: str | None = Field(None, max_length=300)
    default_provider: str | None = Field(None, max_length=40)
    fallback_provider: str | None = Field(None, max_length=40)
    join_window_minutes: int | None = Field(None, ge=0, le=24 * 60)
    published: bool | None = None


class RoomCreate(Schema):
    name: Name
    capacity: int | None = Field(None, ge=0, le=1_000_000)


class Interpretation(Schema):
    """Simultaneous interpretation of a session: its languages (ISO 639-1, the first is the
    floor language) and the interpreters (participants with the role ``interpreter``)."""

    languages: list[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]] = Field(
        min_length=2, max_length=6)
    interpreter_ids: list[Id] = Field(default_factory=list, max_length=20)


class RoomUpdate(Update):
    name: Name | None = None
    capacity: int | None = Field(None, ge=0, le=1_000_000)


class SessionCreate(Schema):
    title: Texts
    description: Texts | None = None
    starts_at: Instant
    ends_at: Instant
    room_id: Id | None = None
    track: str = Field("", max_length=100)
    mode: Mode | None = None  # default: the event's (in person for a hybrid event)
    track_names: Texts | None = None
    moderator_ids: list[Id] = Field(default_factory=list, max_length=100)
    speaker_ids: list[Id] = Field(default_factory=list, max_length=100)
    interpretation: Interpretation | None = None


class SessionUpdate(Update):
    title: Texts | None = None
    description: Texts | None = None
    starts_at: Instant | None = None
    ends_at: Instant | None = None
    room_id: Id | None = None
    track: str | None = Field(None, max_length=100)
    track_names: Texts | None = None
    mode: Mode | None = None
    moderator_ids: list[Id] | None = Field(None, max_length=100)
    speaker_ids: list[Id] | None = Field(None, max_length=100)
    interpretation: Interpretation | None = None


class SwitchRequest(Schema):
    mode: Mode
    provider: str | None = Field(None, max_length=40)


class EventSwitchRequest(Schema):
    mode: Literal["in_person", "hybrid", "online", "as_planned"]


class StatusRequest(Schema):
    status: Status
    delay_minutes: int | None = Field(None, ge=1, le=24 * 60)


class ParticipantCreate(Schema):
    name: Name
    email: EmailStr
    organization: str = Field("", max_length=200)
    partner_organization: str = Field("", max_length=200)
    country: str = Field("", max_length=2)
    role: Role = "guest"
    attendance: Attendance = "in_person"
    language: Language = "en"
    invitation_status: InvitationStatus = "invited"


class ParticipantUpdate(Update):
    name: Name | None = None
    email: EmailStr | None = None
    organization: str | None = Field(None, max_length=200)
    partner_organization: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=2)
    role: Role | None = None
    attendance: Attendance | None = None
    language: Language | None = None
    invitation_status: InvitationStatus | None = None


class ParticipantFilter(Schema):
    """The participant list's filters (query parameters); empty means no filter."""

    role: Literal[Role, ""] = ""
    attendance: Literal[Attendance, ""] = ""
    invitation_status: Literal[InvitationStatus, ""] = ""
    organization: str = Field("", max_length=200)
    q: str = Field("", max_length=200)


class UserCreate(Schema):
    """A new organizer or moderator account."""

    email: EmailStr
    name: str = Field("", max_length=200)
    role: Literal["organizer", "moderator"] = "moderator"
    password: Annotated[str, StringConstraints(strip_whitespace=False, min_length=8,
                                               max_length=1000)]


class PasswordReset(Schema):
    """A new password for an account."""

    password: Annotated[str, StringConstraints(strip_whitespace=False, min_length=8,
                                               max_length=1000)]


class InvitationRequest(Schema):
    """Accept or decline, and (optionally) choose in person or remote."""

    status: Literal["accepted", "declined"]
    attendance: Attendance | None = None


class Invitee(Schema):
    """One person to invite. The e-mail address is checked per entry by the service, so that
    a bad one is rejected naming it while the rest of the batch goes."""

    name: Name
    email: str = Field(max_length=1000)
    language: Language | None = None
    organization: str | None = Field(None, max_length=200)
    partner_organization: str | None = Field(None, max_length=200)
    country: str | None = Field(None, max_length=2)
    role: Role | None = None
    attendance: Attendance | None = None


class InvitationBatch(Schema):
    """People to invite, with an optional personal note for the mail."""

    invitees: list[Invitee] = Field(min_length=1, max_length=BATCH_MAX)
    message: str | None = Field(None, max_length=MESSAGE_MAX)


class DelegationInvitation(Schema):
    """Send the invitation to a delegation pair: the organization's people and its partner's."""

    organization: str = Field(min_length=1, max_length=200)
    message: str | None = Field(None, max_length=MESSAGE_MAX)


class TokenRequest(Schema):
    email: str = Field(max_length=254)
    # A secret is compared exactly as it was set: not stripped like the other strings.
    password: Annotated[str, StringConstraints(strip_whitespace=False, max_length=1000)]


def changes(body: Schema) -> dict[str, Any]:
    """The fields a PATCH body sets, texts as plain dicts. ``null`` clears a nullable field
    (room_id, fallback_provider, description) and is refused for any other."""
    data = body.model_dump(exclude_unset=True)
    refused = {name: "may not be null" for name, value in data.items()
               if value is None and name not in NULLABLE}
    if refused:
        from ..errors import Invalid

        raise Invalid(f"invalid fields: {', '.join(sorted(refused))}", fields=refused)
    for name in ("title", "description", "track_names"):
        if name in data:
            data[name] = texts(getattr(body, name))
    return data


# -- responses --------------------------------------------------------------------------------


class Out(BaseModel):
    """Base of response shapes (fields may be added, never renamed)."""


class EventOut(Out):
    id: int
    slug: str
    title: dict[str, str]
    description: dict[str, str]
    timezone: str
    start_date: date
    end_date: date
    venue: str
    mode: Mode
    default_provider: str
    fallback_provider: str | None
    join_window_minutes: int
    published: bool


class RoomOut(Out):
    id: int
    event_id: int
    name: str
    capacity: int | None


class RoomStateOut(Out):
    state: Literal["pending", "ready", "failed", "deleted"]
    provider: str
    error: str | None


class SessionOut(Out):
    id: int
    event_id: int
    title: dict[str, str]
    description: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    room_id: int | None
    track: str
    track_names: dict[str, str]
    mode: Mode
    planned_mode: Mode
    status: Status
    delay_minutes: int
    expected_starts_at: datetime
    expected_ends_at: datetime
    sequence: int
    version: int
    moderator_ids: list[int]
    speaker_ids: list[int]
    interpretation: dict[str, list[Any]] | None = None
    room: RoomStateOut | None


class VideoRoomOut(RoomStateOut):
    session_id: int
    attempts: int
    host: str | None = None
    interpretation: Literal["provider", "hall_only"] | None = None
    host_url: str | None = None


class ParticipantOut(Out):
    id: int
    event_id: int
    name: str
    email: str
    organization: str
    partner_organization: str
    country: str
    role: Role
    attendance: Attendance
    language: Language
    invitation_status: InvitationStatus
    access_url: str | None = None
    feed_url: str | None = None


class RejectedOut(Out):
    index: int
    email: str
    field: str
    error: str


class InvitationReportOut(Out):
    """``invited``: participants created; ``merged``: existing ones matched by e-mail;
    ``mailed``: invitation mails queued; ``rejected``: entries not invited, and why."""

    invited: list[ParticipantOut]
    merged: list[ParticipantOut]
    rejected: list[RejectedOut]
    mailed: int


class DelegationOut(Out):
    """One organization; ``in_person`` and ``remote`` count those who accepted."""

    organization: str
    partner_organization: str
    invited: int
    accepted: int
    declined: int
    no_answer: int
    in_person: int
    remote: int
    not_sent: int


class RemindersOut(Out):
    reminded: int


class AgendaItemOut(Out):
    participant_id: int
    session_id: int
    added_at: datetime


class TokenOut(Out):
    token: str


class ErrorBody(Out):
    code: str
    message: str
    fields: dict[str, str]


class ErrorOut(Out):
    error: ErrorBody


class SessionUpdated(Out):
    """The ``session.updated`` Socket.IO payload: never a join or host URL."""

    session_id: int
    event_id: int
    status: Status
    mode: Mode
    delay_minutes: int
    room_state: str | None
    provider: str | None
    starts_at: datetime
    ends_at: datetime
    expected_starts_at: datetime
    expected_ends_at: datetime
    sequence: int
    version: int  # rises with every change of the session or its room: keep the highest
