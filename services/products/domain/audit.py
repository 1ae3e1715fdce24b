"""The products service's audit log: append-only rows of who changed what, when, why."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from services.products.models import AuditEvent
from shared.auth import Principal
from shared.errors import InvalidInput
from shared.logs import current_request_id
from shared.text import nfc


def reason_text(reason: str | None, *, required: bool = True) -> str | None:
    cleaned = nfc(reason or "")
    if required and not cleaned:
        raise InvalidInput.field("reason", "Cần nêu lý do.", "A reason is required.")
    return cleaned or None


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID,
    establishment_id: uuid.UUID | None,
    reason: str | None = None,
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
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
