"""The demo province: Quảng Ninh's 2024 unit tree (Appendix 01) and a few demo logins.

Idempotent: running it again changes nothing. Called by `make run` (embedded default only).
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts.domain import accounts as account_ops
from services.accounts.domain import establishments as establishment_ops
from services.accounts.domain import passwords
from services.accounts.domain import units as unit_ops
from services.accounts.models import Account, Establishment, Unit
from shared.auth import Principal
from shared.config import PROJECT_ROOT

APPENDIX_01 = PROJECT_ROOT / "data" / "appendix01_accounts_2023.csv"
ROOT_CODE = "QN"
SYSTEM = Principal(role="admin", username="system")

# The CSV's group rows have no parent; the province is the tree's root above them.
_LOGIN_PREFIXES = {
    "HA-LONG": "halong",
    "CAM-PHA": "campha",
    "UONG-BI": "uongbi",
    "MONG-CAI": "mongcai",
    "DONG-TRIEU": "dongtrieu",
    "QUANG-YEN": "quangyen",
    "VAN-DON": "vandon",
    "TIEN-YEN": "tienyen",
    "HAI-HA": "haiha",
    "DAM-HA": "damha",
    "BA-CHE": "bache",
    "BINH-LIEU": "binhlieu",
    "CO-TO": "coto",
}


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str
    role: str
    acts_for: str


def load_unit_rows(path: Path = APPENDIX_01) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [row for row in csv.DictReader(handle) if row["level"] != "total"]


def seed_units(session: Session) -> dict[str, Unit]:
    by_code = {u.code: u for u in session.scalars(select(Unit))}
    if ROOT_CODE not in by_code:
        by_code[ROOT_CODE] = unit_ops.create_unit(
            session,
            actor=SYSTEM,
            code=ROOT_CODE,
            name="Tỉnh Quảng Ninh",
            level="province",
            login_prefix="qn",
        )
    for row in load_unit_rows():
        if row["code"] in by_code:
            continue
        parent = by_code[row["parent_code"] or ROOT_CODE]
        by_code[row["code"]] = unit_ops.create_unit(
            session,
            actor=SYSTEM,
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent_id=parent.id,
            login_prefix=_LOGIN_PREFIXES.get(row["code"]),
        )
    return by_code


def _ensure_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    unit: Unit | None = None,
    establishment: Establishment | None = None,
) -> None:
    if session.scalar(select(Account.id).where(Account.username == username)) is not None:
        return
    granted = account_ops.grant(
        session,
        actor=SYSTEM,
        role=role,
        display_name=display_name,
        username=username,
        unit_id=unit.id if unit and role != "establishment" else None,
        establishment_id=establishment.id if establishment else None,
        reason="Dữ liệu trình diễn (demo)",
    )
    account = granted.account
    account.password_hash = passwords.hash_password(password)
    account.must_change_password = False


def seed_demo(session: Session, *, admin_username: str, admin_password: str) -> list[DemoLogin]:
    units = seed_units(session)
    session.flush()
    _ensure_account(
        session,
        username=admin_username,
        password=admin_password,
        role="admin",
        display_name="Quản trị hệ thống (Chi cục QLCL NLS&TS)",
        unit=units["SNN-QLCL"],
    )
    _ensure_account(
        session,
        username="halong.canbo",
        password=admin_password,
        role="agency",
        display_name="Cán bộ UBND TP Hạ Long",
        unit=units["HA-LONG"],
    )
    establishment = session.scalar(
        select(Establishment).where(Establishment.business_registration_no == "5700100001")
    )
    if establishment is None:
        establishment = establishment_ops.create(
            session,
            actor=SYSTEM,
            name="HTX Nuôi trồng thủy sản Hạ Long",
            unit_id=units["HA-LONG"].id,
            business_registration_no="5700100001",
            address="Phường Hùng Thắng, TP Hạ Long, Quảng Ninh",
        )
    _ensure_account(
        session,
        username="htx.halong",
        password=admin_password,
        role="establishment",
        display_name=establishment.name,
        establishment=establishment,
    )
    seed_establishments(session, units)
    seed_requests(session, units)
    session.flush()
    return [
        DemoLogin(admin_username, admin_password, "admin", "Tỉnh Quảng Ninh"),
        DemoLogin("halong.canbo", admin_password, "agency", units["HA-LONG"].name),
        DemoLogin("htx.halong", admin_password, "establishment", establishment.name),
    ]


DEMO_ESTABLISHMENTS = 400


def seed_requests(session: Session, units: dict[str, Unit]) -> None:
    """What waits in Hạ Long's inboxes (once): two applications for an account (Mẫu 03) — one
    new, one sent back for changes — and a forgotten-password request."""
    from services.accounts.domain import password_help
    from services.accounts.domain import registrations as registration_ops
    from services.accounts.models import PasswordHelpRequest, Registration

    if session.scalar(select(Registration.id).limit(1)) is None:
        applications = [
            {
                "name": "Hộ kinh doanh Chả mực Bà Hiền",
                "business_registration_no": "5700200001",
                "representative": "Nguyễn Thị Hiền",
                "phone": "0912 301 201",
                "address": "Số 12 Cao Xanh, TP Hạ Long",
                "food_safety_status": "commitment",
                "activities": ["processing"],
                "sectors": ["fishery"],
            },
            {
                "name": "Cơ sở Sá sùng Quan Lạn",
                "business_registration_no": "5700200002",
                "representative": "Trần Văn Lạn",
                "phone": "0988 402 302",
                "address": "Thôn Đông Nam, xã Quan Lạn",
                "activities": ["pre_processing"],
                "sectors": ["fishery"],
            },
        ]
        submitted = [
            registration_ops.submit(
                session, actor=None, kind="grant", unit_id=units["HA-LONG"].id, data=data
            )
            for data in applications
        ]
        registration_ops.request_changes(
            session,
            actor=SYSTEM,
            registration=submitted[1].registration,
            reason="Bổ sung bản chụp giấy chứng nhận đăng ký hộ kinh doanh.",
        )
    if session.scalar(select(PasswordHelpRequest.id).limit(1)) is None:
        password_help.submit(
            session,
            username="htx.halong",
            contact="0203 3835 111 (chị Lan, kế toán)",
            note="Quên mật khẩu sau khi đổi máy tính.",
        )


def seed_establishments(session: Session, units: dict[str, Unit]) -> int:
    """A few hundred realistic establishments across the 2024 units (once)."""
    from datetime import date

    from services.accounts.demo import establishment_rows
    from services.accounts.domain.establishments import codes, search_text
    from services.accounts.models import EstablishmentAssignment
    from shared.text import fold

    if (
        session.scalar(
            select(Establishment.id)
            .where(Establishment.business_registration_no.like("57%"))
            .limit(2)
            .offset(1)
        )
        is not None
    ):
        return 0
    leaves = [code for code, unit in units.items() if unit.level in {"district", "sub_department"}]
    rows = establishment_rows(
        DEMO_ESTABLISHMENTS, seed=2024, unit_codes=leaves, as_of=date(2026, 12, 1)
    )
    taken = set(session.scalars(select(Establishment.business_registration_no)))
    for row in rows:
        if row["business_registration_no"] in taken:
            continue
        establishment = Establishment(
            id=uuid.uuid4(),
            unit_id=units[str(row["unit_code"])].id,
            activities=codes(cast(list[str], row["activities"])),
            sectors=codes(cast(list[str], row["sectors"])),
            **{
                k: row[k]
                for k in (
                    "name",
                    "business_registration_no",
                    "business_registration_date",
                    "tax_code",
                    "address",
                    "commune",
                    "representative",
                    "phone",
                    "email",
                    "food_safety_status",
                    "certificate_no",
                    "certificate_issuer",
                    "certificate_issued_on",
                    "certificate_expires_on",
                    "commitment_signed_on",
                    "commitment_receiving_unit",
                    "ocop",
                    "ocop_stars",
                )
            },
        )
        establishment.name_folded = fold(establishment.name)
        establishment.search_text = search_text(
            establishment.name, establishment.address, establishment.representative
        )
        session.add(establishment)
        session.add(
            EstablishmentAssignment(
                establishment_id=establishment.id, unit_id=establishment.unit_id
            )
        )
    session.flush()
    return len(rows)


def demo_unit_id(session: Session, code: str) -> uuid.UUID | None:
    return session.scalar(select(Unit.id).where(Unit.code == code))
