"""Login, token refresh, logout, the caller's own account, and the public key (JWKS)."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from services.accounts.api import deps
from services.accounts.domain import accounts as account_ops
from services.accounts.domain import login as login_ops
from services.accounts.models import Account
from services.accounts.schemas import (
    AccountOut,
    JwksOut,
    LoginIn,
    PasswordChangeIn,
    RefreshIn,
    TokenOut,
)
from shared.auth import authenticated
from shared.db import request_session
from shared.errors import NotFound

PREFIX = "auth"
blp = Blueprint("auth", __name__, description="Login, tokens and the caller's own account")


def _token_body(pair: login_ops.TokenPair) -> dict[str, Any]:
    return {
        "access_token": pair.access_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
        "refresh_token": pair.refresh_token,
        "must_change_password": pair.account.must_change_password,
        "account": pair.account,
    }


@blp.post("/token")
@blp.arguments(LoginIn)
@blp.response(200, TokenOut)
@blp.doc(security=[])
def token(body: dict[str, Any]) -> dict[str, Any]:
    """Log in with a login name and password; returns an access and a refresh token.

    Throttled per login name and per client address (429 with Retry-After); the answer to a
    wrong name and to a wrong password is the same."""
    d = deps()
    pair = login_ops.login(
        request_session(),
        username=body["username"],
        password=body["password"],
        issuer=d.token_issuer(),
        throttle=d.throttle,
        client=request.remote_addr,
        user_agent=request.user_agent.string,
    )
    return _token_body(pair)


@blp.post("/refresh")
@blp.arguments(RefreshIn)
@blp.response(200, TokenOut)
@blp.doc(security=[])
def refresh(body: dict[str, Any]) -> dict[str, Any]:
    """Exchange a refresh token for new tokens (the refresh token rotates)."""
    d = deps()
    pair = login_ops.refresh(
        request_session(),
        refresh_token=body["refresh_token"],
        issuer=d.token_issuer(),
        revocations=d.revocations,
    )
    return _token_body(pair)


@blp.post("/logout")
@blp.response(204)
def logout() -> None:
    """End this login session on the server; its tokens stop working everywhere."""
    principal = authenticated(allow_pending_password=True)
    login_ops.logout(request_session(), principal=principal, revocations=deps().revocations)


@blp.get("/jwks.json")
@blp.response(200, JwksOut)
@blp.doc(security=[])
def jwks() -> dict[str, Any]:
    """The public key(s) that verify access tokens (RS256)."""
    return {"keys": [deps().public_jwk]}


@blp.get("/me")
@blp.response(200, AccountOut)
def me() -> Account:
    """The caller's own account (also while a password change is pending)."""
    principal = authenticated(allow_pending_password=True)
    account = request_session().get(Account, principal.account_id)
    if account is None:
        raise NotFound()
    return account


@blp.post("/me/password")
@blp.arguments(PasswordChangeIn)
@blp.response(200, AccountOut)
def change_password(body: dict[str, Any]) -> Account:
    """Change one's own password (required after a one-time password). Ends other sessions;
    log in again with the new password."""
    principal = authenticated(allow_pending_password=True)
    session = request_session()
    account = session.get(Account, principal.account_id)
    if account is None:
        raise NotFound()
    return account_ops.change_own_password(
        session,
        actor=principal,
        account=account,
        current_password=body["current_password"],
        new_password=body["new_password"],
        revocations=deps().revocations,
    )
