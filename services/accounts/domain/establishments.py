"""The establishment registry (cơ sở): create, edit, move between units, certificate state.

Every change leaves an audit row with the before and after; a move also closes the current
`EstablishmentAssignment` and opens a new one, so the history of who managed it stays.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.accounts.domain import audit
from services.accounts.domain.scope import covers_unit, require_manager
from services.accounts.models import (
    ACTIVITIES,
    SECTORS,
    Establishment,
    EstablishmentAssignment,
    Unit,
)
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, InvalidInput, Message, PreconditionFailed
from shared.text import fold, nfc

EXPIRY_WARNING = timedelta(days=183)  # renewal is asked 6 months before expiry (Law 2010, Art. 37)

TEXT_FIELDS = (
    "name",
    "business_registration_no",
    "tax_code",
    "address",
    "commune",
    "representative",
    "phone",
    "email",
    "certificate_no",
    "certificate_issuer",
    "commitment_receiving_unit",
)
DATE_FIELDS = (
    "business_registration_date",
    "certificate_issued_on",
    "certificate_expires_on",
    "commitment_signed_on",
)
OTHER_FIELDS = ("activities", "sectors", "food_safety_status", "ocop", "ocop_stars", "status")
FIELDS = TEXT_FIELDS + DATE_FIELDS + OTHER_FIELDS


def codes(values: Iterable[str] | None) -> str:
    """["processing", "fishery"] → "|fishery|processing|" (the stored form)."""
    cleaned = sorted({v for v in (values or []) if v})
    return "|" + "".join(f"{v}|" for v in cleaned)


def code_list(stored: str | None) -> list[str]:
    return [v for v in (stored or "").split("|") if v]


def search_text(
    name: str | None,
    address: str | None,
    representative: str | None,
    *,
    name_folded: str | None = None,
) -> str:
    """fold(name + address + representative); pass `name_folded` when already computed."""
    rest = fold(" ".join(v for v in (address, representative) if v))
    head = name_folded if name_folded is not None else fold(name or "")
    return f"{head} {rest}".strip()


def certificate_state(establishment: Any, today: date | None = None) -> str | None:
    """valid / expiring (within 6 months) / expired, for certificate-subject establishments."""
    if establishment.food_safety_status != "certificate":
        return None
    expires = establishment.certificate_expires_on
    if expires is None:
        return "unknown"
    today = today or date.today()  # noqa: DTZ011 - calendar dates are local (Asia/Ho_Chi_Minh)
    if expires < today:
        return "expired"
    if expires <= today + EXPIRY_WARNING:
        return "expiring"
    return "valid"


def snapshot(establishment: Establishment) -> dict[str, Any]:
    data = {f: getattr(establishment, f) for f in FIELDS}
    data["activities"] = code_list(establishment.activities)
    data["sectors"] = code_list(establishment.sectors)
    data["unit_id"] = establishment.unit_id
    return data


def clean(values: Mapping[str, Any], current: Establishment | None = None) -> dict[str, Any]:
    """Normalise and cross-check submitted fields; raise InvalidInput naming each problem.

    For an edit, `current` is the stored establishment: fields not submitted are cross-checked
    with their stored values (an expiry date alone must still follow the stored issue date)."""
    data: dict[str, Any] = {}
    problems: dict[str, list[Message]] = {}
    for key, value in values.items():
        if key in TEXT_FIELDS:
            data[key] = nfc(value) if isinstance(value, str) and nfc(value) else None
        elif key in ("activities", "sectors"):
            allowed = ACTIVITIES if key == "activities" else SECTORS
            unknown = [v for v in value or [] if v not in allowed]
            if unknown:
                problems[key] = [
                    Message(
                        f"Giá trị không hợp lệ: {', '.join(unknown)}.",
                        f"Unknown values: {', '.join(unknown)}.",
                    )
                ]
            data[key] = codes(value)
        else:
            data[key] = value
    if "name" in data and not data["name"]:
        problems["name"] = [Message("Tên cơ sở không được để trống.", "A name is required.")]

    def final(key: str) -> Any:
        return data[key] if key in data else getattr(current, key, None)

    issued, expires = final("certificate_issued_on"), final("certificate_expires_on")
    if issued and expires and expires < issued:
        problems["certificate_expires_on"] = [
            Message(
                "Ngày hết hạn phải sau ngày cấp.", "The expiry date must follow the issue date."
            )
        ]
    if final("ocop_stars") is not None and data.get("ocop") is False:
        problems["ocop_stars"] = [
            Message(
                "Chỉ cơ sở tham gia OCOP mới có số sao.",
                "Only OCOP participants have a star rating.",
            )
        ]
    if problems:
        raise InvalidInput(fields=problems)
    if data.get("ocop_stars") is not None:
        data["ocop"] = True
    return data


def _unit_in_scope(
    session: Session, actor: Principal, unit_id: uuid.UUID, field: str = "unit_id"
) -> Unit:
    unit = session.get(Unit, unit_id)
    if unit is None or unit.status != "active" or not covers_unit(session, actor, unit):
        raise InvalidInput.field(
            field,
            "Không tìm thấy đơn vị đang hoạt động trong phạm vi quản lý của bạn.",
            "No such active unit in your scope.",
        )
    return unit


def _registration_free(
    session: Session, number: str | None, establishment_id: uuid.UUID | None
) -> None:
    if not number:
        return
    other = session.scalar(
        select(Establishment.id).where(Establishment.business_registration_no == number)
    )
    if other is not None and other != establishment_id:
        raise Conflict(
            "Số đăng ký kinh doanh đã có trong hệ thống.",
            "This business registration number is already registered.",
            code="duplicate_registration_no",
            extra={"establishment_id": str(other)},
        )


def create(
    session: Session, *, actor: Principal, unit_id: uuid.UUID, **values: Any
) -> Establishment:
    require_manager(actor)
    unit = _unit_in_scope(session, actor, unit_id)
    data = clean(values)
    _registration_free(session, data.get("business_registration_no"), None)
    establishment = Establishment(id=uuid.uuid4(), unit_id=unit.id, **data)
    establishment.unit = unit
    _refresh_derived(establishment)
    session.add(establishment)
    session.flush()
    session.add(EstablishmentAssignment(establishment_id=establishment.id, unit_id=unit.id))
    audit.record(
        session,
        actor=actor,
        action="establishment.create",
        target_type="establishment",
        target_id=establishment.id,
        unit_id=unit.id,
        after=snapshot(establishment),
    )
    session.flush()
    return establishment


def _refresh_derived(establishment: Establishment) -> None:
    establishment.name_folded = fold(establishment.name)
    establishment.search_text = search_text(
        establishment.name, establishment.address, establishment.representative
    )


def check_version(establishment: Establishment, expected: int | None) -> None:
    if expected is None:
        raise PreconditionFailed(
            "Cần gửi phiên bản đang sửa (If-Match) để tránh ghi đè thay đổi của người khác.",
            "Send the version you are editing (If-Match) so nobody's change is overwritten.",
            code="version_required",
        )
    if expected != establishment.version:
        raise PreconditionFailed(extra={"current_version": establishment.version})


def update_fields(
    session: Session,
    *,
    actor: Principal,
    establishment: Establishment,
    changes: Mapping[str, Any],
    expected_version: int | None,
    reason: str | None = None,
) -> Establishment:
    require_manager(actor)
    check_version(establishment, expected_version)
    data = clean(changes, establishment)
    if "business_registration_no" in data:
        _registration_free(session, data["business_registration_no"], establishment.id)
    before = snapshot(establishment)
    for key, value in data.items():
        setattr(establishment, key, value)
    _refresh_derived(establishment)
    after = snapshot(establishment)
    if after != before:
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="establishment.update",
            target_type="establishment",
            target_id=establishment.id,
            unit_id=establishment.unit_id,
            reason=nfc(reason) if reason else None,
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return establishment


def move(
    session: Session,
    *,
    actor: Principal,
    establishment: Establishment,
    unit_id: uuid.UUID,
    reason: str,
    expected_version: int | None,
) -> Establishment:
    """Hand the establishment to another unit; both the old and the new unit must be in the
    actor's scope. The assignment history keeps who managed it when."""
    require_manager(actor)
    check_version(establishment, expected_version)
    why = audit.reason_text(reason)
    unit = _unit_in_scope(session, actor, unit_id)
    if unit.id == establishment.unit_id:
        return establishment
    now = utcnow()
    before_unit = establishment.unit_id
    closed = session.execute(
        update(EstablishmentAssignment)
        .where(
            EstablishmentAssignment.establishment_id == establishment.id,
            EstablishmentAssignment.valid_to.is_(None),
        )
        .values(valid_to=now)
    )
    if not closed.rowcount:  # type: ignore[attr-defined]
        # Registered before assignments were kept (the registry migration added the table
        # without back-filling it): keep the old unit's period rather than losing it.
        session.add(
            EstablishmentAssignment(
                establishment_id=establishment.id,
                unit_id=before_unit,
                valid_from=establishment.created_at,
                valid_to=now,
            )
        )
    session.add(
        EstablishmentAssignment(establishment_id=establishment.id, unit_id=unit.id, valid_from=now)
    )
    establishment.unit_id = unit.id
    establishment.unit = unit
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="establishment.move",
        target_type="establishment",
        target_id=establishment.id,
        unit_id=unit.id,
        reason=why,
        before={"unit_id": before_unit},
        after={"unit_id": unit.id},
    )
    return establishment
