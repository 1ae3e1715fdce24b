"""Accounts for agency officers and the administrator: the list in scope, an account with its
audit trail, grant (an establishment without an account; the administrator also grants agency
accounts), rename, suspend, reactivate, revoke, re-grant and re-issue the password — each with
a reason and a confirmation; a one-time password is shown once."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.accounts.api import deps
from services.accounts.domain import accounts as account_ops
from services.accounts.domain import queries, scope
from services.accounts.models import ACCOUNT_STATUSES, ROLES, Account, UsernameHistory
from services.accounts.schemas import (
    AccountGrantIn,
    AccountQuery,
    ReasonIn,
    RenameIn,
    RequiredReasonIn,
)
from services.accounts.web import blp
from services.accounts.web.common import Paged, labels, paged, parse_uuid, unit_options, units_for
from shared.db import request_session
from shared.errors import DomainError
from shared.web import _, form_errors, page, render_form, user

LIST_FILTERS = ("q", "role", "status", "unit_id")


@blp.get("/accounts")
@page("admin", "agency")
def accounts() -> Any:
    """Accounts in scope: search by login or establishment name, filter by role, status, unit."""
    session = request_session()
    principal = user()
    raw = {k: request.args.get(k, "").strip() for k in LIST_FILTERS}
    errors: dict[str, list[str]] = {}
    result = Paged([], 0, 1, 1)
    try:
        args = AccountQuery().load({k: v for k, v in raw.items() if v})
        result = paged(
            session,
            queries.account_query(session, principal, args),
            options=(selectinload(Account.establishment), selectinload(Account.unit)),
        )
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status not in (404, 422):
            raise
        errors = form_errors(exc)
    roles = ROLES if principal.is_admin else ("agency", "establishment")
    body = render_template(
        "accounts/accounts.html",
        result=result,
        values=raw,
        errors=errors,
        unit_choices=unit_options(units_for(session, principal, active_only=False)),
        roles=roles,
        statuses=ACCOUNT_STATUSES,
        **labels(),
    )
    return body, (422 if errors else 200)


GRANT_FIELDS = (
    "role",
    "display_name",
    "username",
    "unit_id",
    "establishment_id",
    "email",
    "phone",
    "reason",
)


def _grant_form(values: dict[str, Any], errors: dict[str, list[str]]) -> Any:
    session = request_session()
    principal = user()
    establishment = None
    establishment_id = parse_uuid(values.get("establishment_id"))
    if establishment_id is not None:
        establishment = scope.get_establishment_for(session, principal, establishment_id)
    context = {
        "values": values,
        "establishment": establishment,
        "existing": (
            queries.account_for_establishment(session, establishment.id) if establishment else None
        ),
        "unit_choices": unit_options(units_for(session, principal)) if principal.is_admin else [],
        **labels(),
    }
    if errors:
        return render_form("accounts/account_new.html", errors=errors, **context)
    return render_template("accounts/account_new.html", errors={}, **context)


@blp.route("/accounts/new", methods=["GET", "POST"])
@page("admin", "agency")
def new_account() -> Any:
    """Grant an account: to an establishment without one (`?establishment_id=`), or — the
    administrator — an agency (or administrator) account of a unit."""
    principal = user()
    if request.method == "GET":
        values = {"establishment_id": request.args.get("establishment_id", "")}
        values["role"] = "establishment" if values["establishment_id"] else "agency"
        return _grant_form(values, {})
    values = {k: request.form.get(k, "").strip() for k in GRANT_FIELDS}
    if values["establishment_id"] or not principal.is_admin:
        values["role"] = "establishment"
    body_in = {
        k: (v or None)
        for k, v in values.items()
        if k in ("role", "username", "unit_id", "establishment_id", "email", "phone", "reason")
    }
    body_in["display_name"] = values["display_name"]
    if body_in["role"] is None:
        body_in.pop("role")
    try:
        body = AccountGrantIn().load(body_in)
        granted = account_ops.grant(request_session(), actor=principal, **body)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status not in (403, 409, 422):
            raise
        return _grant_form(values, form_errors(exc))
    return _one_time(granted, _("Đã cấp tài khoản"))


def _one_time(granted: account_ops.Granted, title: str) -> Any:
    response = make_response(
        render_template(
            "accounts/one_time_password.html",
            title=title,
            account=granted.account,
            password=granted.one_time_password,
            back=None,
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _detail(
    account: Account,
    *,
    errors: dict[str, list[str]] | None = None,
    failed: str = "",
    values: dict[str, str] | None = None,
) -> str:
    session = request_session()
    principal = user()
    trail = paged(session, queries.account_audit_query(account), size=30)
    usernames = list(
        session.scalars(
            select(UsernameHistory)
            .where(UsernameHistory.account_id == account.id)
            .order_by(UsernameHistory.valid_from, UsernameHistory.id)
        )
    )
    return render_template(
        "accounts/account.html",
        account=account,
        unit=scope.account_unit(account),
        trail=trail,
        usernames=usernames,
        manageable=scope.can_manage_account(session, principal, account),
        errors=errors or {},
        failed=failed,
        values=values or {"username": account.username},
        **labels(),
    )


@blp.get("/accounts/<uuid:account_id>")
@page("admin", "agency")
def account(account_id: uuid.UUID) -> Any:
    return _detail(scope.get_account_for(request_session(), user(), account_id))


def _managed(account_id: uuid.UUID) -> Account:
    return scope.get_account_for(request_session(), user(), account_id, manage=True)


@blp.post("/accounts/<uuid:account_id>/rename")
@page("admin", "agency")
def rename_account(account_id: uuid.UUID) -> Any:
    found = _managed(account_id)
    values = {k: request.form.get(k, "").strip() for k in ("username", "reason")}
    try:
        body = RenameIn().load({"username": values["username"], "reason": values["reason"] or None})
        account_ops.rename(
            request_session(),
            actor=user(),
            account=found,
            username=body["username"],
            reason=body.get("reason"),
        )
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status not in (409, 422):
            raise
        return _detail(found, errors=form_errors(exc), failed="rename", values=values), 422
    flash(_("Đã đổi tên đăng nhập."))
    return redirect(url_for("accounts_web.account", account_id=found.id), 303)


LIFECYCLE: dict[str, tuple[Any, type[Any]]] = {
    "suspend": (account_ops.suspend, RequiredReasonIn),
    "reactivate": (account_ops.reactivate, ReasonIn),
    "revoke": (account_ops.revoke, RequiredReasonIn),
}


@blp.post("/accounts/<uuid:account_id>/<any(suspend, reactivate, revoke):action>")
@page("admin", "agency")
def account_lifecycle(account_id: uuid.UUID, action: str) -> Any:
    """Suspend, reactivate or revoke, with the reason the domain asks for."""
    found = _managed(account_id)
    operation, schema = LIFECYCLE[action]
    try:
        body = schema().load({"reason": request.form.get("reason", "").strip() or None})
        operation(
            request_session(),
            actor=user(),
            account=found,
            reason=body.get("reason"),
            revocations=deps().revocations,
        )
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status not in (409, 422):
            raise
        return _detail(found, errors=form_errors(exc), failed=action), 422
    messages = {
        "suspend": _("Đã tạm ngừng tài khoản."),
        "reactivate": _("Đã mở lại tài khoản."),
        "revoke": _("Đã thu hồi tài khoản."),
    }
    flash(messages[action])
    return redirect(url_for("accounts_web.account", account_id=found.id), 303)


@blp.post("/accounts/<uuid:account_id>/<any(password, regrant):action>")
@page("admin", "agency")
def account_new_password(account_id: uuid.UUID, action: str) -> Any:
    """Re-issue the password, or re-grant a revoked account: a one-time password, shown once."""
    found = _managed(account_id)
    operation = account_ops.reissue_password if action == "password" else account_ops.regrant
    try:
        body = RequiredReasonIn().load({"reason": request.form.get("reason", "").strip()})
        granted = operation(
            request_session(),
            actor=user(),
            account=found,
            reason=body["reason"],
            revocations=deps().revocations,
        )
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status not in (409, 422):
            raise
        return _detail(found, errors=form_errors(exc), failed=action), 422
    title = _("Đã cấp lại mật khẩu") if action == "password" else _("Đã cấp lại tài khoản")
    return _one_time(granted, title)
