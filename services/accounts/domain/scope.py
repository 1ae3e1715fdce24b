"""Who may act on what — the accounts service's one place for scope rules.

- admin: the whole province.
- agency: its unit and every unit below it; the establishments those units manage and their
  operating accounts. Agency accounts and the unit tree itself are the administrator's.
- establishment: its own account and establishment only.

A target outside the caller's scope is answered 404 (its existence is not revealed); a role
that lacks a capability altogether is answered 403.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from services.accounts.models import Account, Establishment, Job, Unit
from shared.auth import Principal
from shared.errors import Forbidden, NotFound


def unit_path(session: Session, unit_id: uuid.UUID | None) -> str | None:
    if unit_id is None:
        return None
    return session.scalar(select(Unit.path).where(Unit.id == unit_id))


def units_in_scope(session: Session, principal: Principal) -> Select[Any]:
    """A subquery of the unit ids the principal may see (admin: all)."""
    query = select(Unit.id)
    if principal.is_admin:
        return query
    if principal.role == "agency":
        path = unit_path(session, principal.unit_id) or "//nothing//"
        return query.where(Unit.path.startswith(path, autoescape=True))
    if principal.role == "establishment":
        own = (
            select(Establishment.unit_id)
            .where(Establishment.id == principal.establishment_id)
            .scalar_subquery()
        )
        return query.where(Unit.id == own)
    return query.where(false())


def covers_unit(session: Session, principal: Principal, unit: Unit) -> bool:
    if principal.is_admin:
        return True
    if principal.role == "agency":
        path = unit_path(session, principal.unit_id)
        return path is not None and unit.path.startswith(path)
    return False


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden()


def require_manager(principal: Principal) -> None:
    """Admin or agency: the roles that manage units' establishments and accounts."""
    if principal.role not in {"admin", "agency"}:
        raise Forbidden()


def account_unit(account: Account) -> Unit | None:
    if account.role == "establishment" and account.establishment is not None:
        return account.establishment.unit
    return account.unit


def can_read_account(session: Session, principal: Principal, account: Account) -> bool:
    if principal.is_admin or principal.account_id == account.id:
        return True
    if principal.role == "agency":
        unit = account_unit(account)
        if account.role == "establishment" and unit is not None:
            return covers_unit(session, principal, unit)
        # Officers see their colleagues in the units they cover (read only).
        return (
            account.role == "agency" and unit is not None and covers_unit(session, principal, unit)
        )
    return False


def can_manage_account(session: Session, principal: Principal, account: Account) -> bool:
    """Lifecycle operations: admin on any account but their own; agency on operating
    accounts of establishments in its units."""
    if principal.account_id == account.id:
        return False
    if principal.is_admin:
        return True
    if principal.role == "agency" and account.role == "establishment":
        unit = account_unit(account)
        return unit is not None and covers_unit(session, principal, unit)
    return False


def get_account_for(
    session: Session, principal: Principal, account_id: uuid.UUID, *, manage: bool = False
) -> Account:
    account = session.get(Account, account_id)
    if account is None or not can_read_account(session, principal, account):
        raise NotFound("Không tìm thấy tài khoản.", "Account not found.")
    if manage and not can_manage_account(session, principal, account):
        raise Forbidden(
            "Bạn không có quyền quản lý tài khoản này.", "You may not manage this account."
        )
    return account


def get_unit_for(session: Session, principal: Principal, unit_id: uuid.UUID) -> Unit:
    unit = session.get(Unit, unit_id)
    if (
        unit is None
        or session.scalar(units_in_scope(session, principal).where(Unit.id == unit_id)) is None
    ):
        raise NotFound("Không tìm thấy đơn vị.", "Unit not found.")
    return unit


def get_establishment_for(
    session: Session, principal: Principal, establishment_id: uuid.UUID
) -> Establishment:
    establishment = session.get(Establishment, establishment_id)
    if establishment is None:
        raise NotFound("Không tìm thấy cơ sở.", "Establishment not found.")
    if principal.role == "establishment":
        allowed = principal.establishment_id == establishment.id
    else:
        allowed = principal.role in {"admin", "agency"} and covers_unit(
            session, principal, establishment.unit
        )
    if not allowed:
        raise NotFound("Không tìm thấy cơ sở.", "Establishment not found.")
    return establishment


def get_job_for(
    session: Session,
    principal: Principal,
    job_id: uuid.UUID,
    kind: str | None = None,
    *,
    starter_only: bool = False,
) -> Job:
    """A job is seen by whoever started it, by administrators, and by agencies above its
    unit; `starter_only` (a bulk grant's one-time passwords) narrows it to its starter."""
    job = session.get(Job, job_id)
    if job is None or (kind is not None and job.kind != kind):
        raise NotFound("Không tìm thấy công việc.", "Job not found.")
    started_it = job.created_by is not None and job.created_by == principal.account_id
    visible = started_it or (
        not starter_only
        and (
            principal.is_admin
            or (
                principal.role == "agency"
                and job.unit_id is not None
                and session.scalar(units_in_scope(session, principal).where(Unit.id == job.unit_id))
                is not None
            )
        )
    )
    if not visible:
        raise NotFound("Không tìm thấy công việc.", "Job not found.")
    return job
