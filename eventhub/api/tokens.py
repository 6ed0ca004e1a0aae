"""API tokens: exchange an e-mail and password for a bearer token, and revoke it."""

from __future__ import annotations

from flask import current_app, g

from ..errors import Unauthorized
from ..models import User
from ..services import users
from . import actor, endpoint
from .schemas import TokenOut, TokenRequest


@endpoint("/tokens", "POST", summary="Get an API token", body=TokenRequest, response=TokenOut,
          status=201, access="anyone with an organizer or moderator account",
          limit=lambda: current_app.config["SIGN_IN_LIMIT"])
def create_token(body: TokenRequest):
    return {"token": users.issue_api_token(body.email, body.password)}


@endpoint("/tokens/current", "DELETE", summary="Revoke the token of this request",
          status=204, access="the token's owner")
def revoke_token():
    if not isinstance(actor(), User):
        raise Unauthorized("send the API token to revoke")
    users.revoke_api_token(g.token)
