"""Reading uploaded workbooks: rows of plain values, the header row, and cell converters.

The converters are pure functions so an import can report every bad cell of a file at once
(row, column, message in both languages) instead of stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import python_calamine

from shared.errors import InvalidInput, Message
from shared.excel.safety import inspect_upload
from shared.text import fold

# --- rows --------------------------------------------------------------------------------------


def read_rows(data: bytes, *, sheet: int | str = 0) -> list[list[object]]:
    """The sheet's rows from A1 on (row i of the list is sheet row i + 1); "" becomes None."""
    inspect_upload(data)
    try:
        with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
            if isinstance(sheet, str) and sheet in workbook.sheet_names:
                raw = workbook.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
            elif isinstance(sheet, int) and 0 <= sheet < len(workbook.sheet_names):
                raw = workbook.get_sheet_by_index(sheet).to_python(skip_empty_area=False)
            else:
                raise InvalidInput(
                    f"Không có trang tính {sheet!r} trong tệp. Hãy kiểm tra lại tệp hoặc dùng "
                    "tệp mẫu.",
                    f"The file has no sheet {sheet!r}. Check the file or use the template.",
                    code="file_sheet_not_found",
                )
    except python_calamine.PasswordError as exc:
        raise InvalidInput(
            "Tệp đang được bảo vệ bằng mật khẩu. Hãy gỡ mật khẩu rồi lưu lại dưới dạng .xlsx.",
            "The file is protected by a password. Remove the password and save it as .xlsx.",
            code="file_password_protected",
        ) from exc
    except python_calamine.CalamineError as exc:
        raise InvalidInput(
            "Tệp Excel bị hỏng hoặc không đọc được. Hãy mở tệp trong Excel, kiểm tra rồi lưu "
            "lại dưới dạng .xlsx.",
            "The Excel file is damaged or cannot be read. Open it in Excel, check it, and save "
            "it again as .xlsx.",
            code="file_corrupt",
        ) from exc
    rows: list[list[object]] = [[None if v == "" else v for v in row] for row in raw]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    if not rows:
        raise InvalidInput(
            "Trang tính không có dữ liệu. Hãy kiểm tra đã chọn đúng tệp và đúng trang tính.",
            "The sheet has no data. Check that you chose the right file and sheet.",
            code="file_empty_sheet",
        )
    return rows


# --- header row --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderMatch:
    row_index: int
    columns: dict[str, int]


_NOT_WORD = re.compile(r"[^0-9a-z]+")


def header_key(text: object) -> str:
    """What two header texts must share to name the same column: no case, diacritics,
    punctuation, line breaks or "(*)" markers."""
    return " ".join(_NOT_WORD.sub(" ", fold(str(text))).split())


def find_header(
    rows: Sequence[Sequence[object]],
    aliases: Mapping[str, Sequence[str]],
    *,
    required: Sequence[str],
    scan_rows: int = 30,
) -> HeaderMatch:
    """The row (among the first `scan_rows`) naming the most known columns, and where each is."""
    lookup: dict[str, str] = {}
    for field, texts in aliases.items():
        if not texts:
            raise ValueError(f"no header text for {field!r}")
        for text in texts:
            previous = lookup.setdefault(header_key(text), field)
            if previous != field:
                raise ValueError(f"header {text!r} names both {previous!r} and {field!r}")
    unknown = [field for field in required if field not in aliases]
    if unknown:
        raise ValueError(f"required fields without aliases: {unknown}")

    best: HeaderMatch | None = None
    for index, row in enumerate(rows[:scan_rows]):
        columns: dict[str, int] = {}
        for column, cell in enumerate(row):
            key = lookup.get(header_key(cell)) if cell is not None else None
            # A repeated header keeps its first (left-most) column.
            if key is not None and key not in columns:
                columns[key] = column
        if len(columns) >= 2 and (best is None or len(columns) > len(best.columns)):
            best = HeaderMatch(index, columns)

    if best is None:
        missing = list(required) or list(aliases)
    else:
        missing = [field for field in required if field not in best.columns]
    if best is None or missing:
        names = [aliases[field][0] for field in missing]
        listed = ", ".join(names)
        raise InvalidInput(
            f"Thiếu cột bắt buộc: {listed}. Hãy thêm các cột này vào dòng tiêu đề (có thể tải "
            "tệp mẫu để đối chiếu).",
            f"Required columns are missing: {listed}. Add them to the header row (download the "
            "template to compare).",
            code="file_missing_columns",
            extra={"missing": names},
        )
    return best


# --- cell converters ---------------------------------------------------------------------------


class CellError(ValueError):
    """A cell's value cannot be used; the message says why in both languages."""

    def __init__(self, vi: str, en: str) -> None:
        super().__init__(en)
        self.message = Message(vi, en)


# Same set shared/schema.py refuses: they break exports and PostgreSQL refuses NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def to_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"  # as Excel shows it
    if isinstance(value, int | float):
        text = _number_text(value)
    elif isinstance(value, dt.datetime):
        text = value.strftime("%d/%m/%Y" if value.time() == dt.time() else "%d/%m/%Y %H:%M:%S")
    elif isinstance(value, dt.date):
        text = value.strftime("%d/%m/%Y")
    else:
        text = str(value)
    text = unicodedata.normalize("NFC", text).strip()
    if _CONTROL.search(text):
        raise CellError("Có ký tự điều khiển không hợp lệ.", "Contains invalid control characters.")
    return text or None


def _number_text(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        raise CellError("Giá trị số không hợp lệ.", "Not a valid number.")
    if value.is_integer():
        # A code typed into a number cell (5700123456 → 5.700123456E+09 in Excel): its digits.
        return str(int(value))
    return format(Decimal(repr(value)), "f")


_DMY = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})")
_YMD = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 is 31/12/1899 once Excel's 1900 bug is allowed


def _invalid_date() -> CellError:
    return CellError("Ngày không hợp lệ (dd/mm/yyyy).", "Invalid date (dd/mm/yyyy).")


def to_date(value: object) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and 1 <= value <= 100_000:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise _invalid_date()
    if not isinstance(value, str):
        raise _invalid_date()
    text = value.strip()
    if not text:
        return None
    if match := _DMY.fullmatch(text):
        day, month, year = int(match[1]), int(match[3]), int(match[4])
    elif match := _YMD.fullmatch(text):
        year, month, day = int(match[1]), int(match[2]), int(match[3])
    else:
        raise _invalid_date()
    try:
        parsed = dt.date(year, month, day)
    except ValueError:
        raise _invalid_date() from None
    if year < 1900:
        raise _invalid_date()
    return parsed


_PHONE_PUNCTUATION = re.compile(r"[\s.\-()]")
# Mobile: 10 digits (03, 05, 07, 08, 09); landline: 11 digits starting 02 (since 2017).
_VN_PHONE = re.compile(r"0[35789][0-9]{8}|02[0-9]{9}")


def _invalid_phone() -> CellError:
    return CellError(
        "Số điện thoại không hợp lệ (di động 10 số bắt đầu bằng 0; cố định 11 số bắt đầu bằng 02).",
        "Invalid phone number (mobile: 10 digits starting with 0; landline: 11 digits starting "
        "with 02).",
    )


def to_phone(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _invalid_phone()
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0 or not float(value).is_integer():
            raise _invalid_phone()
        digits = str(int(value))
        # Stored as a number, the number lost its leading 0.
        if (len(digits) == 9 and digits[0] in "235789") or (len(digits) == 10 and digits[0] == "2"):
            digits = "0" + digits
    elif isinstance(value, str):
        digits = _PHONE_PUNCTUATION.sub("", unicodedata.normalize("NFKC", value))
        if not digits:
            return None
        if digits.startswith("+84"):
            digits = "0" + digits[3:]
        if not digits.isascii() or not digits.isdigit():
            raise _invalid_phone()
    else:
        raise _invalid_phone()
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not _VN_PHONE.fullmatch(digits):
        raise _invalid_phone()
    return digits


_TRUE = {"x", "co", "yes", "true", "1"}
_FALSE = {"khong", "no", "false", "0"}


def to_bool(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        key = fold(value)
        if not key:
            return None
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
    raise CellError(
        'Giá trị không hợp lệ; hãy ghi "Có"/"x" hoặc "Không" (hoặc để trống).',
        'Invalid value; write "Có"/"x" or "Không" (or leave it empty).',
    )


_INTEGER = re.compile(r"[+-]?[0-9]+")


def to_int(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _INTEGER.fullmatch(text):
            return int(text)
    raise CellError("Phải là số nguyên.", "Must be a whole number.")
