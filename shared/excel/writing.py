"""Writing exports: XLSX sheets and CSV, where no cell ever becomes a formula.

RELIABILITY: a cell starting with =, +, -, @ comes out of every XLSX/CSV export as text. In
XLSX every text is written with `write_string` (never the guessing `write`); in CSV such text
gets a leading apostrophe (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, BinaryIO, cast
from zoneinfo import ZoneInfo

import xlsxwriter

# Exports are read by officers in Việt Nam; stored datetimes are UTC.
LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
_MAX_ROWS = 1_048_576  # Excel's limit; xlsxwriter silently drops rows beyond it
_EXACT_INT = 2**53  # larger integers lose digits as Excel numbers (IEEE doubles)
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class SheetSpec:
    name: str
    headers: Sequence[str]
    rows: Iterable[Sequence[object]]
    column_widths: Sequence[int] | None = None
    title: str | None = None


def write_xlsx(path_or_buffer: str | Path | IO[bytes], sheets: Sequence[SheetSpec]) -> None:
    """Write `sheets` as one workbook; rows may be a generator (memory stays flat)."""
    target = str(path_or_buffer) if isinstance(path_or_buffer, Path) else path_or_buffer
    workbook = xlsxwriter.Workbook(
        target,
        {
            # Rows are streamed to temporary files, so a 100,000-row export stays small in memory.
            "constant_memory": True,
            # Only explicit write_* calls are used; these keep any accidental `write` honest too.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    formats = {
        "title": workbook.add_format({"bold": True, "font_size": 13, "align": "center"}),
        "header": workbook.add_format(
            {"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1}
        ),
        "date": workbook.add_format({"num_format": "dd/mm/yyyy"}),
        "datetime": workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"}),
    }
    used: set[str] = set()
    try:
        for spec in sheets:
            _write_sheet(workbook, spec, _sheet_name(spec.name, used), formats)
    finally:
        workbook.close()


def _write_sheet(workbook: Any, spec: SheetSpec, name: str, formats: dict[str, Any]) -> None:
    worksheet = workbook.add_worksheet(name)
    width = max(len(spec.headers), 1)
    widths = spec.column_widths or [min(max(len(h) + 2, 10), 40) for h in spec.headers]
    for column, column_width in enumerate(widths):
        worksheet.set_column(column, column, column_width)
    header_row = 0
    if spec.title is not None:
        header_row = 1
        if width > 1:
            worksheet.merge_range(0, 0, 0, width - 1, spec.title, formats["title"])
        else:  # xlsxwriter refuses (and warns about) a one-cell merge
            worksheet.write_string(0, 0, spec.title, formats["title"])
    for column, header in enumerate(spec.headers):
        worksheet.write_string(header_row, column, str(header), formats["header"])
    row_index = header_row
    for row in spec.rows:
        row_index += 1
        if row_index >= _MAX_ROWS:
            raise ValueError(f"sheet {name!r} has more rows than Excel allows ({_MAX_ROWS})")
        for column, value in enumerate(row):
            _write_cell(worksheet, row_index, column, value, formats)
    worksheet.freeze_panes(header_row + 1, 0)
    worksheet.autofilter(header_row, 0, row_index, width - 1)


def _write_cell(worksheet: Any, row: int, column: int, value: object, fmt: dict[str, Any]) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        worksheet.write_string(row, column, "Có" if value else "Không")
    elif isinstance(value, int) and abs(value) < _EXACT_INT:
        worksheet.write_number(row, column, value)
    elif isinstance(value, float | Decimal) and math.isfinite(value):
        worksheet.write_number(row, column, float(value))
    elif isinstance(value, dt.datetime):
        worksheet.write_datetime(row, column, _local_naive(value), fmt["datetime"])
    elif isinstance(value, dt.date):
        worksheet.write_datetime(row, column, value, fmt["date"])
    else:
        worksheet.write_string(row, column, str(value))


def _local_naive(value: dt.datetime) -> dt.datetime:
    # Excel has no time zones: show aware datetimes as Việt Nam wall-clock time.
    if value.tzinfo is None:
        return value
    return value.astimezone(LOCAL_TZ).replace(tzinfo=None)


def _sheet_name(name: str, used: set[str]) -> str:
    # Excel's rules: ≤ 31 characters, none of []:*?/\, unique regardless of case.
    base = _BAD_SHEET_CHARS.sub("-", name).strip("'").strip() or "Sheet"
    candidate, counter = base[:31], 1
    while candidate.lower() in used:
        counter += 1
        suffix = f" ({counter})"
        candidate = base[: 31 - len(suffix)] + suffix
    used.add(candidate.lower())
    return candidate


def csv_safe(text: str) -> str:
    """Text that a spreadsheet opening the CSV shows as text, never runs as a formula."""
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def write_csv(
    buffer: IO[bytes] | IO[str], headers: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """CSV in UTF-8 with a BOM (without it Excel reads Vietnamese as mojibake).

    A text buffer must be opened with newline="" (the csv module's rule)."""
    if isinstance(buffer, io.TextIOBase):
        _write_csv_text(buffer, headers, rows)
        return
    wrapper = io.TextIOWrapper(cast(BinaryIO, buffer), encoding="utf-8", newline="")
    try:
        _write_csv_text(wrapper, headers, rows)
        wrapper.flush()
    finally:
        wrapper.detach()  # leave the caller's buffer open


def _write_csv_text(out: IO[str], headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow([csv_safe(str(h)) for h in headers])
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal) and math.isfinite(value):
        return format(Decimal(repr(value)) if isinstance(value, float) else value, "f")
    if isinstance(value, dt.datetime):
        return _local_naive(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return csv_safe(str(value))
