"""What other services copy from this one: units and establishments (the "directory").

Other services keep a read-only copy for scope checks and public cards (docs/architecture.md,
D20). They pull changes from `GET /api/v1/internal/directory?since=…`; a change here rings a
doorbell (a Celery task by name, after the commit) so the copy is fresh within seconds, and a
periodic pull catches anything a lost doorbell missed.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import case, event, func, inspect, or_, select
from sqlalchemy.orm import Session

from services.accounts.models import Account, Establishment, Unit
from shared.db import on_commit

log = logging.getLogger(__name__)

# Tasks of other services that copy the directory; each is sent by name.
SUBSCRIBERS = ("products.sync_directory", "labels.sync_directory", "reports.sync_directory")
_CHANGED = "directory_changed"


def units(session: Session) -> list[dict[str, Any]]:
    """Every unit (a few hundred rows): the copy is replaced whole, so moves are never missed."""
    rows = session.execute(
        select(Unit.id, Unit.parent_id, Unit.path, Unit.code, Unit.name, Unit.status)
    )
    return [dict(row._mapping) for row in rows]


def _account_status() -> Any:
    """'active' when the establishment has a usable operating account, else the best of
    suspended / revoked, else 'none'."""
    rank = func.min(
        case(
            (Account.status == "active", 1),
            (Account.status == "suspended", 2),
            else_=3,
        )
    )
    return (
        select(rank)
        .where(Account.establishment_id == Establishment.id, Account.role == "establishment")
        .correlate(Establishment)
        .scalar_subquery()
    )


def establishments(
    session: Session,
    *,
    since: datetime | None = None,
    after: uuid.UUID | None = None,
    limit: int = 2000,
    ids: list[uuid.UUID] | None = None,
) -> list[dict[str, Any]]:
    """Establishments changed at or after `since` (their row or one of their accounts), in id
    order from `after` (keyset pages)."""
    changed_account = (
        select(Account.id)
        .where(Account.establishment_id == Establishment.id)
        .where(Account.updated_at >= since)
        .correlate(Establishment)
        .exists()
        if since is not None
        else None
    )
    stmt = (
        select(
            Establishment.id,
            Establishment.unit_id,
            Unit.path.label("unit_path"),
            Establishment.name,
            Establishment.address,
            Establishment.phone,
            Establishment.representative,
            Establishment.business_registration_no,
            Establishment.food_safety_status,
            Establishment.certificate_no,
            Establishment.certificate_issuer,
            Establishment.certificate_expires_on,
            Establishment.commitment_signed_on,
            Establishment.ocop,
            Establishment.ocop_stars,
            Establishment.status,
            Establishment.updated_at,
            _account_status().label("account_rank"),
        )
        .join(Unit, Unit.id == Establishment.unit_id)
        .order_by(Establishment.id)
        .limit(limit)
    )
    if ids is not None:
        stmt = stmt.where(Establishment.id.in_(ids))
    if since is not None and changed_account is not None:
        stmt = stmt.where(or_(Establishment.updated_at >= since, changed_account))
    if after is not None:
        stmt = stmt.where(Establishment.id > after)
    out = []
    for row in session.execute(stmt):
        item = dict(row._mapping)
        rank = item.pop("account_rank")
        item["account_status"] = {1: "active", 2: "suspended", 3: "revoked"}.get(rank, "none")
        out.append(item)
    return out


# --- the doorbell ------------------------------------------------------------------------------


def _touches_directory(session: Session) -> bool:
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Unit | Establishment):
            return True
        if isinstance(obj, Account) and obj.role == "establishment":
            state = inspect(obj)
            if state.pending or any(
                state.attrs[name].history.has_changes() for name in ("status", "establishment_id")
            ):
                return True
    return False


def ring(session: Session) -> None:
    """After this transaction commits, tell the subscribers the directory changed."""
    if session.info.get(_CHANGED):
        return
    session.info[_CHANGED] = True
    on_commit(session, _send)


def _send() -> None:
    from celery import current_app as celery

    if celery.conf.task_always_eager:
        # In-process tests run tasks eagerly; a task sent by name cannot be, and the copy's
        # own tests pull explicitly.
        return
    for name in SUBSCRIBERS:
        try:
            celery.send_task(name, queue="default", expires=300)
        except Exception:
            # The periodic pull catches up; a down broker must not fail the user's request.
            log.warning("directory doorbell %s not sent", name, exc_info=True)


@event.listens_for(Session, "before_flush")
def _watch(session: Session, _context: Any, _instances: Any) -> None:
    if not session.info.get(_CHANGED) and _touches_directory(session):
        ring(session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)
