"""Who may see and change what in the products service — its one place for scope rules.

- admin: everything.
- agency: the establishments its unit and the units below it manage (from the directory copy),
  and their products, certifications, lots, shipments and recalls; may record on their behalf.
- establishment: writes only its own; reads its own, plus the lots and shipments other
  establishments sent to it (read-only).
- service tokens (other services of the platform): read everything.

Outside the caller's scope is answered 404 (existence not revealed); a missing capability 403.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from services.products.domain import directory
from services.products.models import Lot, Shipment
from shared.auth import Principal
from shared.errors import Forbidden, NotFound


def _settings() -> Any:
    return current_app.config.get("SETTINGS") if has_app_context() else None


def agency_path(session: Session, principal: Principal) -> str | None:
    return directory.unit_path(session, principal.unit_id, settings=_settings())


def establishments_in_scope(session: Session, principal: Principal) -> Select[Any]:
    """A subquery of the establishment ids whose data the principal manages."""
    result: Select[Any] = directory.COPY.establishments_in_scope(session, principal, _settings())
    return result


def scope_filter(session: Session, principal: Principal, column: Any) -> Any:
    """A WHERE clause limiting `column` (an establishment id) to the principal's scope."""
    return directory.COPY.scope_filter(session, principal, column, _settings())


def manages(session: Session, principal: Principal, establishment_id: uuid.UUID) -> bool:
    """May the principal read and record the data of this establishment?"""
    return directory.COPY.manages(session, principal, establishment_id, _settings())


def can_read(session: Session, principal: Principal, establishment_id: uuid.UUID) -> bool:
    return principal.is_service or manages(session, principal, establishment_id)


def require_manages(session: Session, principal: Principal, establishment_id: uuid.UUID) -> None:
    """Write access to an establishment's data: 404 outside scope."""
    if not manages(session, principal, establishment_id):
        raise NotFound()


def require_manager(principal: Principal) -> None:
    if principal.role not in {"admin", "agency"}:
        raise Forbidden()


def received_by(session: Session, principal: Principal, lot: Lot) -> bool:
    """Was (part of) this lot shipped to the caller's establishment? One step back is theirs
    to see (Circular 17/2021)."""
    if principal.role != "establishment" or principal.establishment_id is None:
        return False
    return (
        session.scalar(
            select(Shipment.id)
            .where(
                Shipment.lot_id == lot.id,
                Shipment.recipient_establishment_id == principal.establishment_id,
            )
            .limit(1)
        )
        is not None
    )


def require_lot_read(session: Session, principal: Principal, lot: Lot) -> None:
    if can_read(session, principal, lot.establishment_id) or received_by(session, principal, lot):
        return
    raise NotFound()


def target_establishment(
    session: Session, principal: Principal, requested: uuid.UUID | None
) -> uuid.UUID:
    """The establishment a new record belongs to: an establishment's own (a different one in
    the request is refused), or the one an agency or admin names (in scope, known)."""
    from shared.errors import InvalidInput

    if principal.role == "establishment":
        own = principal.establishment_id
        if own is None or (requested is not None and requested != own):
            raise Forbidden(
                "Cơ sở chỉ ghi dữ liệu của chính mình.",
                "An establishment records only its own data.",
                code="not_own_establishment",
            )
        return own
    if principal.role not in {"admin", "agency"}:
        raise Forbidden()
    if requested is None:
        raise InvalidInput.field(
            "establishment_id",
            "Cần chọn cơ sở.",
            "Choose the establishment.",
        )
    known = directory.get_establishment(session, requested, settings=_settings())
    if known is None or not manages(session, principal, requested):
        raise InvalidInput.field(
            "establishment_id",
            "Không có cơ sở này trong phạm vi quản lý của bạn.",
            "No such establishment in your scope.",
            code="establishment_not_in_scope",
        )
    return requested
