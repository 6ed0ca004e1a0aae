"""Organizer and moderator accounts, passwords and API tokens."""

from __future__ import annotations

import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from .. import sign_in
from ..errors import Conflict, Invalid, Unauthorized
from ..extensions import db
from ..models import USER_ROLES, ApiToken, User, utcnow
from . import access
from .common import get_or_404

log = logging.getLogger(__name__)
hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths take the same time.
_DUMMY_HASH = hasher.hash("not a password")
MIN_PASSWORD = 8


def find_user(email: str) -> User | None:
    """The account with this e-mail (case-insensitive), or None."""
    if "\x00" in email:  # no account has one, and PostgreSQL refuses it in a query
        return None
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(email: str, password: str, role: str, name: str = "") -> User:
    """A new account (used by the CLI and the demo; there is no self sign-up)."""
    email = email.strip().lower()
    if role not in USER_ROLES:
        raise Invalid(f"unknown role {role!r}", fields={"role": f"one of {', '.join(USER_ROLES)}"})
    if "@" not in email:
        raise Invalid("not an e-mail address", fields={"email": "not an e-mail address"})
    if len(password) < MIN_PASSWORD:
        raise Invalid("password too short", fields={"password": f"at least {MIN_PASSWORD} chars"})
    if find_user(email):
        raise Conflict(f"an account for {email} exists", fields={"email": "taken"})
    user = User(email=email, name=name, role=role, password_hash=hasher.hash(password))
    db.session.add(user)
    db.session.commit()
    return user


def list_users(actor: access.Actor) -> list[User]:
    """Every organizer and moderator account, active ones first (organizers only)."""
    access.require_organizer(actor)
    return list(db.session.scalars(
        select(User).order_by(User.active.desc(), User.role, User.email)))


def get_user(actor: access.Actor, user_id: int) -> User:
    """One account (organizers only; 404 if there is none)."""
    access.require_organizer(actor)
    return get_or_404(User, user_id, "user")


def add_user(actor: access.Actor, data: dict) -> User:
    """A new organizer or moderator account, made by an organizer."""
    access.require_organizer(actor)
    return create_user(data["email"], data["password"], data["role"], data.get("name", ""))


def reset_password(actor: access.Actor, user: User, password: str) -> User:
    """Give the account a new password (organizers only); its API tokens stop working."""
    access.require_organizer(actor)
    if len(password) < MIN_PASSWORD:
        raise Invalid("password too short", fields={"password": f"at least {MIN_PASSWORD} chars"})
    user.password_hash = hasher.hash(password)
    _revoke_all(user)
    db.session.commit()
    log.info("password of user %s reset by user %s", user.id, actor.id)
    return user


def set_user_active(actor: access.Actor, user: User, active: bool) -> User:
    """Deactivate an account (it cannot sign in, its API tokens stop) or activate it again.

    An organizer cannot deactivate their own account (409), so the instance keeps one.
    """
    access.require_organizer(actor)
    if not active and user.id == actor.id:
        raise Conflict("you cannot deactivate your own account",
                       fields={"active": "your own account"}, code="own_account")
    if user.active == active:
        return user
    user.active = active
    if not active:
        _revoke_all(user)
    db.session.commit()
    log.info("user %s %s by user %s", user.id, "activated" if active else "deactivated",
             actor.id)
    return user


def _revoke_all(user: User) -> None:
    for token in user.tokens:
        if token.revoked_at is None:
            token.revoked_at = utcnow()


def check_password(email: str, password: str) -> User:
    """The account if the password is right; 401 (same message either way) otherwise, and
    429 while the account is locked out after failed attempts (:mod:`eventhub.sign_in`)."""
    sign_in.guard(email)
    user = find_user(email)
    try:
        hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:  # a deactivated account is refused the same way
        sign_in.failed(email)
        raise Unauthorized("wrong e-mail or password")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.session.commit()
    return user


def issue_api_token(email: str, password: str) -> str:
    """A new API token for the account; only its digest is stored."""
    user = check_password(email, password)
    token = access.new_token()
    db.session.add(ApiToken(user=user, digest=access.digest(token)))
    db.session.commit()
    log.info("API token issued to user %s", user.id)
    return token


def revoke_api_token(token: str) -> None:
    """Revoke the token (it stops working at once)."""
    row = db.session.scalar(select(ApiToken).where(ApiToken.digest == access.digest(token)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked token")
    row.revoked_at = utcnow()
    db.session.commit()
