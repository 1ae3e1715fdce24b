"""Safe Excel for every service: refuse hostile uploads, read rows, find the header row, convert
cells, and write XLSX/CSV exports in which no cell can become a formula.

Split by concern: `safety` (inspect an upload before parsing), `reading` (rows, header,
converters), `writing` (XLSX and CSV).
"""

from shared.excel.reading import (
    CellError,
    HeaderMatch,
    find_header,
    header_key,
    read_rows,
    to_bool,
    to_date,
    to_int,
    to_phone,
    to_text,
)
from shared.excel.safety import PayloadTooLarge, inspect_upload
from shared.excel.writing import SheetSpec, csv_safe, write_csv, write_xlsx

__all__ = [
    "CellError",
    "HeaderMatch",
    "PayloadTooLarge",
    "SheetSpec",
    "csv_safe",
    "find_header",
    "header_key",
    "inspect_upload",
    "read_rows",
    "to_bool",
    "to_date",
    "to_int",
    "to_phone",
    "to_text",
    "write_csv",
    "write_xlsx",
]
