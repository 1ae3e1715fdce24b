"""Published Appendix 01 tables: imported as printed, then compared cell by cell with what the
system computes for the same day (DOMAIN.md: the 2024 table is not internally consistent —
its rate uses two formulas and its province subtotal is not the sum of its children).

Each published cell is checked two ways: against the system's figure for that unit (does
the system agree with the published count?) and, for subtotal rows, against the sum of the
published children (is the table consistent with itself?). The published rate is compared
with both formulas and reported as the one it matches, or neither.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reports.domain.indicators import rate
from services.reports.domain.tables import UnitMatcher, cell_int, find_header_row, read_table
from services.reports.models import PublishedRow, PublishedTable
from shared.errors import InvalidInput, NotFound
from shared.text import nfc

COLUMNS = (
    "establishments",
    "certificate_subject",
    "commitment_subject",
    "ocop",
    "with_account",
)
ALIASES: dict[str, list[str]] = {
    "code": ["code", "Mã đơn vị", "Mã"],
    "parent_code": ["parent_code", "Mã đơn vị cấp trên"],
    "level": ["level", "Cấp"],
    "name": ["name", "Đơn vị", "Tên đơn vị"],
    "establishments": [
        "total_establishments",
        "Tổng số cơ sở",
        "Số cơ sở thuộc phạm vi quản lý",
        "Tổng số cơ sở thuộc phạm vi quản lý",
    ],
    "certificate_subject": [
        "certificate_subject",
        "Thuộc diện cấp GCN",
        "Cơ sở thuộc diện cấp GCN",
    ],
    "commitment_subject": [
        "commitment_subject",
        "Thuộc diện ký cam kết",
        "Cơ sở thuộc diện ký cam kết",
    ],
    "ocop": ["ocop_in_system", "Cơ sở OCOP", "Chủ thể OCOP trên hệ thống"],
    "with_account": ["with_account", "Số cơ sở đã có tài khoản", "Đã cấp tài khoản"],
    "rate": ["rate_percent_as_published", "Tỷ lệ", "Tỷ lệ (%)", "rate"],
}
RATE_FORMULAS = {
    "with_account/certificate_subject": ("with_account", "certificate_subject"),
    "with_account/establishments": ("with_account", "establishments"),
}


def import_table(
    session: Session,
    data: bytes,
    file_name: str | None,
    *,
    title: str,
    as_of: date,
    actor: uuid.UUID | None,
) -> PublishedTable:
    rows = read_table(data, file_name)
    header_index, columns = find_header_row(rows, ALIASES, required=("name", *COLUMNS))
    matcher = UnitMatcher(session)
    table = PublishedTable(
        id=uuid.uuid4(),
        title=nfc(title)[:255] or "Phụ lục 01",
        as_of=as_of,
        file_name=(file_name or "")[:255] or None,
        imported_by=actor,
    )
    session.add(table)
    session.flush()
    seen = 0
    for line, row in enumerate(rows[header_index + 1 :], start=header_index + 2):

        def text(name: str, row: list[object] = row) -> str | None:
            index = columns.get(name)
            if index is None or index >= len(row) or row[index] is None:
                return None
            return nfc(str(row[index]))

        name = text("name")
        if not name:
            continue
        values: dict[str, Any] = {
            column: cell_int(row, columns[column], line=line, column=column) for column in COLUMNS
        }
        rate_text = text("rate")
        if rate_text:
            try:
                values["rate"] = float(rate_text.replace("%", "").replace(",", "."))
            except ValueError as exc:
                raise InvalidInput(
                    f"Dòng {line}: tỷ lệ không phải là số.",
                    f"Row {line}: the rate is not a number.",
                    code="bad_cell",
                    extra={"row": line, "column": "rate"},
                ) from exc
        code = text("code")
        unit = matcher.match(code, name)
        session.add(
            PublishedRow(
                table_id=table.id,
                row_number=line,
                code=(code or "")[:32],
                parent_code=(text("parent_code") or None),
                level=text("level"),
                name=name[:255],
                unit_id=unit.id if unit else None,
                values=values,
            )
        )
        seen += 1
    if not seen:
        raise InvalidInput(
            "Bảng không có dòng số liệu nào.", "The table has no data rows.", code="file_empty"
        )
    session.flush()
    return table


def get_table(session: Session, table_id: uuid.UUID) -> PublishedTable:
    table = session.get(PublishedTable, table_id)
    if table is None:
        raise NotFound()
    return table


def table_rows(session: Session, table_id: uuid.UUID) -> list[PublishedRow]:
    return list(
        session.scalars(
            select(PublishedRow)
            .where(PublishedRow.table_id == table_id)
            .order_by(PublishedRow.row_number)
        )
    )


def compare(session: Session, table_id: uuid.UUID, figures: dict[str, Any]) -> dict[str, Any]:
    """Cell-by-cell differences between a published table and computed figures (a compiled
    report's, or computed for the table's date)."""
    table = get_table(session, table_id)
    rows = table_rows(session, table_id)
    computed = {unit["id"]: unit["total"] for unit in figures["units"]}
    children: dict[str, list[PublishedRow]] = {}
    for row in rows:
        if row.parent_code:
            children.setdefault(row.parent_code, []).append(row)

    cells: list[dict[str, Any]] = []
    differences = 0
    internal = 0
    for row in rows:
        mine = computed.get(str(row.unit_id)) if row.unit_id else None
        if row.unit_id is None and _is_grand_total(row):
            tops = [r for r in rows if not r.parent_code and r is not row]
            mine = _sum_units(computed, [r.unit_id for r in tops if r.unit_id])
        kids = children.get(row.code, [])
        for column in COLUMNS:
            published = row.values.get(column)
            system = mine.get(column) if mine is not None else None
            children_sum = None
            if kids:
                children_sum = sum(int(k.values.get(column) or 0) for k in kids)
            elif row.unit_id is None and _is_grand_total(row):
                tops = [r for r in rows if not r.parent_code and r is not row]
                children_sum = sum(int(r.values.get(column) or 0) for r in tops)
            # A blank published cell means none (the appendix leaves zeros blank).
            agrees = system is not None and int(published or 0) == system
            consistent = children_sum is None or published is None or children_sum == published
            if not agrees and system is not None:
                differences += 1
            if not consistent:
                internal += 1
            cells.append(
                {
                    "row": row.row_number,
                    "code": row.code,
                    "name": row.name,
                    "unit_id": str(row.unit_id) if row.unit_id else None,
                    "column": column,
                    "published": published,
                    "computed": system,
                    "children_sum": children_sum,
                    "matches_computed": agrees if system is not None else None,
                    "consistent": consistent,
                }
            )
        published_rate = row.values.get("rate")
        if published_rate is not None:
            formulas = [
                name
                for name, (num, den) in RATE_FORMULAS.items()
                if (value := rate(int(row.values.get(num) or 0), int(row.values.get(den) or 0)))
                is not None
                and abs(value - float(published_rate)) < 0.006
            ]
            computed_rates = (
                {name: rate(mine[num], mine[den]) for name, (num, den) in RATE_FORMULAS.items()}
                if mine is not None
                else None
            )
            cells.append(
                {
                    "row": row.row_number,
                    "code": row.code,
                    "name": row.name,
                    "unit_id": str(row.unit_id) if row.unit_id else None,
                    "column": "rate",
                    "published": published_rate,
                    "published_formula": formulas[0] if formulas else None,
                    "computed": computed_rates,
                }
            )
    return {
        "table": {
            "id": str(table.id),
            "title": table.title,
            "as_of": table.as_of.isoformat(),
            "file_name": table.file_name,
        },
        "as_of": figures.get("as_of"),
        "cells": cells,
        "differences": differences,
        "inconsistent_cells": internal,
        "rate_formulas": sorted(
            {c.get("published_formula") or "none" for c in cells if c["column"] == "rate"}
        ),
    }


def _is_grand_total(row: PublishedRow) -> bool:
    return not row.parent_code and (row.level or "").lower() == "total"


def _sum_units(computed: dict[str, dict[str, int]], unit_ids: list[uuid.UUID]) -> dict[str, int]:
    total = dict.fromkeys(COLUMNS, 0)
    for unit_id in unit_ids:
        values = computed.get(str(unit_id)) or {}
        for column in COLUMNS:
            total[column] += int(values.get(column) or 0)
    return total
