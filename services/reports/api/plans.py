"""The plan of accounts to grant (Appendix 02): read with roll-ups, imported from Excel/CSV,
corrected cell by cell."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, request, send_file
from flask_smorest import Blueprint

from services.reports.api.common import check_year, settings
from services.reports.domain import indicators, plans, scope
from services.reports.schemas import (
    PlanEntryIn,
    PlanEntryOut,
    PlanImportForm,
    PlanOut,
    PlanQuery,
)
from shared.auth import authenticated
from shared.db import request_session
from shared.errors import InvalidInput
from shared.excel.writing import SheetSpec, write_xlsx

PREFIX = "plans"
blp = Blueprint("plans", __name__, description="Account plans (kế hoạch cấp tài khoản)")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year(year: int) -> int:
    return check_year(year)


@blp.get("/<int:year>")
@blp.arguments(PlanQuery, location="query")
@blp.response(200, PlanOut)
def get_plan(args: dict[str, Any], year: int) -> dict[str, Any]:
    """The year's plan for a unit's sub-tree (default: the officer's own unit; the province
    for the administrator): every unit with its planned accounts per month, parents the sums
    of their children."""
    principal = authenticated()
    session = request_session()
    _year(year)
    unit_id = args["unit_id"] or scope.default_unit(session, principal)
    if unit_id is not None:
        scope.require_unit(session, principal, unit_id, settings())
    table, grand = plans.plan_table(session, year, unit_id)
    rows = [
        {
            "id": row.node.id,
            "code": row.node.code,
            "name": row.node.name,
            "parent_id": row.node.parent_id,
            "depth": row.depth,
            "leaf": row.leaf,
            "months": {f"{m:02d}": v for m, v in sorted(row.months.items())},
            "total": sum(row.months.values()),
        }
        for row in table
    ]
    return {
        "year": year,
        "units": rows,
        "months": {f"{m:02d}": v for m, v in sorted(grand.items())},
        "total": sum(grand.values()),
    }


@blp.get("/<int:year>/template.xlsx")
@blp.response(200, content_type=XLSX)
def plan_template(year: int) -> Response:
    """An Appendix 02 sheet to fill in: every unit in the caller's scope, one column per month."""
    principal = authenticated()
    session = request_session()
    _year(year)
    allowed = scope.unit_ids(session, principal, settings())
    nodes = indicators.load_tree(session)
    rows = []
    for top in indicators.roots(nodes):
        for node, depth in indicators.walk(top):
            if allowed is None or node.id in allowed:
                rows.append([node.code, "    " * depth + node.name, *([None] * 12), None])
    buffer = io.BytesIO()
    write_xlsx(
        buffer,
        [
            SheetSpec(
                f"Kế hoạch {year}",
                ["Mã đơn vị", "Đơn vị", *[f"Tháng {m}" for m in range(1, 13)], "Tổng"],
                rows,
                column_widths=[14, 48],
                title=f"Phụ lục 02 — Kế hoạch cấp tài khoản năm {year} (chỉ nhập cho đơn vị "
                "không có đơn vị con; dòng đơn vị cha là tổng)",
            )
        ],
    )
    buffer.seek(0)
    return send_file(
        buffer, mimetype=XLSX, as_attachment=True, download_name=f"ke-hoach-{year}.xlsx"
    )


@blp.post("/<int:year>/import")
@blp.arguments(PlanImportForm, location="form")
@blp.response(200)
@blp.doc(
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "dry_run": {"type": "boolean"},
                    },
                }
            }
        }
    }
)
def import_plan(form: dict[str, Any], year: int) -> dict[str, Any]:
    """Import the year's plan from an .xlsx or .csv in Appendix 02's layout (a unit code or
    name column, month columns such as `m04`, `Tháng 4` or `T4`, an optional total). Units
    without sub-units are stored; subtotal and total rows are checked against the sums and
    their differences listed. All or nothing; `dry_run` stores nothing. An agency may import
    only units in its scope."""
    principal = authenticated()
    session = request_session()
    _year(year)
    allowed = scope.unit_ids(session, principal, settings())
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput.field(
            "file", "Hãy chọn tệp .xlsx hoặc .csv.", "Choose an .xlsx or .csv file."
        )
    result = plans.import_plan(
        session,
        upload.read(),
        upload.filename,
        year=year,
        actor=principal.account_id,
        dry_run=form["dry_run"],
        allowed_units=allowed,
    )
    return result.as_dict()


@blp.put("/<int:year>/<uuid:unit_id>/<int:month>")
@blp.arguments(PlanEntryIn)
@blp.response(200, PlanEntryOut)
def put_entry(body: dict[str, Any], year: int, unit_id: uuid.UUID, month: int) -> Any:
    """Set one unit's planned accounts for one month (units without sub-units only)."""
    principal = authenticated()
    session = request_session()
    _year(year)
    scope.require_unit(session, principal, unit_id, settings())
    return plans.set_entry(
        session, unit_id, year, month, body["accounts"], actor=principal.account_id
    )
