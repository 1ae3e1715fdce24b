"""Applications for an account (Mẫu 03: đề nghị cấp / cấp lại tài khoản).

An establishment (public form, no login) or an officer applies; the managing unit reviews it:
asks for changes (the applicant answers with the token given at submission), rejects with a
reason, or approves — which creates or links the establishment and grants (or re-grants) its
account with a login named by the unit's rule and a one-time password. Every step is audited.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts.domain import accounts as account_ops
from services.accounts.domain import audit
from services.accounts.domain import establishments as establishment_ops
from services.accounts.domain.revocation import Revocations
from services.accounts.domain.scope import covers_unit, require_manager
from services.accounts.models import Account, Establishment, Registration, Unit
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from shared.kv import KeyValueStore
from shared.text import nfc

ESTABLISHMENT_KEYS = establishment_ops.FIELDS
PUBLIC_LIMIT = 10  # applications (and answers) per client address per hour, without login
PUBLIC_WINDOW_SECONDS = 3600


def throttle_public(store: KeyValueStore, client: str | None) -> None:
    """The public form and API share one budget per address, across every process."""
    if store.incr(f"registration:ip:{client}", PUBLIC_WINDOW_SECONDS) > PUBLIC_LIMIT:
        raise TooManyRequests(headers={"Retry-After": str(PUBLIC_WINDOW_SECONDS)})


@dataclass(frozen=True)
class Submitted:
    registration: Registration
    applicant_token: str


@dataclass(frozen=True)
class Approved:
    registration: Registration
    account: Account
    one_time_password: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_data(data: dict[str, Any]) -> dict[str, Any]:
    establishment = establishment_ops.clean(
        {k: v for k, v in data.items() if k in ESTABLISHMENT_KEYS}
    )
    contact = {
        k: nfc(v)
        for k, v in data.items()
        if k in {"contact_name", "contact_phone", "contact_email", "requested_username", "note"}
        and isinstance(v, str)
        and nfc(v)
    }
    if contact.get("requested_username"):
        from services.accounts.domain import names

        contact["requested_username"] = names.check(
            contact["requested_username"], "requested_username"
        )
    plain = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in establishment.items()}
    return {**plain, **contact}


def submit(
    session: Session,
    *,
    actor: Principal | None,
    kind: str,
    unit_id: uuid.UUID,
    data: dict[str, Any],
) -> Submitted:
    unit = session.get(Unit, unit_id)
    if unit is None or unit.status != "active":
        raise InvalidInput.field(
            "unit_id", "Hãy chọn đơn vị quản lý đang hoạt động.", "Choose an active managing unit."
        )
    if actor is not None:
        require_manager(actor)
        if not covers_unit(session, actor, unit):
            raise InvalidInput.field(
                "unit_id",
                "Đơn vị ngoài phạm vi quản lý của bạn.",
                "The unit is outside your scope.",
            )
    cleaned = _clean_data(data)
    number = cleaned.get("business_registration_no")
    existing = _existing_establishment(session, kind, number)
    token = secrets.token_urlsafe(24)
    registration = Registration(
        id=uuid.uuid4(),
        kind=kind,
        status="submitted",
        unit_id=unit.id,
        data=cleaned,
        business_registration_no=number,
        establishment_id=existing.id if existing else None,
        submitted_by=actor.account_id if actor else None,
        applicant_token_hash=_hash(token),
    )
    session.add(registration)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="registration.submit",
        target_type="registration",
        target_id=registration.id,
        unit_id=unit.id,
        after={"kind": kind, "status": "submitted", "name": cleaned.get("name")},
    )
    return Submitted(registration, token)


def _existing_establishment(
    session: Session, kind: str, number: str | None
) -> Establishment | None:
    """The registered establishment the application is about (by its registration number);
    a re-grant must name one."""
    existing = (
        session.scalar(
            select(Establishment).where(Establishment.business_registration_no == number)
        )
        if number
        else None
    )
    if kind == "regrant" and existing is None:
        raise InvalidInput.field(
            "business_registration_no",
            "Không tìm thấy cơ sở có số đăng ký này để cấp lại tài khoản.",
            "No establishment with this registration number to re-grant an account to.",
        )
    return existing


def for_applicant(session: Session, registration_id: uuid.UUID, token: str) -> Registration:
    registration = session.get(Registration, registration_id)
    if (
        registration is None
        or not registration.applicant_token_hash
        or not hmac.compare_digest(registration.applicant_token_hash, _hash(token or ""))
    ):
        raise NotFound("Không tìm thấy hồ sơ.", "Application not found.")
    return registration


def resubmit(session: Session, *, registration: Registration, data: dict[str, Any]) -> Registration:
    """The applicant answers a change request."""
    if registration.status != "changes_requested":
        raise Conflict(
            "Hồ sơ không ở trạng thái chờ bổ sung.",
            "The application is not waiting for changes.",
            code="invalid_state",
            extra={"status": registration.status},
        )
    before = {"status": registration.status}
    cleaned = _clean_data(data)
    number = cleaned.get("business_registration_no")
    # The corrected number decides which establishment the application is about.
    existing = _existing_establishment(session, registration.kind, number)
    registration.data = cleaned
    registration.business_registration_no = number
    registration.establishment_id = existing.id if existing else None
    registration.status = "submitted"
    session.flush()
    audit.record(
        session,
        actor=None,
        action="registration.resubmit",
        target_type="registration",
        target_id=registration.id,
        unit_id=registration.unit_id,
        before=before,
        after={"status": "submitted"},
    )
    return registration


def _decidable(session: Session, actor: Principal, registration: Registration) -> None:
    require_manager(actor)
    unit = session.get_one(Unit, registration.unit_id)
    if not covers_unit(session, actor, unit):
        raise Forbidden()
    if registration.status != "submitted":
        raise Conflict(
            "Hồ sơ đã được xử lý hoặc đang chờ bổ sung.",
            "The application was already decided or awaits changes.",
            code="invalid_state",
            extra={"status": registration.status},
        )


def _decide(
    session: Session,
    actor: Principal,
    registration: Registration,
    status: str,
    reason: str | None,
    action: str,
) -> Registration:
    before = {"status": registration.status}
    registration.status = status
    registration.decided_by = actor.account_id
    registration.decided_at = utcnow()
    registration.decision_reason = reason
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=action,
        target_type="registration",
        target_id=registration.id,
        unit_id=registration.unit_id,
        reason=reason,
        before=before,
        after={"status": status},
    )
    return registration


def request_changes(
    session: Session, *, actor: Principal, registration: Registration, reason: str
) -> Registration:
    _decidable(session, actor, registration)
    return _decide(
        session,
        actor,
        registration,
        "changes_requested",
        audit.reason_text(reason),
        "registration.request_changes",
    )


def reject(
    session: Session, *, actor: Principal, registration: Registration, reason: str
) -> Registration:
    _decidable(session, actor, registration)
    return _decide(
        session, actor, registration, "rejected", audit.reason_text(reason), "registration.reject"
    )


def approve(
    session: Session, *, actor: Principal, registration: Registration, revocations: Revocations
) -> Approved:
    """Create or link the establishment, then grant (or re-grant) its account."""
    _decidable(session, actor, registration)
    data = dict(registration.data)
    establishment = (
        session.get(Establishment, registration.establishment_id)
        if registration.establishment_id
        else None
    )
    if establishment is None and registration.business_registration_no:
        establishment = session.scalar(
            select(Establishment).where(
                Establishment.business_registration_no == registration.business_registration_no
            )
        )
    if establishment is None:
        fields = {k: v for k, v in data.items() if k in ESTABLISHMENT_KEYS}
        for key in ("activities", "sectors"):
            if key in fields:
                fields[key] = establishment_ops.code_list(fields[key])
        for key in establishment_ops.DATE_FIELDS:
            if fields.get(key):
                from datetime import date

                fields[key] = date.fromisoformat(fields[key])
        establishment = establishment_ops.create(
            session, actor=actor, unit_id=registration.unit_id, **fields
        )
    elif not covers_unit(session, actor, establishment.unit):
        raise Conflict(
            "Cơ sở này do đơn vị khác quản lý.",
            "This establishment is managed by another unit.",
            code="establishment_other_unit",
        )
    revoked = session.scalar(
        select(Account)
        .where(Account.establishment_id == establishment.id, Account.status == "revoked")
        .order_by(Account.updated_at.desc())
    )
    live = account_ops.count_active_for_establishment(session, establishment.id)
    why = f"Mẫu 03 — hồ sơ {registration.id}"
    if live:
        raise Conflict(
            "Cơ sở đã có tài khoản đang dùng.",
            "The establishment already has an account in use.",
            code="establishment_has_account",
        )
    if registration.kind == "regrant" and revoked is not None:
        granted = account_ops.regrant(
            session, actor=actor, account=revoked, reason=why, revocations=revocations
        )
    else:
        granted = account_ops.grant(
            session,
            actor=actor,
            role="establishment",
            display_name=establishment.name,
            establishment_id=establishment.id,
            username=data.get("requested_username"),
            email=data.get("email"),
            phone=data.get("phone"),
            reason=why,
        )
    registration.establishment_id = establishment.id
    registration.account_id = granted.account.id
    _decide(session, actor, registration, "approved", None, "registration.approve")
    return Approved(registration, granted.account, granted.one_time_password)
