"""Read queries shared by the API and the pages, so both see exactly the same rows in scope:
accounts, the registrations inbox, an establishment's history, an account's audit trail,
import jobs and their rows, and the unit tree with its establishment counts.

Each list function returns an ordered `Select` (a stable, unique order); the caller pages it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from services.accounts.domain import layout, scope
from services.accounts.models import (
    Account,
    AuditEvent,
    Establishment,
    EstablishmentAssignment,
    ImportRow,
    Job,
    Registration,
    Unit,
)
from shared.auth import Principal
from shared.errors import NotFound
from shared.files import FileStore
from shared.text import fold


def account_query(session: Session, principal: Principal, args: dict[str, Any]) -> Select[Any]:
    """Accounts in the caller's scope: admin all; agency the operating accounts of its units'
    establishments and the agency accounts of its units. Filters: role, status, unit_id, q."""
    scope.require_manager(principal)
    stmt = select(Account).outerjoin(Establishment, Account.establishment_id == Establishment.id)
    in_scope: Select[Any] = scope.units_in_scope(session, principal)
    if args.get("unit_id"):
        target = scope.get_unit_for(session, principal, args["unit_id"])
        in_scope = select(Unit.id).where(Unit.path.startswith(target.path, autoescape=True))
    if not principal.is_admin or args.get("unit_id"):
        stmt = stmt.where(or_(Account.unit_id.in_(in_scope), Establishment.unit_id.in_(in_scope)))
    if args.get("role"):
        stmt = stmt.where(Account.role == args["role"])
    if args.get("status"):
        stmt = stmt.where(Account.status == args["status"])
    if args.get("q"):
        needle = fold(args["q"])
        stmt = stmt.where(
            or_(
                Account.username.contains(needle.replace(" ", ""), autoescape=True),
                Establishment.name_folded.contains(needle, autoescape=True),
            )
        )
    return stmt.order_by(Account.username, Account.id)


def account_audit_query(account: Account) -> Select[Any]:
    """The account's audit trail, newest first (the caller has checked it may read it)."""
    return (
        select(AuditEvent)
        .where(AuditEvent.target_type == "account", AuditEvent.target_id == str(account.id))
        .order_by(AuditEvent.id.desc())
    )


def registration_query(session: Session, principal: Principal, args: dict[str, Any]) -> Select[Any]:
    """Applications to the caller's units (filters: status, unit_id), newest first."""
    scope.require_manager(principal)
    units = scope.units_in_scope(session, principal)
    if args.get("unit_id"):
        unit = scope.get_unit_for(session, principal, args["unit_id"])
        units = select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))
    stmt = select(Registration).where(Registration.unit_id.in_(units))
    if args.get("status"):
        stmt = stmt.where(Registration.status == args["status"])
    return stmt.order_by(Registration.created_at.desc(), Registration.id)


def registration_for_manager(
    session: Session, principal: Principal, registration_id: uuid.UUID
) -> Registration:
    """An application to one of the caller's units; anything else is 404."""
    scope.require_manager(principal)
    registration = session.get(Registration, registration_id)
    if (
        registration is None
        or session.scalar(
            scope.units_in_scope(session, principal).where(Unit.id == registration.unit_id)
        )
        is None
    ):
        raise NotFound("Không tìm thấy hồ sơ.", "Application not found.")
    return registration


def establishment_history(session: Session, establishment: Establishment) -> dict[str, Any]:
    """Which unit managed it when, every change with before/after, and what imports changed,
    oldest first (the caller has checked the establishment is in scope)."""
    return {
        "assignments": list(
            session.scalars(
                select(EstablishmentAssignment)
                .where(EstablishmentAssignment.establishment_id == establishment.id)
                .order_by(EstablishmentAssignment.valid_from, EstablishmentAssignment.id)
            )
        ),
        "events": list(
            session.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.target_type == "establishment",
                    AuditEvent.target_id == str(establishment.id),
                )
                .order_by(AuditEvent.id)
            )
        ),
        "imports": [
            {
                "job_id": job.id,
                "at": job.finished_at,
                "by": job.created_by,
                "row_number": row.row_number,
                "outcome": row.outcome,
                "changes": row.changes,
            }
            for row, job in session.execute(
                select(ImportRow, Job)
                .join(Job, Job.id == ImportRow.job_id)
                .where(
                    ImportRow.establishment_id == establishment.id,
                    ImportRow.outcome.in_(("created", "updated")),
                    Job.status == "done",
                )
                .order_by(Job.finished_at, Job.id)
            )
            if not (job.params or {}).get("dry_run")
        ],
    }


def account_for_establishment(session: Session, establishment_id: uuid.UUID) -> Account | None:
    """The establishment's account that is not revoked (there is at most one)."""
    return session.scalar(
        select(Account)
        .where(Account.establishment_id == establishment_id, Account.status != "revoked")
        .order_by(Account.created_at.desc())
        .limit(1)
    )


# --- imports -------------------------------------------------------------------------------


def new_import_job(
    session: Session,
    principal: Principal,
    *,
    data: bytes,
    filename: str | None,
    dry_run: bool,
    files: FileStore,
) -> Job:
    """Check an uploaded .xlsx at once (type, size, zip bomb, password, required columns —
    413/422 and nothing stored), save it and add the queued import job; the caller enqueues
    it (`shared.jobs.enqueue`) so the message leaves after commit."""
    from shared.excel import find_header, inspect_upload, read_rows

    scope.require_manager(principal)
    inspect_upload(data)
    find_header(read_rows(data), layout.aliases(), required=layout.REQUIRED)
    job = Job(
        id=uuid.uuid4(),
        kind="import",
        status="queued",
        created_by=principal.account_id,
        unit_id=principal.unit_id,
        params={"file": "", "dry_run": dry_run, "filename": (filename or "")[:200]},
    )
    key = f"accounts/imports/{job.id}.xlsx"
    files.save(key, data)
    job.params = {**job.params, "file": key}
    session.add(job)
    session.flush()
    return job


def import_jobs_query(session: Session, principal: Principal) -> Select[Any]:
    """Import jobs the caller may see (as `scope.get_job_for`), newest first."""
    scope.require_manager(principal)
    stmt = select(Job).where(Job.kind == "import")
    if not principal.is_admin:
        stmt = stmt.where(
            or_(
                Job.created_by == principal.account_id,
                Job.unit_id.in_(scope.units_in_scope(session, principal)),
            )
        )
    return stmt.order_by(Job.created_at.desc(), Job.id)


def import_rows_query(job: Job, outcome: str | None = None) -> Select[Any]:
    stmt = select(ImportRow).where(ImportRow.job_id == job.id)
    if outcome:
        stmt = stmt.where(ImportRow.outcome == outcome)
    return stmt.order_by(ImportRow.row_number)


# --- units ---------------------------------------------------------------------------------


def unit_tree(session: Session, principal: Principal) -> list[tuple[Unit, int, int]]:
    """The units in scope in tree order, each with its depth below the top unit shown and
    the number of establishments it manages directly (one grouped count, not one per unit)."""
    units = list(
        session.scalars(
            select(Unit)
            .where(Unit.id.in_(scope.units_in_scope(session, principal)))
            .order_by(Unit.path)
        )
    )
    counts = dict(
        session.execute(
            select(Establishment.unit_id, func.count())
            .where(Establishment.unit_id.in_(scope.units_in_scope(session, principal)))
            .group_by(Establishment.unit_id)
        ).all()
    )
    if not units:
        return []
    top = min(u.path.count("/") for u in units)
    return [(u, u.path.count("/") - top, int(counts.get(u.id, 0))) for u in units]
