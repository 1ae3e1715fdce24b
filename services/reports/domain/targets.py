"""The year's five percentage targets (the plan: accounts for 100 % of certificate-subject
establishments, 10 % of commitment-subject and 100 % of OCOP establishments; QR codes for
100 % of OCOP and key products; 80 % of packaged processed products traceable). A year with
no row of its own uses these defaults; an administrator edits a year's values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from services.reports.models import YearTargets
from shared.errors import InvalidInput, PreconditionFailed


@dataclass(frozen=True)
class Target:
    key: str
    numerator: str
    denominator: str
    vi: str
    en: str
    default: Decimal


TARGETS = (
    Target(
        "certificate_accounts",
        "certificate_with_account",
        "certificate_subject",
        "Cấp tài khoản cho cơ sở thuộc diện cấp GCN ATTP",
        "Accounts for certificate-subject establishments",
        Decimal(100),
    ),
    Target(
        "commitment_accounts",
        "commitment_with_account",
        "commitment_subject",
        "Cấp tài khoản cho cơ sở ký cam kết ATTP",
        "Accounts for commitment-subject establishments",
        Decimal(10),
    ),
    Target(
        "ocop_accounts",
        "ocop_with_account",
        "ocop",
        "Cấp tài khoản cho chủ thể OCOP",
        "Accounts for OCOP establishments",
        Decimal(100),
    ),
    Target(
        "qr_key_products",
        "ocop_or_key_with_qr",
        "ocop_or_key_products",
        "Sản phẩm OCOP, sản phẩm chủ lực có mã QR truy xuất",
        "OCOP and key products with traceability QR codes",
        Decimal(100),
    ),
    Target(
        "traceable_packaged",
        "packaged_processed_traceable",
        "packaged_processed",
        "Sản phẩm bao gói, chế biến được truy xuất nguồn gốc",
        "Packaged processed products traceable",
        Decimal(80),
    ),
)
KEYS = tuple(t.key for t in TARGETS)


@dataclass(frozen=True)
class Goals:
    year: int
    certificate_accounts: Decimal
    commitment_accounts: Decimal
    ocop_accounts: Decimal
    qr_key_products: Decimal
    traceable_packaged: Decimal
    version: int
    is_default: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            **{key: float(getattr(self, key)) for key in KEYS},
            "version": self.version,
            "is_default": self.is_default,
            "targets": [
                {
                    "key": t.key,
                    "formula": f"{t.numerator}/{t.denominator}",
                    "vi": t.vi,
                    "en": t.en,
                    "value": float(getattr(self, t.key)),
                }
                for t in TARGETS
            ],
        }


def for_year(session: Session, year: int) -> Goals:
    row = session.get(YearTargets, year)
    if row is None:
        values = {t.key: t.default for t in TARGETS}
        return Goals(year=year, version=0, is_default=True, **values)
    values = {key: Decimal(getattr(row, key)) for key in KEYS}
    return Goals(year=year, version=row.version, is_default=False, **values)


def update(
    session: Session,
    year: int,
    values: dict[str, Decimal],
    *,
    actor: uuid.UUID | None,
    expected_version: int | None,
) -> Goals:
    """Set a year's targets (all five); `expected_version` guards against a lost update
    (0 for a year still on the defaults)."""
    for key, value in values.items():
        if key not in KEYS:
            raise InvalidInput.field(key, "Chỉ tiêu không tồn tại.", "No such target.")
        if not Decimal(0) <= value <= Decimal(100):
            raise InvalidInput.field(
                key, "Chỉ tiêu phải từ 0 đến 100 (%).", "A target must be 0 to 100 (%)."
            )
    row = session.get(YearTargets, year, with_for_update=True)
    current = 0 if row is None else row.version
    if expected_version is not None and expected_version != current:
        raise PreconditionFailed()
    if row is None:
        defaults = {t.key: t.default for t in TARGETS}
        row = YearTargets(year=year, version=0, **defaults)
        session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.version = current + 1
    row.updated_by = actor
    session.flush()
    return for_year(session, year)
