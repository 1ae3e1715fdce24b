"""Exports of the establishment list (XLSX, CSV) and the import template, in one layout."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts.domain.establishments import certificate_state, code_list
from services.accounts.domain.layout import (
    ACTIVITY_NAMES,
    CERTIFICATE_STATE_NAMES,
    COLUMNS,
    IMPORT_COLUMNS,
    SECTOR_NAMES,
    STATUS_NAMES,
)
from services.accounts.domain.search import establishment_query
from services.accounts.models import Unit
from shared.auth import Principal
from shared.excel import SheetSpec, write_csv, write_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
BATCH = 2000
TITLE = "DANH SÁCH CƠ SỞ SẢN XUẤT, KINH DOANH THỰC PHẨM NÔNG LÂM THỦY SẢN"


def filename(extension: str) -> str:
    stamp = datetime.now(LOCAL).strftime("%Y%m%d-%H%M")
    return f"danh-sach-co-so-{stamp}.{extension}"


def _rows(session: Session, principal: Principal, filters: dict[str, Any]) -> Iterator[list[Any]]:
    unit_codes: dict[Any, str] = {
        row.id: row.code for row in session.execute(select(Unit.id, Unit.code))
    }
    stmt = establishment_query(session, principal, filters)
    rows = session.execute(stmt.execution_options(yield_per=BATCH))
    for number, (establishment, has_account) in enumerate(rows, start=1):
        values = {
            "row": number,
            "unit_code": unit_codes.get(establishment.unit_id),
            "activities": ", ".join(ACTIVITY_NAMES[c] for c in code_list(establishment.activities)),
            "sectors": ", ".join(SECTOR_NAMES[c] for c in code_list(establishment.sectors)),
            "food_safety_status": STATUS_NAMES[establishment.food_safety_status],
            "ocop": establishment.ocop,
            "certificate_state": CERTIFICATE_STATE_NAMES.get(
                certificate_state(establishment) or "", ""
            ),
            "has_account": bool(has_account),
        }
        yield [values[c.key] if c.key in values else getattr(establishment, c.key) for c in COLUMNS]


def write_establishments_xlsx(
    session: Session, principal: Principal, filters: dict[str, Any], target: IO[bytes]
) -> None:
    write_xlsx(
        target,
        [
            SheetSpec(
                name="Cơ sở",
                headers=[c.header for c in COLUMNS],
                rows=_rows(session, principal, filters),
                column_widths=[c.width for c in COLUMNS],
                title=TITLE,
            )
        ],
    )


def write_establishments_csv(
    session: Session, principal: Principal, filters: dict[str, Any], target: IO[bytes]
) -> None:
    write_csv(target, [c.header for c in COLUMNS], _rows(session, principal, filters))


def write_template(target: IO[bytes]) -> None:
    """The import template: the headers agencies use and one example row."""
    example = {
        "name": "Hợp tác xã Nuôi trồng thủy sản Vân Đồn",
        "business_registration_no": "5701234567",
        "address": "Thôn 3, xã Hạ Long, huyện Vân Đồn",
        "commune": "Xã Hạ Long",
        "unit_code": "VAN-DON",
        "representative": "Nguyễn Văn Hùng",
        "phone": "0912345678",
        "activities": "Sản xuất, Sơ chế",
        "sectors": "Thủy sản",
        "food_safety_status": "Ký cam kết",
        "commitment_signed_on": "15/03/2024",
        "commitment_receiving_unit": "UBND huyện Vân Đồn",
        "ocop": "",
    }
    write_xlsx(
        target,
        [
            SheetSpec(
                name="Cơ sở",
                headers=[c.header for c in IMPORT_COLUMNS],
                rows=[[example.get(c.key) for c in IMPORT_COLUMNS]],
                column_widths=[c.width for c in IMPORT_COLUMNS],
                title=TITLE,
            )
        ],
    )
