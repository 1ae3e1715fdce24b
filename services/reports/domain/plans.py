"""The plan of accounts to grant per unit and month (Appendix 02), imported from Excel or CSV
in the appendix's layout (a unit column, one column per month, an optional total) or edited.

Only units without sub-units carry entries; a row for a unit with sub-units, and the grand
total row, are subtotals: checked against the sum of their children and reported where they
differ, never stored (the plan's roll-ups are computed like every other figure). An import
replaces the year's entries for the units it names, in one transaction; a dry run checks
everything and stores nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.reports.domain import indicators
from services.reports.domain.indicators import load_tree
from services.reports.domain.tables import UnitMatcher, cell_int, column_index, read_table
from services.reports.models import PlanEntry
from shared.errors import InvalidInput
from shared.excel.reading import header_key
from shared.text import fold

ALIASES: dict[str, list[str]] = {
    "code": ["Mã đơn vị", "code", "Mã", "ma don vi"],
    "name": ["Đơn vị", "name", "Tên đơn vị", "Cơ quan", "Đơn vị thực hiện"],
    "total": ["Tổng", "total", "Tổng cộng", "Tổng số", "Cộng"],
}
_MONTH = re.compile(r"^(?:m|t|thang|month)?\s*0?(\d{1,2})$")


def _month_of(cell: object) -> int | None:
    if cell is None:
        return None
    match = _MONTH.match(header_key(cell).replace(" ", ""))
    if match and 1 <= int(match.group(1)) <= 12:
        return int(match.group(1))
    return None


def _header(rows: list[list[object]]) -> tuple[int, dict[str, int], dict[int, int]]:
    """The first row (of the first 20) with a unit column and month columns."""
    for index, row in enumerate(rows[:20]):
        columns = column_index(row, ALIASES)
        months = {
            column: month
            for column, cell in enumerate(row)
            if (month := _month_of(cell)) is not None
        }
        if ("code" in columns or "name" in columns) and months:
            return index, columns, months
    raise InvalidInput(
        "Không tìm thấy dòng tiêu đề có cột đơn vị (Mã đơn vị hoặc Đơn vị) và các cột tháng "
        "(ví dụ: m04, Tháng 4, T4).",
        "No header row with a unit column (code or name) and month columns (e.g. m04, "
        "Tháng 4, T4).",
        code="file_missing_columns",
    )


@dataclass
class PlanImport:
    year: int
    stored: int = 0
    units: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    subtotal_differences: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "dry_run": self.dry_run,
            "stored": self.stored,
            "units": self.units,
            "rows": self.rows,
            "subtotal_differences": self.subtotal_differences,
            "unmatched": self.unmatched,
        }


def import_plan(
    session: Session,
    data: bytes,
    file_name: str | None,
    *,
    year: int,
    actor: uuid.UUID | None,
    dry_run: bool = False,
    allowed_units: set[str] | None = None,
) -> PlanImport:
    if not 2000 <= year <= 2100:
        raise InvalidInput.field("year", "Năm không hợp lệ.", "Invalid year.")
    rows = read_table(data, file_name)
    header_index, columns, months = _header(rows)
    matcher = UnitMatcher(session)
    tree = load_tree(session)
    result = PlanImport(year=year, dry_run=dry_run)
    leaf_values: dict[str, dict[int, int]] = {}
    subtotals: list[tuple[int, str | None, str, dict[int, int]]] = []
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        code = row[columns["code"]] if "code" in columns and columns["code"] < len(row) else None
        name = row[columns["name"]] if "name" in columns and columns["name"] < len(row) else None
        if code is None and name is None:
            continue
        values: dict[int, int] = {}
        for index, month in months.items():
            number = cell_int(row, index, line=offset, column=f"tháng {month}")
            values[month] = number or 0
        total = cell_int(row, columns.get("total"), line=offset, column="tổng")
        if total is not None and total != sum(values.values()):
            raise InvalidInput(
                f"Dòng {offset}: cột tổng ({total}) khác tổng các tháng ({sum(values.values())}).",
                f"Row {offset}: the total ({total}) differs from the sum of the months "
                f"({sum(values.values())}).",
                code="plan_total_mismatch",
                extra={"row": offset},
            )
        unit = matcher.match(code, name)
        label = str(name or code)
        if unit is None:
            subtotals.append((offset, None, label, values))
            continue
        node = tree[str(unit.id)]
        if node.children:
            subtotals.append((offset, node.id, label, values))
            continue
        if allowed_units is not None and node.id not in allowed_units:
            raise InvalidInput(
                f"Dòng {offset}: đơn vị {label} ngoài phạm vi quản lý của bạn.",
                f"Row {offset}: unit {label} is outside your scope.",
                code="out_of_scope",
                extra={"row": offset},
            )
        if node.id in leaf_values:
            raise InvalidInput(
                f"Dòng {offset}: đơn vị {label} xuất hiện hai lần.",
                f"Row {offset}: unit {label} appears twice.",
                code="duplicate_unit",
                extra={"row": offset},
            )
        leaf_values[node.id] = values
        result.rows.append({"row": offset, "unit_id": node.id, "code": node.code, "months": values})

    def computed(unit_id: str) -> dict[int, int]:
        node = tree[unit_id]
        if not node.children:
            return leaf_values.get(unit_id, dict.fromkeys(months.values(), 0))
        sums = dict.fromkeys(months.values(), 0)
        for child in node.children:
            for month, value in computed(child.id).items():
                sums[month] = sums.get(month, 0) + value
        return sums

    grand = dict.fromkeys(months.values(), 0)
    for values in leaf_values.values():
        for month, value in values.items():
            grand[month] += value
    for line, unit_id, label, values in subtotals:
        expected = computed(unit_id) if unit_id else grand
        if unit_id is None and not _looks_like_total(label):
            result.unmatched.append({"row": line, "label": label})
            continue
        for month, value in values.items():
            if expected.get(month, 0) != value:
                result.subtotal_differences.append(
                    {
                        "row": line,
                        "label": label,
                        "unit_id": unit_id,
                        "month": month,
                        "published": value,
                        "computed": expected.get(month, 0),
                    }
                )
    if result.unmatched:
        labels = ", ".join(str(u["label"]) for u in result.unmatched[:5])
        raise InvalidInput(
            f"Không nhận ra đơn vị: {labels}. Hãy dùng mã đơn vị hoặc tên đúng như danh mục.",
            f"Unknown units: {labels}. Use the unit codes or names as in the unit list.",
            code="unknown_units",
            extra={"unmatched": result.unmatched},
        )
    result.units = len(leaf_values)
    if dry_run:
        return result
    if leaf_values:
        session.execute(
            delete(PlanEntry).where(
                PlanEntry.year == year,
                PlanEntry.unit_id.in_([uuid.UUID(u) for u in leaf_values]),
            )
        )
    for unit_id, values in leaf_values.items():
        for month, accounts in values.items():
            session.add(
                PlanEntry(
                    unit_id=uuid.UUID(unit_id),
                    year=year,
                    month=month,
                    accounts=accounts,
                    updated_by=actor,
                )
            )
            result.stored += 1
    session.flush()
    return result


def _looks_like_total(label: str) -> bool:
    folded = fold(label)
    return folded.startswith("tong") or folded in {"total", "cong"}


def entries(session: Session, year: int, unit_ids: set[str] | None = None) -> list[dict[str, Any]]:
    stmt = (
        select(PlanEntry).where(PlanEntry.year == year).order_by(PlanEntry.unit_id, PlanEntry.month)
    )
    out = []
    for entry in session.scalars(stmt):
        if unit_ids is not None and str(entry.unit_id) not in unit_ids:
            continue
        out.append(
            {
                "unit_id": entry.unit_id,
                "year": entry.year,
                "month": entry.month,
                "accounts": entry.accounts,
                "updated_at": entry.updated_at,
            }
        )
    return out


def set_entry(
    session: Session,
    unit_id: uuid.UUID,
    year: int,
    month: int,
    accounts: int,
    *,
    actor: uuid.UUID | None,
) -> PlanEntry:
    tree = load_tree(session)
    node = tree.get(str(unit_id))
    if node is None:
        raise InvalidInput.field("unit_id", "Không có đơn vị này.", "No such unit.")
    if node.children:
        raise InvalidInput.field(
            "unit_id",
            "Kế hoạch chỉ nhập cho đơn vị không có đơn vị con; số của đơn vị cha là tổng.",
            "Plans are set for units without sub-units; a parent's plan is their sum.",
        )
    if not 1 <= month <= 12:
        raise InvalidInput.field("month", "Tháng phải từ 1 đến 12.", "Month must be 1 to 12.")
    if not 0 <= accounts <= 1_000_000:
        raise InvalidInput.field("accounts", "Số tài khoản không hợp lệ.", "Invalid number.")
    entry = session.scalar(
        select(PlanEntry)
        .where(PlanEntry.unit_id == unit_id, PlanEntry.year == year, PlanEntry.month == month)
        .with_for_update()
    )
    if entry is None:
        entry = PlanEntry(unit_id=unit_id, year=year, month=month, accounts=accounts)
        session.add(entry)
    entry.accounts = accounts
    entry.updated_by = actor
    session.flush()
    return entry


@dataclass(frozen=True)
class PlanRow:
    """One unit of a plan table: its planned accounts per month, a parent the sum of its
    children (Appendix 02's subtotals, computed — never stored)."""

    node: indicators.Node
    depth: int
    months: dict[int, int]

    @property
    def leaf(self) -> bool:
        return not self.node.children


def plan_table(
    session: Session, year: int, unit_id: uuid.UUID | None
) -> tuple[list[PlanRow], dict[int, int]]:
    """The year's plan for a unit's sub-tree (the province for None), in tree order, and the
    grand total per month. The API and the pages both show this."""
    nodes = indicators.load_tree(session)
    tops = indicators.roots(nodes) if unit_id is None else [nodes[str(unit_id)]]
    own: dict[str, dict[int, int]] = {}
    for entry in entries(session, year):
        own.setdefault(str(entry["unit_id"]), {})[entry["month"]] = entry["accounts"]
    totals: dict[str, dict[int, int]] = {}

    def add_up(node: indicators.Node) -> dict[int, int]:
        months = dict(own.get(node.id, {}))
        for child in node.children:
            for month, value in add_up(child).items():
                months[month] = months.get(month, 0) + value
        totals[node.id] = months
        return months

    grand: dict[int, int] = {}
    rows: list[PlanRow] = []
    for top in tops:
        for month, value in add_up(top).items():
            grand[month] = grand.get(month, 0) + value
        rows += [PlanRow(node, depth, totals[node.id]) for node, depth in indicators.walk(top)]
    return rows, grand
