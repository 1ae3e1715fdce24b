"""Notifications (thông báo) to establishments and the units managing them: which ones a caller
reads, the list, and marking them read — by their addressee only. Recalls write them
(`recalls.notify`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, false, select, true, update
from sqlalchemy.orm import Session

from services.products.domain import scope
from services.products.models import DirectoryUnit, Notification
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Forbidden, NotFound

CHUNK = 5000


def _chunks(ids: Sequence[uuid.UUID]) -> Iterator[Sequence[uuid.UUID]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def notifications_filter(session: Session, principal: Principal) -> ColumnElement[bool]:
    """An establishment reads those addressed to it; an agency those addressed to its unit and
    the units below; the administrator (and services) all."""
    if principal.is_admin or principal.is_service:
        return true()
    if principal.role == "establishment" and principal.establishment_id is not None:
        return (Notification.establishment_id == principal.establishment_id) & (
            Notification.unit_id.is_(None)
        )
    if principal.role == "agency":
        path = scope.agency_path(session, principal)
        if path is None:
            return false()
        return Notification.unit_id.in_(
            select(DirectoryUnit.id).where(DirectoryUnit.path.startswith(path, autoescape=True))
        )
    return false()


def notification_query(
    session: Session, principal: Principal, filters: dict[str, Any]
) -> Select[Any]:
    stmt = (
        select(Notification)
        .where(notifications_filter(session, principal))
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if filters.get("unread") is not None:
        stmt = stmt.where(
            Notification.read_at.is_(None)
            if filters["unread"]
            else Notification.read_at.is_not(None)
        )
    if filters.get("mine"):
        stmt = stmt.where(addressed_filter(principal))
    if filters.get("kind"):
        stmt = stmt.where(Notification.kind == filters["kind"])
    if filters.get("recall_id"):
        stmt = stmt.where(Notification.recall_id == filters["recall_id"])
    return stmt


def addressed_filter(principal: Principal) -> ColumnElement[bool]:
    """The notifications addressed to the principal itself: its establishment's, or its own
    unit's. Only the addressee marks one read (the read mark is shared by everyone who sees
    it, so a higher unit or the administrator reading along must not clear it)."""
    if principal.role == "establishment" and principal.establishment_id is not None:
        return (Notification.establishment_id == principal.establishment_id) & (
            Notification.unit_id.is_(None)
        )
    if principal.role == "agency" and principal.unit_id is not None:
        return Notification.unit_id == principal.unit_id
    return false()


def mark_read(session: Session, principal: Principal, notification_id: uuid.UUID) -> Notification:
    found = session.scalar(
        select(Notification).where(
            Notification.id == notification_id, notifications_filter(session, principal)
        )
    )
    if found is None:
        raise NotFound(
            "Không tìm thấy thông báo.", "No such notification.", code="notification_not_found"
        )
    if (
        session.scalar(
            select(Notification.id).where(Notification.id == found.id, addressed_filter(principal))
        )
        is None
    ):
        raise Forbidden(
            "Thông báo này không gửi cho bạn; chỉ nơi nhận mới đánh dấu đã đọc.",
            "This notification is not addressed to you; only its addressee marks it read.",
            code="not_addressee",
        )
    if found.read_at is None:
        found.read_at = utcnow()
        session.flush()
    return found


def mark_all_read(session: Session, principal: Principal) -> int:
    """Mark read every unread notification addressed to the principal."""
    ids = list(
        session.scalars(
            select(Notification.id).where(
                addressed_filter(principal), Notification.read_at.is_(None)
            )
        )
    )
    now = utcnow()
    for chunk in _chunks(ids):
        session.execute(
            update(Notification)
            .where(Notification.id.in_(chunk))
            .values(read_at=now)
            .execution_options(synchronize_session="fetch")
        )
    return len(ids)
