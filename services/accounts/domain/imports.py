"""Importing an agency's Excel list of establishments (a job on the `imports` queue).

Two phases, so that a 30,000-row file stays fast and a killed worker leaves nothing half done:

1. read and validate every row (no write lock held; progress is reported as it goes);
2. in ONE transaction: load the establishments with the file's registration numbers, compare,
   insert the new ones and update the changed ones with executemany, write every row's outcome
   (`import_rows`). Either all of it commits or none of it does; a retry redoes it, and because
   rows are matched by business registration number, the second run finds them unchanged.

A dry run stops after computing the outcomes and writes only the report.
Rows outside the uploader's units are rejected, as are rows repeating a registration number
already seen earlier in the same file.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from services.accounts.domain import layout
from services.accounts.domain.establishments import FIELDS, codes, search_text
from services.accounts.models import (
    Account,
    Establishment,
    EstablishmentAssignment,
    ImportRow,
    Job,
    Unit,
)
from shared.auth import Principal
from shared.bulk import insert_rows, rows_by_key
from shared.db import utcnow
from shared.excel import (
    CellError,
    find_header,
    read_rows,
    to_bool,
    to_date,
    to_int,
    to_phone,
    to_text,
)
from shared.jobs import JobContext
from shared.text import fold

ESTABLISHMENTS = cast(Table, Establishment.__table__)
ASSIGNMENTS = cast(Table, EstablishmentAssignment.__table__)
IMPORT_ROWS = cast(Table, ImportRow.__table__)
PROGRESS_EVERY = 2000
# What a list sets; an establishment's status (active/closed) is not in agencies' lists.
IMPORTED = tuple(f for f in FIELDS if f != "status")
_TEXT_LIMITS = {
    "name": 255,
    "business_registration_no": 32,
    "tax_code": 20,
    "address": 500,
    "commune": 255,
    "representative": 255,
    "email": 254,
    "certificate_no": 64,
    "certificate_issuer": 255,
    "commitment_receiving_unit": 255,
}
_DATES = (
    "business_registration_date",
    "certificate_issued_on",
    "certificate_expires_on",
    "commitment_signed_on",
)


@dataclass
class RowResult:
    row_number: int
    outcome: str = "rejected"  # created | updated | unchanged | rejected
    values: dict[str, Any] = field(default_factory=dict)
    unit_id: uuid.UUID | None = None
    messages: list[dict[str, str]] = field(default_factory=list)
    establishment_id: uuid.UUID | None = None
    changes: dict[str, Any] | None = None

    def error(self, column: str, vi: str, en: str) -> None:
        self.messages.append({"field": column, "vi": vi, "en": en})


@dataclass(frozen=True)
class UnitIndex:
    by_code: dict[str, tuple[uuid.UUID, str]]  # folded code → (id, path)
    by_name: dict[str, tuple[uuid.UUID, str]]  # folded name → (id, path)
    scope_path: str | None  # None: the whole province

    @classmethod
    def load(cls, session: Session, principal: Principal) -> UnitIndex:
        rows = session.execute(
            select(Unit.id, Unit.code, Unit.name, Unit.path).where(Unit.status == "active")
        ).all()
        scope_path = None
        if not principal.is_admin:
            scope_path = session.scalar(select(Unit.path).where(Unit.id == principal.unit_id))
            scope_path = scope_path or "//no-scope//"
        return cls(
            {fold(r.code): (r.id, r.path) for r in rows},
            {fold(r.name): (r.id, r.path) for r in rows},
            scope_path,
        )

    def resolve(self, text: str) -> tuple[uuid.UUID, str] | None:
        key = fold(text)
        return (
            self.by_code.get(key)
            or self.by_code.get(key.replace(" ", "-"))
            or self.by_name.get(key)
        )


def principal_of(session: Session, account_id: uuid.UUID | None) -> Principal:
    account = session.get(Account, account_id) if account_id else None
    if account is None or account.status != "active" or account.role not in {"admin", "agency"}:
        from shared.errors import Forbidden

        raise Forbidden(
            "Tài khoản tải tệp lên không còn quyền nhập dữ liệu.",
            "The uploading account may no longer import.",
            code="importer_inactive",
        )
    return Principal(
        role=account.role, username=account.username, account_id=account.id, unit_id=account.unit_id
    )


# --- phase 1: read and validate ----------------------------------------------------------------


def parse(
    data: bytes, units: UnitIndex, progress: Callable[[int, int], None] | None = None
) -> tuple[list[RowResult], int]:
    """Every data row of the file, validated. Returns the results and the header's row."""
    rows = read_rows(data)
    header = find_header(rows, layout.aliases(), required=layout.REQUIRED)
    body = rows[header.row_index + 1 :]
    results: list[RowResult] = []
    seen: dict[str, int] = {}
    for offset, cells in enumerate(body):
        if not any(v not in (None, "") for v in cells):
            continue
        row_number = header.row_index + 2 + offset
        results.append(_validate(cells, header.columns, row_number, units, seen))
        if progress and len(results) % PROGRESS_EVERY == 0:
            progress(offset + 1, len(body))
    if progress:
        progress(len(body), len(body))
    return results, header.row_index


def _cell(cells: Sequence[Any], columns: dict[str, int], key: str) -> Any:
    index = columns.get(key)
    return cells[index] if index is not None and index < len(cells) else None


def _validate(
    cells: Sequence[Any],
    columns: dict[str, int],
    row_number: int,
    units: UnitIndex,
    seen: dict[str, int],
) -> RowResult:
    result = RowResult(row_number)
    values: dict[str, Any] = {}
    for key, limit in _TEXT_LIMITS.items():
        try:
            text = to_text(_cell(cells, columns, key))
        except CellError as exc:
            result.error(key, exc.message["vi"], exc.message["en"])
            continue
        if text is not None and len(text) > limit:
            result.error(key, f"Dài quá {limit} ký tự.", f"Longer than {limit} characters.")
        values[key] = text
    for key in _DATES:
        try:
            values[key] = to_date(_cell(cells, columns, key))
        except CellError as exc:
            result.error(key, exc.message["vi"], exc.message["en"])
    try:
        values["phone"] = to_phone(_cell(cells, columns, "phone"))
    except CellError as exc:
        result.error("phone", exc.message["vi"], exc.message["en"])
    try:
        ocop = to_bool(_cell(cells, columns, "ocop"))
        stars = to_int(_cell(cells, columns, "ocop_stars"))
        if stars is not None and not 3 <= stars <= 5:
            result.error("ocop_stars", "Số sao OCOP phải từ 3 đến 5.", "OCOP stars must be 3 to 5.")
        values["ocop"] = bool(ocop) or stars is not None
        values["ocop_stars"] = stars if stars is not None and 3 <= stars <= 5 else None
    except CellError as exc:
        result.error("ocop", exc.message["vi"], exc.message["en"])
    for key, parse_codes in (("activities", layout.activities), ("sectors", layout.sectors)):
        found, unknown = parse_codes(to_text(_cell(cells, columns, key)))
        if unknown:
            result.error(
                key,
                f"Không hiểu giá trị: {', '.join(unknown)}.",
                f"Unknown values: {', '.join(unknown)}.",
            )
        values[key] = codes(found)
    try:
        status = layout.food_safety_status(to_text(_cell(cells, columns, "food_safety_status")))
    except ValueError:
        result.error(
            "food_safety_status",
            "Diện quản lý phải là 'Cấp GCN ATTP' hoặc 'Ký cam kết'.",
            "Status must be 'Cấp GCN ATTP' (certificate) or 'Ký cam kết' (commitment).",
        )
        status = None
    if status is None:
        status = (
            "certificate"
            if values.get("certificate_no")
            else ("commitment" if values.get("commitment_signed_on") else "none")
        )
    values["food_safety_status"] = status
    issued, expires = values.get("certificate_issued_on"), values.get("certificate_expires_on")
    if isinstance(issued, date) and isinstance(expires, date) and expires < issued:
        result.error(
            "certificate_expires_on",
            "Ngày hết hạn phải sau ngày cấp.",
            "The expiry date must follow the issue date.",
        )
    if not values.get("name"):
        result.error("name", "Thiếu tên cơ sở.", "The name is missing.")
    number = values.get("business_registration_no")
    if not number:
        result.error(
            "business_registration_no",
            "Thiếu số GCN đăng ký kinh doanh.",
            "The business registration number is missing.",
        )
    elif number in seen:
        result.error(
            "business_registration_no",
            f"Số đăng ký trùng với dòng {seen[number]} của tệp.",
            f"Same registration number as row {seen[number]} of the file.",
        )
    else:
        seen[number] = row_number
    unit_text = to_text(_cell(cells, columns, "unit_code"))
    unit = units.resolve(unit_text) if unit_text else None
    if not unit_text:
        result.error("unit_code", "Thiếu đơn vị quản lý.", "The managing unit is missing.")
    elif unit is None:
        result.error("unit_code", f"Không có đơn vị '{unit_text}'.", f"No unit '{unit_text}'.")
    elif units.scope_path is not None and not unit[1].startswith(units.scope_path):
        result.error(
            "unit_code",
            f"Đơn vị '{unit_text}' ngoài phạm vi quản lý của bạn.",
            f"Unit '{unit_text}' is outside your scope.",
        )
    else:
        result.unit_id = unit[0]
    result.values = values
    return result


# --- phase 2: compare and apply in one transaction ---------------------------------------------


def apply(session: Session, job: Job, results: list[RowResult], *, dry_run: bool) -> dict[str, int]:
    valid = [r for r in results if not r.messages]
    existing = rows_by_key(
        session,
        ESTABLISHMENTS,
        "business_registration_no",
        (r.values["business_registration_no"] for r in valid),
    )
    now = utcnow()
    inserts, updates, assignments_open, moved = [], [], [], []
    for result in valid:
        current = existing.get(result.values["business_registration_no"])
        values = {**result.values, "unit_id": result.unit_id}
        if current is None:
            result.outcome, result.establishment_id = "created", uuid.uuid4()
            inserts.append(_row_for_insert(result.establishment_id, values, now))
            assignments_open.append(
                {
                    "establishment_id": result.establishment_id,
                    "unit_id": result.unit_id,
                    "valid_from": now,
                }
            )
            continue
        result.establishment_id = current["id"]
        changed = {
            k: [current[k], values[k]] for k in (*IMPORTED, "unit_id") if current[k] != values[k]
        }
        if not changed:
            result.outcome = "unchanged"
            continue
        result.outcome, result.changes = "updated", _jsonable(changed)
        updates.append(_row_for_update(current, values, now))
        if "unit_id" in changed:
            moved.append(current["id"])
            assignments_open.append(
                {"establishment_id": current["id"], "unit_id": result.unit_id, "valid_from": now}
            )
    if not dry_run:
        table = ESTABLISHMENTS
        insert_rows(session, table, inserts)
        if updates:
            session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values({k: bindparam(k) for k in updates[0] if k != "b_id"}),
                updates,
            )
        if moved:
            session.execute(
                update(EstablishmentAssignment)
                .where(
                    EstablishmentAssignment.establishment_id.in_(moved),
                    EstablishmentAssignment.valid_to.is_(None),
                )
                .values(valid_to=now)
            )
        insert_rows(session, ASSIGNMENTS, assignments_open)
    _write_report(session, job, results)
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for result in results:
        counts[result.outcome] += 1
    return counts


def _row_for_insert(
    establishment_id: uuid.UUID, values: dict[str, Any], now: Any
) -> dict[str, Any]:
    row = {k: values.get(k) for k in IMPORTED}
    row.update(
        id=establishment_id,
        unit_id=values["unit_id"],
        status="active",
        version=1,
        created_at=now,
        updated_at=now,
        name_folded=(folded := fold(values["name"])),
        search_text=search_text(
            None, values.get("address"), values.get("representative"), name_folded=folded
        ),
    )
    return row


def _row_for_update(current: Any, values: dict[str, Any], now: Any) -> dict[str, Any]:
    row = {k: values.get(k) for k in IMPORTED}
    row.update(
        b_id=current["id"],
        unit_id=values["unit_id"],
        version=current["version"] + 1,
        updated_at=now,
        name_folded=(folded := fold(values["name"])),
        search_text=search_text(
            None, values.get("address"), values.get("representative"), name_folded=folded
        ),
    )
    return row


def _jsonable(changes: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            return str(value)
        if isinstance(value, date):
            return value.isoformat()
        return value

    return {k: [plain(a), plain(b)] for k, (a, b) in changes.items()}


def _write_report(session: Session, job: Job, results: list[RowResult]) -> None:
    insert_rows(
        session,
        IMPORT_ROWS,
        [
            {
                "job_id": job.id,
                "row_number": r.row_number,
                "outcome": r.outcome,
                "business_registration_no": (r.values.get("business_registration_no") or "")[:32]
                or None,
                "name": (r.values.get("name") or "")[:255] or None,
                "establishment_id": r.establishment_id,
                "messages": r.messages or None,
                "changes": r.changes,
            }
            for r in results
        ],
    )


def run(context: JobContext, *, load_file: Callable[[str], bytes]) -> dict[str, Any]:
    """The job body: parse with progress, then apply (or not, for a dry run) in one go."""
    data = load_file(context.params["file"])
    with context.db.transaction() as session:
        principal = principal_of(session, context.created_by)
        units = UnitIndex.load(session, principal)
    results, header_row = parse(data, units, context.progress)
    with context.db.transaction() as session:
        job = session.get_one(Job, context.job_id)
        # A retried job starts its report again (the previous attempt's rolled back anyway).
        session.execute(IMPORT_ROWS.delete().where(ImportRow.job_id == job.id))
        counts = apply(session, job, results, dry_run=bool(context.params.get("dry_run")))
        job.counts = counts
    return {
        "header_row": header_row + 1,
        "rows": len(results),
        **counts,
        "dry_run": bool(context.params.get("dry_run")),
    }


OUTCOME_NAMES = {
    "created": "Tạo mới",
    "updated": "Cập nhật",
    "unchanged": "Không đổi",
    "rejected": "Bị từ chối",
}


def report_rows_xlsx(session: Session, job: Job, target: Any) -> None:
    """Every row's outcome with an error column (Vietnamese; English after a slash)."""
    from shared.excel import SheetSpec, write_xlsx

    def rows() -> Any:
        for row in session.scalars(
            select(ImportRow)
            .where(ImportRow.job_id == job.id)
            .order_by(ImportRow.row_number)
            .execution_options(yield_per=2000)
        ):
            errors = "; ".join(f"{m['field']}: {m['vi']} / {m['en']}" for m in row.messages or [])
            changed = ", ".join(sorted(row.changes or {}))
            yield [
                row.row_number,
                OUTCOME_NAMES[row.outcome],
                row.business_registration_no,
                row.name,
                errors or None,
                changed or None,
            ]

    write_xlsx(
        target,
        [
            SheetSpec(
                name="Kết quả nhập",
                headers=["Dòng", "Kết quả", "Số GCN ĐKKD", "Tên cơ sở", "Lỗi", "Trường thay đổi"],
                rows=rows(),
                column_widths=[8, 12, 16, 40, 70, 30],
                title=f"KẾT QUẢ NHẬP DANH SÁCH CƠ SỞ — {job.params.get('filename', '')}",
            )
        ],
    )
