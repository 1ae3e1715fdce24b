"""Accounts and their lifecycle; the audit trail."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from services.accounts.api import deps
from services.accounts.domain import accounts as account_ops
from services.accounts.domain import queries, scope
from services.accounts.models import Account, AuditEvent, UsernameHistory
from services.accounts.schemas import (
    AccountGrantIn,
    AccountOut,
    AccountQuery,
    AuditOut,
    AuditQuery,
    GrantedOut,
    ReasonIn,
    RenameIn,
    RequiredReasonIn,
    UsernameHistoryOut,
)
from shared.auth import Principal, authenticated
from shared.db import request_session
from shared.pagination import paginate

PREFIX = "accounts"
blp = Blueprint("accounts", __name__, description="Accounts (tài khoản) and their lifecycle")


def _manager() -> Principal:
    principal = authenticated()
    scope.require_manager(principal)
    return principal


@blp.get("/")
@blp.arguments(AccountQuery, location="query")
@blp.response(200, AccountOut(many=True))
@blp.paginate()
def list_accounts(args: dict[str, Any], pagination_parameters: Any) -> list[Account]:
    """Accounts in the caller's scope: admin all; agency the operating accounts of its units'
    establishments and the agency accounts of its units."""
    principal = _manager()
    session = request_session()
    stmt = queries.account_query(session, principal, args)
    return paginate(session, stmt, pagination_parameters)


@blp.post("/")
@blp.arguments(AccountGrantIn)
@blp.response(201, GrantedOut)
def grant(body: dict[str, Any]) -> account_ops.Granted:
    """Grant an account (cấp mới). Agencies grant operating accounts to establishments of their
    units; administrators also grant agency and admin accounts. Without `username` the login is
    named by the unit's rule. The one-time password is in the answer, once."""
    return account_ops.grant(request_session(), actor=_manager(), **body)


@blp.get("/<uuid:account_id>")
@blp.response(200, AccountOut)
def get_account(account_id: uuid.UUID) -> Account:
    return scope.get_account_for(request_session(), authenticated(), account_id)


@blp.post("/<uuid:account_id>/rename")
@blp.arguments(RenameIn)
@blp.response(200, AccountOut)
def rename(body: dict[str, Any], account_id: uuid.UUID) -> Account:
    """Rename the login (đặt tên tài khoản); the old name stays reserved to this account."""
    principal = _manager()
    session = request_session()
    account = scope.get_account_for(session, principal, account_id, manage=True)
    return account_ops.rename(
        session,
        actor=principal,
        account=account,
        username=body["username"],
        reason=body.get("reason"),
    )


def _lifecycle(operation: Any, account_id: uuid.UUID, reason: str | None) -> Any:
    principal = _manager()
    session = request_session()
    account = scope.get_account_for(session, principal, account_id, manage=True)
    return operation(
        session, actor=principal, account=account, reason=reason, revocations=deps().revocations
    )


@blp.post("/<uuid:account_id>/suspend")
@blp.arguments(RequiredReasonIn)
@blp.response(200, AccountOut)
def suspend(body: dict[str, Any], account_id: uuid.UUID) -> Account:
    """Suspend (tạm ngừng): its tokens stop working everywhere within seconds."""
    return _lifecycle(account_ops.suspend, account_id, body["reason"])


@blp.post("/<uuid:account_id>/reactivate")
@blp.arguments(ReasonIn)
@blp.response(200, AccountOut)
def reactivate(body: dict[str, Any], account_id: uuid.UUID) -> Account:
    return _lifecycle(account_ops.reactivate, account_id, body.get("reason"))


@blp.post("/<uuid:account_id>/revoke")
@blp.arguments(RequiredReasonIn)
@blp.response(200, AccountOut)
def revoke(body: dict[str, Any], account_id: uuid.UUID) -> Account:
    """Revoke (thu hồi); only a re-grant opens the account again."""
    return _lifecycle(account_ops.revoke, account_id, body["reason"])


@blp.post("/<uuid:account_id>/regrant")
@blp.arguments(RequiredReasonIn)
@blp.response(200, GrantedOut)
def regrant(body: dict[str, Any], account_id: uuid.UUID) -> account_ops.Granted:
    """Re-grant (cấp lại) a revoked account with a new one-time password."""
    return _lifecycle(account_ops.regrant, account_id, body["reason"])


@blp.post("/<uuid:account_id>/password")
@blp.arguments(RequiredReasonIn)
@blp.response(200, GrantedOut)
def reissue_password(body: dict[str, Any], account_id: uuid.UUID) -> account_ops.Granted:
    """Re-issue the password (cấp lại mật khẩu): a one-time password, changed at first login;
    the account's current sessions end."""
    return _lifecycle(account_ops.reissue_password, account_id, body["reason"])


@blp.get("/<uuid:account_id>/usernames")
@blp.response(200, UsernameHistoryOut(many=True))
def username_history(account_id: uuid.UUID) -> list[UsernameHistory]:
    principal = authenticated()
    session = request_session()
    account = scope.get_account_for(session, principal, account_id)
    return list(
        session.scalars(
            select(UsernameHistory)
            .where(UsernameHistory.account_id == account.id)
            .order_by(UsernameHistory.valid_from, UsernameHistory.id)
        )
    )


@blp.get("/<uuid:account_id>/audit")
@blp.response(200, AuditOut(many=True))
@blp.paginate()
def account_audit(account_id: uuid.UUID, pagination_parameters: Any) -> list[AuditEvent]:
    """The account's audit trail, newest first."""
    principal = _manager()
    session = request_session()
    account = scope.get_account_for(session, principal, account_id)
    return paginate(session, queries.account_audit_query(account), pagination_parameters)


@blp.get("/audit-events")
@blp.arguments(AuditQuery, location="query")
@blp.response(200, AuditOut(many=True))
@blp.paginate()
def list_audit(args: dict[str, Any], pagination_parameters: Any) -> list[AuditEvent]:
    """The audit log in the caller's scope (admin: all; agency: rows about its units)."""
    principal = _manager()
    session = request_session()
    stmt = select(AuditEvent)
    if not principal.is_admin:
        stmt = stmt.where(AuditEvent.unit_id.in_(scope.units_in_scope(session, principal)))
    for key in ("action", "target_type", "target_id"):
        if args.get(key):
            stmt = stmt.where(getattr(AuditEvent, key) == args[key])
    return paginate(session, stmt.order_by(AuditEvent.id.desc()), pagination_parameters)
