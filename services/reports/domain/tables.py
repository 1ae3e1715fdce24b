"""Reading the appendix tables people send: .xlsx (checked by shared/excel before parsing) or
UTF-8 CSV (the form the published appendices are kept in `../shared/data/`), and matching
their rows to units by code, else by name without diacritics."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reports.models import DirectoryUnit
from shared.errors import InvalidInput
from shared.excel.reading import CellError, header_key, read_rows, to_int
from shared.text import fold

MAX_CSV_BYTES = 5 * 1024 * 1024


def read_table(data: bytes, file_name: str | None) -> list[list[object]]:
    """Rows of the first sheet of an .xlsx, or of a CSV file."""
    name = (file_name or "").lower()
    if data[:2] == b"PK" or name.endswith(".xlsx"):
        return read_rows(data)
    if not (name.endswith(".csv") or name.endswith(".txt") or not name):
        raise InvalidInput(
            "Chỉ nhận tệp .xlsx hoặc .csv.",
            "Only .xlsx or .csv files are accepted.",
            code="file_not_table",
        )
    if len(data) > MAX_CSV_BYTES:
        raise InvalidInput(
            "Tệp CSV quá lớn (tối đa 5 MB).",
            "The CSV file is too large (at most 5 MB).",
            code="file_too_large",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "Tệp CSV phải mã hoá UTF-8. Hãy lưu lại với mã hoá UTF-8.",
            "The CSV file must be UTF-8. Save it again as UTF-8.",
            code="file_not_utf8",
        ) from exc
    if "\x00" in text:
        raise InvalidInput(
            "Tệp không phải văn bản CSV.", "The file is not CSV text.", code="file_not_table"
        )
    rows: list[list[object]] = [
        [cell.strip() or None for cell in row] for row in csv.reader(io.StringIO(text))
    ]
    rows = [row for row in rows if any(cell is not None for cell in row)]
    if not rows:
        raise InvalidInput(
            "Tệp không có dữ liệu.", "The file has no data.", code="file_empty_sheet"
        )
    return rows


def column_index(header: Sequence[object], aliases: Mapping[str, Sequence[str]]) -> dict[str, int]:
    keys = {header_key(text): field for field, texts in aliases.items() for text in texts}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        if cell is None:
            continue
        field = keys.get(header_key(cell))
        if field is not None and field not in found:
            found[field] = index
    return found


def find_header_row(
    rows: Sequence[Sequence[object]], aliases: Mapping[str, Sequence[str]], required: Sequence[str]
) -> tuple[int, dict[str, int]]:
    """The first row (of the first 20) naming every required column."""
    for index, row in enumerate(rows[:20]):
        columns = column_index(row, aliases)
        if all(name in columns for name in required):
            return index, columns
    names = ", ".join(aliases[name][0] for name in required)
    raise InvalidInput(
        f"Không tìm thấy dòng tiêu đề có các cột: {names}.",
        f"No header row with the columns: {names}.",
        code="file_missing_columns",
    )


def cell_int(row: Sequence[object], index: int | None, *, line: int, column: str) -> int | None:
    if index is None or index >= len(row):
        return None
    value = row[index]
    if isinstance(value, str):
        value = value.replace(".", "").replace(",", "").strip() or None
    try:
        number = to_int(value)
    except CellError as exc:
        raise InvalidInput(
            f"Dòng {line}, cột {column}: {exc.message['vi']}",
            f"Row {line}, column {column}: {exc.message['en']}",
            code="bad_cell",
            extra={"row": line, "column": column},
        ) from exc
    if number is not None and number < 0:
        raise InvalidInput(
            f"Dòng {line}, cột {column}: không được âm.",
            f"Row {line}, column {column}: must not be negative.",
            code="bad_cell",
            extra={"row": line, "column": column},
        )
    return number


class UnitMatcher:
    """Find a unit by its code, else by its name without diacritics or case."""

    def __init__(self, session: Session) -> None:
        units = list(session.scalars(select(DirectoryUnit)))
        self.by_code = {u.code.upper(): u for u in units}
        self.by_name: dict[str, list[DirectoryUnit]] = {}
        for unit in units:
            self.by_name.setdefault(fold(unit.name), []).append(unit)

    def match(self, code: object, name: object) -> DirectoryUnit | None:
        if code is not None:
            unit = self.by_code.get(str(code).strip().upper())
            if unit is not None:
                return unit
        if name is not None:
            candidates = self.by_name.get(fold(str(name)), [])
            if len(candidates) == 1:
                return candidates[0]
        return None
