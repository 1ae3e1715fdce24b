"""Account lifecycle: grant, re-grant, rename, suspend, reactivate, revoke, re-issue password.

Every operation is done by someone whose scope covers the account (`scope.can_manage_account`),
leaves one audit row with the reason and the before/after, and — where it must end the
account's sessions — bumps the token version, which every service honours within seconds.
One-time passwords are returned once, to the caller, and never stored in clear.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.accounts.domain import audit, names, passwords
from services.accounts.domain.revocation import Revocations
from services.accounts.domain.scope import (
    covers_unit,
    require_manager,
)
from services.accounts.models import Account, Establishment, LoginSession, Unit, UsernameHistory
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.text import nfc


@dataclass(frozen=True)
class Granted:
    account: Account
    one_time_password: str


def snapshot(account: Account) -> dict[str, Any]:
    return {
        "username": account.username,
        "role": account.role,
        "status": account.status,
        "unit_id": account.unit_id,
        "establishment_id": account.establishment_id,
        "display_name": account.display_name,
        "must_change_password": account.must_change_password,
        "token_version": account.token_version,
    }


def audit_unit(account: Account) -> uuid.UUID | None:
    if account.role == "establishment" and account.establishment is not None:
        return account.establishment.unit_id
    return account.unit_id


def _username_free(session: Session, username: str, account_id: uuid.UUID | None) -> None:
    taken_by = session.scalar(
        select(UsernameHistory.account_id).where(UsernameHistory.username == username)
    )
    if taken_by is not None and taken_by != account_id:
        raise Conflict(
            f"Tên đăng nhập {username} đã được dùng.",
            f"The login {username} is already taken.",
            code="username_taken",
            extra={"field": "username"},
        )


def next_username(session: Session, unit: Unit) -> str:
    """The unit's naming rule: `<login prefix>.<5-digit sequence>`, skipping used names."""
    prefix = unit.login_prefix or names.default_prefix(unit.code)
    pattern = f"{prefix}.%"
    used = session.scalars(
        select(UsernameHistory.username).where(UsernameHistory.username.like(pattern))
    ).all()
    numbers = [int(n.rsplit(".", 1)[1]) for n in used if n.rsplit(".", 1)[1].isdigit()]
    return f"{prefix}.{(max(numbers) + 1) if numbers else 1:05d}"


def grant(
    session: Session,
    *,
    actor: Principal,
    role: str,
    display_name: str,
    username: str | None = None,
    unit_id: uuid.UUID | None = None,
    establishment_id: uuid.UUID | None = None,
    email: str | None = None,
    phone: str | None = None,
    reason: str | None = None,
) -> Granted:
    """Grant a new account (cấp mới tài khoản) with a one-time password."""
    require_manager(actor)
    unit: Unit | None = None
    establishment: Establishment | None = None
    if role == "establishment":
        if establishment_id is None:
            raise InvalidInput.field(
                "establishment_id", "Cần chọn cơ sở.", "An establishment is required."
            )
        establishment = session.get(Establishment, establishment_id)
        if establishment is None or not covers_unit(session, actor, establishment.unit):
            raise InvalidInput.field(
                "establishment_id",
                "Không tìm thấy cơ sở trong phạm vi quản lý của bạn.",
                "No such establishment in your scope.",
            )
        unit = establishment.unit
        existing = session.scalar(
            select(Account.id).where(
                Account.establishment_id == establishment.id, Account.status != "revoked"
            )
        )
        if existing is not None:
            raise Conflict(
                "Cơ sở đã có tài khoản đang dùng; hãy cấp lại thay vì cấp mới.",
                "The establishment already has an account; re-grant it instead.",
                code="establishment_has_account",
                extra={"account_id": str(existing)},
            )
        unit_id = None
    elif role in {"agency", "admin"}:
        if not actor.is_admin:
            raise Forbidden(
                "Chỉ quản trị hệ thống cấp tài khoản quản lý.",
                "Only an administrator grants management accounts.",
            )
        if role == "agency" and unit_id is None:
            raise InvalidInput.field("unit_id", "Cần chọn đơn vị.", "A unit is required.")
        if unit_id is not None:
            unit = session.get(Unit, unit_id)
            if unit is None or unit.status != "active":
                raise InvalidInput.field(
                    "unit_id", "Không tìm thấy đơn vị đang hoạt động.", "No such active unit."
                )
        establishment_id = None
    else:
        raise InvalidInput.field("role", "Vai trò không hợp lệ.", "Unknown role.")

    if username:
        login = names.check(username)
    elif unit is not None:
        login = next_username(session, unit)
    else:
        raise InvalidInput.field("username", "Cần đặt tên đăng nhập.", "A login name is required.")
    _username_free(session, login, None)
    display = nfc(display_name or "") or (establishment.name if establishment else login)
    otp = passwords.one_time_password()
    account = Account(
        id=uuid.uuid4(),
        username=login,
        display_name=display[:255],
        role=role,
        unit_id=unit_id,
        establishment_id=establishment_id,
        status="active",
        email=nfc(email) if email else None,
        phone=nfc(phone) if phone else None,
        password_hash=passwords.hash_password(otp),
        must_change_password=True,
        token_version=1,
    )
    account.establishment = establishment
    session.add(account)
    session.flush()
    session.add(UsernameHistory(account_id=account.id, username=login))
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="account.grant",
        target_type="account",
        target_id=account.id,
        unit_id=audit_unit(account),
        reason=audit.reason_text(reason, required=False),
        after=snapshot(account),
    )
    return Granted(account, otp)


def _end_sessions(
    session: Session, account: Account, revocations: Revocations, reason: str
) -> None:
    account.token_version += 1
    session.execute(
        update(LoginSession)
        .where(LoginSession.account_id == account.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    revocations.publish_version(session, account.id, account.token_version)


def _transition(
    session: Session,
    *,
    actor: Principal,
    account: Account,
    action: str,
    allowed_from: set[str],
    to_status: str,
    reason: str | None,
    reason_required: bool,
    revocations: Revocations,
    end_sessions: bool,
) -> Account:
    if account.status not in allowed_from:
        raise Conflict(
            f"Không thể thực hiện khi tài khoản đang ở trạng thái '{account.status}'.",
            f"Not possible while the account is '{account.status}'.",
            code="invalid_state",
            extra={"status": account.status},
        )
    why = audit.reason_text(reason, required=reason_required)
    before = snapshot(account)
    account.status = to_status
    if end_sessions:
        _end_sessions(session, account, revocations, action)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="account",
        target_id=account.id,
        unit_id=audit_unit(account),
        reason=why,
        before=before,
        after=snapshot(account),
    )
    return account


def suspend(
    session: Session,
    *,
    actor: Principal,
    account: Account,
    reason: str | None,
    revocations: Revocations,
) -> Account:
    """Suspend (tạm ngừng): no login, every token refused."""
    return _transition(
        session,
        actor=actor,
        account=account,
        action="account.suspend",
        allowed_from={"active"},
        to_status="suspended",
        reason=reason,
        reason_required=True,
        revocations=revocations,
        end_sessions=True,
    )


def reactivate(
    session: Session,
    *,
    actor: Principal,
    account: Account,
    reason: str | None,
    revocations: Revocations,
) -> Account:
    return _transition(
        session,
        actor=actor,
        account=account,
        action="account.reactivate",
        allowed_from={"suspended"},
        to_status="active",
        reason=reason,
        reason_required=False,
        revocations=revocations,
        end_sessions=False,
    )


def revoke(
    session: Session,
    *,
    actor: Principal,
    account: Account,
    reason: str | None,
    revocations: Revocations,
) -> Account:
    """Revoke (thu hồi): the account is closed; only a re-grant opens it again."""
    return _transition(
        session,
        actor=actor,
        account=account,
        action="account.revoke",
        allowed_from={"active", "suspended"},
        to_status="revoked",
        reason=reason,
        reason_required=True,
        revocations=revocations,
        end_sessions=True,
    )


def _new_one_time_password(
    session: Session, account: Account, revocations: Revocations, why: str
) -> str:
    otp = passwords.one_time_password()
    account.password_hash = passwords.hash_password(otp)
    account.must_change_password = True
    account.password_changed_at = utcnow()
    _end_sessions(session, account, revocations, why)
    return otp


def regrant(
    session: Session,
    *,
    actor: Principal,
    account: Account,
    reason: str | None,
    revocations: Revocations,
) -> Granted:
    """Re-grant (cấp lại) a revoked account, with a new one-time password."""
    if account.status != "revoked":
        raise Conflict(
            "Chỉ cấp lại được tài khoản đã bị thu hồi.",
            "Only a revoked account can be re-granted.",
            code="invalid_state",
            extra={"status": account.status},
        )
    if account.role == "establishment":
        other = session.scalar(
            select(Account.id).where(
                Account.establishment_id == account.establishment_id,
                Account.status != "revoked",
                Account.id != account.id,
            )
        )
        if other is not None:
            raise Conflict(
                "Cơ sở đã có tài khoản khác đang dùng.",
                "The establishment already has another account in use.",
                code="establishment_has_account",
            )
    why = audit.reason_text(reason, required=True)
    before = snapshot(account)
    account.status = "active"
    otp = _new_one_time_password(session, account, revocations, "account.regrant")
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="account.regrant",
        target_type="account",
        target_id=account.id,
        unit_id=audit_unit(account),
        reason=why,
        before=before,
        after=snapshot(account),
    )
    return Granted(account, otp)


def reissue_password(
    session: Session,
    *,
    actor: Principal,
    account: Account,
    reason: str | None,
    revocations: Revocations,
) -> Granted:
    """Re-issue the password (cấp lại mật khẩu): a one-time password to change at first login."""
    if account.status != "active":
        raise Conflict(
            "Chỉ cấp lại mật khẩu cho tài khoản đang hoạt động.",
            "Only an active account gets a new password.",
            code="invalid_state",
            extra={"status": account.status},
        )
    why = audit.reason_text(reason, required=True)
    before = snapshot(account)
    otp = _new_one_time_password(session, account, revocations, "account.password_reissue")
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="account.password_reissue",
        target_type="account",
        target_id=account.id,
        unit_id=audit_unit(account),
        reason=why,
        before=before,
        after=snapshot(account),
    )
    return Granted(account, otp)


def rename(
    session: Session, *, actor: Principal, account: Account, username: str, reason: str | None
) -> Account:
    """Rename the login (đặt lại tên tài khoản); old names stay reserved to this account."""
    new = names.check(username)
    if new == account.username:
        return account
    if account.status == "revoked":
        raise Conflict(
            "Tài khoản đã bị thu hồi.",
            "The account is revoked.",
            code="invalid_state",
            extra={"status": account.status},
        )
    _username_free(session, new, account.id)
    before = snapshot(account)
    now = utcnow()
    session.execute(
        update(UsernameHistory)
        .where(UsernameHistory.account_id == account.id, UsernameHistory.valid_to.is_(None))
        .values(valid_to=now)
    )
    reused = session.scalar(select(UsernameHistory).where(UsernameHistory.username == new))
    if reused is not None:  # this account's own earlier name, taken back
        reused.valid_from, reused.valid_to = now, None
    else:
        session.add(UsernameHistory(account_id=account.id, username=new, valid_from=now))
    account.username = new
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="account.rename",
        target_type="account",
        target_id=account.id,
        unit_id=audit_unit(account),
        reason=audit.reason_text(reason, required=False),
        before=before,
        after=snapshot(account),
    )
    return account


def change_own_password(
    session: Session,
    *,
    actor: Principal,
    account: Account,
    current_password: str,
    new_password: str,
    revocations: Revocations,
) -> Account:
    """The holder changes their password (and so ends a one-time password's reign)."""
    if not passwords.verify_password(account.password_hash, current_password):
        raise InvalidInput.field(
            "current_password",
            "Mật khẩu hiện tại không đúng.",
            "The current password is wrong.",
            code="wrong_password",
        )
    new = passwords.check_new_password(new_password, username=account.username)
    if passwords.verify_password(account.password_hash, new):
        raise InvalidInput.field(
            "new_password",
            "Mật khẩu mới phải khác mật khẩu hiện tại.",
            "The new password must differ from the current one.",
            code="weak_password",
        )
    before = snapshot(account)
    account.password_hash = passwords.hash_password(new)
    account.must_change_password = False
    account.password_changed_at = utcnow()
    _end_sessions(session, account, revocations, "account.password_change")
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="account.password_change",
        target_type="account",
        target_id=account.id,
        unit_id=audit_unit(account),
        before=before,
        after=snapshot(account),
    )
    return account


def count_active_for_establishment(session: Session, establishment_id: uuid.UUID) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Account)
            .where(Account.establishment_id == establishment_id, Account.status != "revoked")
        )
        or 0
    )
