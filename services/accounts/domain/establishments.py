"""Establishments (cơ sở): the minimum the accounts need — the registry grows in issue 3."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts.domain import audit
from services.accounts.domain.scope import covers_unit, require_manager
from services.accounts.models import Establishment, Unit
from shared.auth import Principal
from shared.errors import Conflict, InvalidInput
from shared.text import fold, nfc


def snapshot(establishment: Establishment) -> dict[str, Any]:
    return {
        "name": establishment.name,
        "unit_id": establishment.unit_id,
        "business_registration_no": establishment.business_registration_no,
        "address": establishment.address,
    }


def create(
    session: Session,
    *,
    actor: Principal,
    name: str,
    unit_id: uuid.UUID,
    business_registration_no: str | None = None,
    address: str | None = None,
) -> Establishment:
    require_manager(actor)
    unit = session.get(Unit, unit_id)
    if unit is None or unit.status != "active" or not covers_unit(session, actor, unit):
        raise InvalidInput.field(
            "unit_id",
            "Không tìm thấy đơn vị đang hoạt động trong phạm vi quản lý của bạn.",
            "No such active unit in your scope.",
        )
    name = nfc(name)
    if not name:
        raise InvalidInput.field("name", "Tên cơ sở không được để trống.", "A name is required.")
    registration = nfc(business_registration_no) if business_registration_no else None
    if (
        registration
        and session.scalar(
            select(Establishment.id).where(Establishment.business_registration_no == registration)
        )
        is not None
    ):
        raise Conflict(
            "Số đăng ký kinh doanh đã có trong hệ thống.",
            "This business registration number is already registered.",
            code="duplicate_registration_no",
        )
    establishment = Establishment(
        id=uuid.uuid4(),
        name=name,
        name_folded=fold(name),
        unit_id=unit.id,
        business_registration_no=registration,
        address=nfc(address) if address else None,
    )
    establishment.unit = unit
    session.add(establishment)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="establishment.create",
        target_type="establishment",
        target_id=establishment.id,
        unit_id=unit.id,
        after=snapshot(establishment),
    )
    return establishment
