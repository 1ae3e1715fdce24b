"""The products service's audit log: append-only rows of who changed what, when, why."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from services.products.models import AuditEvent
from shared import audit as shared_audit
from shared.auth import Principal
from shared.errors import InvalidInput
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
    event: AuditEvent = shared_audit.record(
        session,
        AuditEvent,
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        establishment_id=establishment_id,
        reason=reason,
        data=data,
    )
    return event


jsonable = shared_audit.jsonable
