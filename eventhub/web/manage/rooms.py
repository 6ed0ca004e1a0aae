"""Halls of an event: add, rename, capacity, delete (refused while sessions use one)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...api.schemas import RoomCreate, RoomUpdate
from ...errors import DomainError
from ...models import Event, Room
from ...services import events as event_service
from . import bp
from .forms import FormError, field_errors, optional_int, validate


def _page(event: Event, errors: dict[str, str] | None = None, room_id: int | None = None,
          status: int = 200):
    """The halls page; ``errors`` belong to the new-hall form or to hall ``room_id``'s."""
    return render_template(
        "manage/rooms.html", event=event, rooms=event_service.list_rooms(g.user, event),
        errors=errors or {}, error_room=room_id,
        posted=request.form if request.method == "POST" else {},
    ), status


def _fields() -> dict:
    return {"name": request.form.get("name", ""),
            "capacity": optional_int(request.form.get("capacity"))}


@bp.route("/events/<int:event_id>/rooms", methods=["GET", "POST"])
def rooms(event_id: int):
    """The event's halls, and a form to add one."""
    event = event_service.get_event(g.user, event_id)
    if request.method == "GET":
        return _page(event)
    try:
        body = validate(RoomCreate, _fields())
        room = event_service.create_room(g.user, event, body.model_dump())
    except FormError as error:
        return _page(event, error.fields, status=422)
    except DomainError as error:
        return _page(event, field_errors(error), status=error.status)
    flash(_("Hall %(name)s added.", name=room.name))
    return redirect(url_for("manage.rooms", event_id=event.id), code=303)


@bp.post("/rooms/<int:room_id>")
def room_update(room_id: int):
    """Rename a hall or change its capacity."""
    room = event_service.get_room(g.user, room_id)
    event = room.event
    try:
        body = validate(RoomUpdate, _fields())
        # Both fields are always posted: an empty capacity clears it.
        event_service.update_room(g.user, room, {"name": body.name, "capacity": body.capacity})
    except FormError as error:
        return _page(event, error.fields, room.id, 422)
    except DomainError as error:
        return _page(event, field_errors(error), room.id, error.status)
    flash(_("Hall %(name)s saved.", name=room.name))
    return redirect(url_for("manage.rooms", event_id=event.id), code=303)


@bp.route("/rooms/<int:room_id>/delete", methods=["GET", "POST"])
def room_delete(room_id: int):
    """Ask, then delete a hall; while sessions are held in it, say which and delete nothing."""
    room: Room = event_service.get_room(g.user, room_id)
    event = room.event
    used = event_service.room_sessions(room)
    if request.method == "POST" and not used:
        name = room.name
        try:
            event_service.delete_room(g.user, room)
        except DomainError as error:  # a session booked it since the page was shown
            flash(field_errors(error).get("room", field_errors(error).get("form")), "error")
            return redirect(url_for("manage.room_delete", room_id=room_id), code=303)
        flash(_("Hall %(name)s deleted.", name=name))
        return redirect(url_for("manage.rooms", event_id=event.id), code=303)
    status = 409 if used and request.method == "POST" else 200
    return render_template("manage/room_delete.html", event=event, room=room,
                           used=used), status
