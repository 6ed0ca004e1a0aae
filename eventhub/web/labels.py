"""Translated labels for statuses, modes, room states and errors, for templates and scripts."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..models import Session


def status_text(event_session: Session) -> str:
    """The status badge of a session, e.g. "delayed 10 min"."""
    if event_session.status == "delayed":
        return _("delayed %(minutes)s min", minutes=event_session.delay_minutes)
    return status_labels()[event_session.status]


def status_labels() -> dict[str, str]:
    """Every status label; "delayed" keeps a ``{minutes}`` placeholder for scripts."""
    return {
        "scheduled": _("scheduled"),
        "live": _("live"),
        "paused": _("paused"),
        "delayed": _("delayed %(minutes)s min", minutes="{minutes}"),
        "ended": _("ended"),
        "cancelled": _("cancelled"),
    }


def mode_labels() -> dict[str, str]:
    """Where a session takes place."""
    return {"in_person": _("in person"), "hybrid": _("hybrid"), "online": _("online")}


def mode_text(mode: str) -> str:
    """One mode label."""
    return mode_labels().get(mode, mode)


def room_labels() -> dict[str, str]:
    """Video room provisioning states ("" = no room)."""
    return {
        "": _("no video room"),
        "pending": _("room being prepared"),
        "ready": _("room ready"),
        "failed": _("room failed"),
        "deleted": _("no video room"),
    }


def room_text(state: str | None) -> str:
    """One room state label."""
    return room_labels().get(state or "", state or "")


def error_text(status: int) -> str:
    """What an HTTP error means, in the visitor's language."""
    return {
        400: _("The request could not be understood."),
        401: _("Please sign in."),
        403: _("You may not do this."),
        404: _("This page does not exist."),
        409: _("This change is not possible in the current state."),
        422: _("Please check the values you entered."),
    }.get(status, _("Something went wrong."))


def script_labels() -> dict[str, Any]:
    """Everything the page scripts show, already translated (placeholders in braces)."""
    return {
        "status": status_labels(),
        "mode": mode_labels(),
        "room": room_labels(),
        "opens": _("The join link opens on %(date)s at %(time)s.", date="{date}", time="{time}"),
        "preparing": _("The video room is being prepared."),
        "in_person": _("This session takes place in person only."),
        "over": _("This session is over."),
        "viewer_time": _("Your time: %(time)s (%(zone)s)", time="{time}", zone="{zone}"),
        "saved": _("Done."),
        "failed": _("Not done: %(reason)s", reason="{reason}"),
        "clients": _("Connected: %(count)s", count="{count}"),
        "offline": _("Live updates interrupted; reconnecting…"),
        "errors": {
            "forbidden": error_text(403),
            "unauthorized": error_text(401),
            "not_found": error_text(404),
            "conflict": error_text(409),
            "illegal_transition": error_text(409),
            "invalid": error_text(422),
            "bad_request": error_text(400),
            "internal": error_text(500),
        },
    }


def role_labels() -> dict[str, str]:
    """A participant's role (DESIGN.md's PARTICIPANT_ROLES)."""
    return {"official": _("official"), "delegate": _("delegate"), "speaker": _("speaker"),
            "press": _("press"), "guest": _("guest"), "interpreter": _("interpreter")}


def attendance_labels() -> dict[str, str]:
    """How a participant attends."""
    return {"in_person": _("in person"), "remote": _("remote")}


def invitation_labels(*, back_office: bool = False) -> dict[str, str]:
    """Where a participant's answer to the invitation stands (the back office names the state
    "invited", a delegation's page says there is no answer yet)."""
    return {"invited": _("invited") if back_office else _("no answer yet"),
            "accepted": _("accepted"), "declined": _("declined")}


def language_labels() -> dict[str, str]:
    """The languages of mails and pages, each named in itself."""
    return {"ru": "Русский", "de": "Deutsch", "en": "English"}


def invitee_error(field: str) -> str:
    """Why an invitee was not invited, by the field at fault (services.invitations.Rejected)."""
    return {
        "email": _("Not a valid e-mail address."),
        "name": _("A name is required."),
        "country": _("Country: a two-letter code such as RU or DE."),
        "language": _("Language: ru, de or en."),
        "role": _("Unknown role."),
        "attendance": _("Attendance: in_person or remote."),
        "organization": _("The organization name is too long."),
        "partner_organization": _("The partner organization name is too long."),
        "participant": _("Already a participant of another delegation."),
    }.get(field, _("Please check the values you entered."))
