"""The audit log: append-only rows of who did what to what, when, why, before and after."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from services.accounts.models import AuditEvent
from shared.auth import Principal
from shared.errors import InvalidInput
from shared.logs import current_request_id
from shared.text import nfc


def reason_text(reason: str | None, *, required: bool = True) -> str | None:
    """The reason (lý do) an action records: NFC, never blank when the action needs one."""
    cleaned = nfc(reason or "")
    if required and not cleaned:
        raise InvalidInput.field("reason", "Cần nêu lý do.", "A reason is required.")
    return cleaned or None


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: uuid.UUID | str,
    unit_id: uuid.UUID | None,
    reason: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.account_id if actor else None,
        actor_username=actor.username if actor else "public",
        actor_role=actor.role if actor else "public",
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        unit_id=unit_id,
        reason=reason,
        before=_jsonable(before),
        after=_jsonable(after),
        request_id=current_request_id(),
    )
    session.add(event)
    return event


def _jsonable(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, uuid.UUID):
            out[key] = str(value)
        elif hasattr(value, "isoformat"):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out
