"""Organizer and moderator accounts: add, reset a password, deactivate."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ...api.schemas import PasswordReset, UserCreate
from ...errors import DomainError
from ...services import users as user_service
from . import bp
from .forms import FormError, field_errors, validate


def role_labels() -> dict[str, str]:
    return {"organizer": _("Organizer"), "moderator": _("Moderator")}


def _page(errors: dict[str, str] | None = None, reset_id: int | None = None,
          status: int = 200):
    """The accounts; ``errors`` belong to the new-account form or to ``reset_id``'s reset."""
    posted = request.form if request.method == "POST" else {}
    return render_template("manage/users.html", users=user_service.list_users(g.user),
                           errors=errors or {}, reset_id=reset_id, posted=posted,
                           roles=role_labels()), status


@bp.route("/users", methods=["GET", "POST"])
def users():
    """Every account, and a form to add one."""
    if request.method == "GET":
        return _page()
    try:
        body = validate(UserCreate, {name: request.form.get(name, "")
                                     for name in ("email", "name", "role", "password")})
        user = user_service.add_user(g.user, body.model_dump())
    except FormError as error:
        return _page(error.fields, status=422)
    except DomainError as error:
        return _page(field_errors(error), status=error.status)
    flash(_("The account %(email)s is added.", email=user.email))
    return redirect(url_for("manage.users"), code=303)


@bp.post("/users/<int:user_id>/password")
def user_password(user_id: int):
    """Set a new password; the account's API tokens stop working."""
    user = user_service.get_user(g.user, user_id)
    try:
        body = validate(PasswordReset, {"password": request.form.get("password", "")})
        user_service.reset_password(g.user, user, body.password)
    except FormError as error:
        return _page(error.fields, user.id, 422)
    except DomainError as error:
        return _page(field_errors(error), user.id, error.status)
    flash(_("The password of %(email)s is changed.", email=user.email))
    return redirect(url_for("manage.users"), code=303)


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int):
    """Deactivate an account (no sign-in, no API tokens) or activate it again."""
    user = user_service.get_user(g.user, user_id)
    active = request.form.get("active") == "1"
    try:
        user_service.set_user_active(g.user, user, active)
    except DomainError as error:
        flash(field_errors(error).get("active") or field_errors(error).get("form"), "error")
        return redirect(url_for("manage.users"), code=303)
    flash(_("%(email)s is active again.", email=user.email) if active
          else _("%(email)s is deactivated.", email=user.email))
    return redirect(url_for("manage.users"), code=303)
