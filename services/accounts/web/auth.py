"""Log in and out, the first-login password change, forgotten passwords — for every service.

The access token travels in the `trace_access` cookie (HttpOnly, SameSite=Lax, Secure behind
HTTPS), read by every service exactly as a Bearer header would be (shared/auth.py); the refresh
token in `trace_refresh`, sent only to `/accounts/login/refresh`. A page that finds its access
token expired sends the browser there (shared/web.py `page`), which rotates the pair and goes
back. Two requests of the same browser may arrive there at once with the same refresh token
(a page and its live progress poll): the first rotates it, the second gets the same new pair
from a 30-second cache instead of tripping the stolen-token detection, which would end the
session (services/accounts/domain/login.py).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from typing import Any

from flask import current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from services.accounts.api import deps
from services.accounts.domain import accounts as account_ops
from services.accounts.domain import login as login_ops
from services.accounts.domain import password_help
from services.accounts.models import Account
from services.accounts.web import blp
from shared.auth import ACCESS_COOKIE, current_principal
from shared.db import request_session
from shared.errors import DomainError, Unauthenticated
from shared.web import (
    LOGIN_PATH,
    _,
    check_csrf,
    form_errors,
    home_path,
    page,
    render_form,
    safe_next,
    user,
)

REFRESH_COOKIE = "trace_refresh"
REFRESH_PATH = "/accounts/login/refresh"
GRACE_SECONDS = 30


def _set_tokens(response: Response, pair: login_ops.TokenPair) -> Response:
    return _set_token_strings(response, pair.access_token, pair.refresh_token)


def _set_token_strings(response: Response, access: str, refresh_token: str) -> Response:
    issuer = deps().token_issuer()
    secure = request.is_secure
    response.set_cookie(
        ACCESS_COOKIE,
        access,
        max_age=int(issuer.access_ttl.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="Lax",
        path="/",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        refresh_token,
        max_age=int(issuer.refresh_ttl.total_seconds()),
        httponly=True,
        secure=secure,
        samesite="Lax",
        path=REFRESH_PATH,
    )
    return response


def _clear_tokens(response: Response) -> Response:
    response.delete_cookie(ACCESS_COOKIE, path="/")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_PATH)
    return response


def _after_login(pair: login_ops.TokenPair, target: str | None) -> Response:
    destination = safe_next(target, home_path(pair.account.role))
    if pair.account.must_change_password:
        destination = url_for("accounts_web.password", next=destination)
    return _set_tokens(redirect(destination, code=303), pair)


def _already_in() -> Any:
    try:
        return current_principal(optional=True, allow_pending_password=True)
    except Unauthenticated:
        return None


@blp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """Đăng nhập."""
    target = request.values.get("next")
    values: dict[str, str] = {}
    if request.method == "GET":
        who = _already_in()
        if who is not None and not who.is_service:
            return redirect(safe_next(target, home_path(who.role)))
        return render_template("accounts/login.html", values=values, errors={}, next=target)
    check_csrf()
    values = {"username": request.form.get("username", "").strip()}
    try:
        pair = login_ops.login(
            request_session(),
            username=values["username"],
            password=request.form.get("password", ""),
            issuer=deps().token_issuer(),
            throttle=deps().throttle,
            client=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    except DomainError as exc:
        errors = form_errors(exc)
        page_html = render_template(
            "accounts/login.html", values=values, errors=errors, next=target
        )
        return page_html, exc.status, exc.headers or {}
    return _after_login(pair, target)


@blp.get("/login/refresh")
def refresh() -> Any:
    """A fresh access token from the refresh cookie, then back to the page asked for."""
    target = safe_next(request.args.get("next"), "/")
    token = request.cookies.get(REFRESH_COOKIE, "")
    expired = redirect(f"{LOGIN_PATH}?next={target}", code=303)
    if not token:
        return _clear_tokens(expired)
    store = current_app.extensions["trace_kv"]
    digest = hashlib.sha256(token.encode()).hexdigest()
    cached_key, lock_key = f"webrefresh:{digest}", f"webrefresh-lock:{digest}"
    if store.incr(lock_key, GRACE_SECONDS) > 1:
        # Another request of this browser is rotating this very token: take its result.
        for _attempt in range(40):
            cached = store.get_many([cached_key])[0]
            if cached:
                tokens = json.loads(cached)
                return _set_token_strings(
                    redirect(target, code=303), tokens["access"], tokens["refresh"]
                )
            time.sleep(0.05)
        return _clear_tokens(expired)
    try:
        pair = login_ops.refresh(
            request_session(),
            refresh_token=token,
            issuer=deps().token_issuer(),
            revocations=deps().revocations,
        )
    except Unauthenticated as exc:
        if exc.commit_anyway:
            g.commit_despite_error = True
        flash(_("Phiên đăng nhập đã hết hạn; vui lòng đăng nhập lại."), "error")
        return _clear_tokens(expired)
    store.set(
        cached_key,
        json.dumps({"access": pair.access_token, "refresh": pair.refresh_token}),
        GRACE_SECONDS,
    )
    return _set_tokens(redirect(target, code=303), pair)


@blp.post("/logout")
def logout() -> Any:
    """Đăng xuất: ends this login session everywhere, then the login page."""
    check_csrf()
    who = _already_in()
    if who is not None and not who.is_service:
        login_ops.logout(request_session(), principal=who, revocations=deps().revocations)
    flash(_("Bạn đã đăng xuất."), "notice")
    return _clear_tokens(redirect(LOGIN_PATH, code=303))


@blp.route("/password", methods=["GET", "POST"])
@page(allow_pending_password=True)
def password() -> Any:
    """Đổi mật khẩu — required after a one-time password, open to anyone logged in."""
    target = request.values.get("next")
    principal = user()
    if request.method == "GET":
        return render_template("accounts/password.html", errors={}, next=target)
    session = request_session()
    account = session.get(Account, principal.account_id)
    if account is None:
        return _clear_tokens(redirect(LOGIN_PATH, code=303))
    new_password = request.form.get("new_password", "")
    if new_password != request.form.get("confirm_password", ""):
        errors = {"confirm_password": [_("Hai lần nhập mật khẩu mới không khớp.")]}
        return render_form("accounts/password.html", errors=errors, next=target)
    try:
        account_ops.change_own_password(
            session,
            actor=principal,
            account=account,
            current_password=request.form.get("current_password", ""),
            new_password=new_password,
            revocations=deps().revocations,
        )
        # Changing the password ends every session, this one too: open a new one.
        pair = login_ops.login(
            session,
            username=account.username,
            password=new_password,
            issuer=deps().token_issuer(),
            throttle=deps().throttle,
            client=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    except DomainError as exc:
        return render_form("accounts/password.html", errors=form_errors(exc), next=target)
    flash(_("Đã đổi mật khẩu."), "notice")
    return _after_login(pair, target)


@blp.route("/forgot", methods=["GET", "POST"])
def forgot() -> Any:
    """Quên mật khẩu: ask the managing unit to re-issue one."""
    if request.method == "GET":
        return render_template("accounts/forgot.html", values={}, errors={})
    check_csrf()
    password_help.throttle(current_app.extensions["trace_kv"], request.remote_addr)
    values = {k: request.form.get(k, "").strip() for k in ("username", "contact", "note")}
    try:
        password_help.submit(
            request_session(),
            username=values["username"],
            contact=values["contact"],
            note=values["note"],
        )
    except DomainError as exc:
        return render_form("accounts/forgot.html", values=values, errors=form_errors(exc))
    return render_template("accounts/forgot_sent.html"), 201


@blp.get("/password-requests")
@page("admin", "agency")
def password_requests() -> Any:
    """The open "forgot my password" requests this officer handles."""
    requests = password_help.open_for(request_session(), user())
    return render_template("accounts/password_requests.html", requests=requests)


@blp.post("/password-requests/<uuid:request_id>")
@page("admin", "agency")
def close_password_request(request_id: uuid.UUID) -> Any:
    try:
        password_help.close(
            request_session(),
            actor=user(),
            request_id=request_id,
            status=request.form.get("status", "done"),
            outcome=request.form.get("reason"),
        )
    except DomainError as exc:
        errors = form_errors(exc)
        flash(" ".join(errors.get("reason") or errors["_form"]), "error")
        requests = password_help.open_for(request_session(), user())
        return render_template("accounts/password_requests.html", requests=requests), exc.status
    flash(_("Đã ghi nhận xử lý yêu cầu."), "notice")
    return redirect(url_for("accounts_web.password_requests"), code=303)
