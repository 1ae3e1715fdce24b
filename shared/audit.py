"""The audit log every service other than accounts keeps: append-only rows of who changed
what, when and why (the accounts service has its own, with before/after per field).

Each service declares `class AuditEvent(AuditEventMixin, Base)` and records through
`record(session, AuditEvent, …)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from shared.db import JSONType, utcnow
from shared.logs import current_request_id


class AuditEventMixin:
    """Append-only record of every change in a service: who, what, when, why."""

    __tablename__ = "audit_events"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(255))
    actor_role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[uuid.UUID]
    establishment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    request_id: Mapped[str | None] = mapped_column(String(128))


def jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def record(
    session: Session,
    model: Any,
    *,
    actor: Any,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    establishment_id: uuid.UUID | None,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> Any:
    event = model(
        actor_id=actor.account_id if actor else None,
        actor_name=actor.username if actor else None,
        actor_role=actor.role if actor else None,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        establishment_id=establishment_id,
        reason=reason,
        data=jsonable(data) if data is not None else None,
        request_id=current_request_id(),
    )
    session.add(event)
    return event
