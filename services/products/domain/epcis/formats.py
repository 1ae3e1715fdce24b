"""How the export writes values: times in UTC with the Vietnam offset, class-level quantities in
UN/ECE Rec. 20 units where there is one, and an export's period as Vietnam calendar days."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shared.errors import InvalidInput

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
TIME_ZONE_OFFSET = "+07:00"
MAX_PERIOD_DAYS = 366
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)
# unit (NFC, lower-case) → (UN/ECE Recommendation 20 code, factor)
UNITS: dict[str, tuple[str, Decimal]] = {
    **dict.fromkeys(
        ("kg", "kgs", "kilogram", "kilogam", "kilôgam", "ký", "kí"), ("KGM", Decimal(1))
    ),
    **dict.fromkeys(("g", "gr", "gram", "gam"), ("GRM", Decimal(1))),
    **dict.fromkeys(("t", "tấn", "ton", "tonne"), ("TNE", Decimal(1))),
    **dict.fromkeys(("l", "lít", "lit", "litre", "liter"), ("LTR", Decimal(1))),
    **dict.fromkeys(("ml", "mililít", "millilitre", "milliliter"), ("MLT", Decimal(1))),
    "yến": ("KGM", Decimal(10)),
    "tạ": ("KGM", Decimal(100)),
}


def timestamp(value: datetime) -> str:
    """UTC, milliseconds, `Z`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def quantity_element(epc_class: str, quantity: Decimal | None, unit: str | None) -> dict[str, Any]:
    """A class-level quantity; `uom` only where the unit is a UN/ECE Rec. 20 measure."""
    element: dict[str, Any] = {"epcClass": epc_class}
    if quantity is None:
        return element
    known = UNITS.get(unicodedata.normalize("NFC", unit or "").strip().lower().rstrip("."))
    if known is not None:
        code, factor = known
        element["quantity"] = _number(quantity * factor)
        element["uom"] = code
    else:
        element["quantity"] = _number(quantity)
    return element


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """Calendar days `start`..`end` (both included) in Asia/Ho_Chi_Minh, as [from, to) instants;
    at most a year."""
    if end < start:
        raise InvalidInput.field(
            "to",
            "Ngày kết thúc không được trước ngày bắt đầu.",
            "The end date must not be before the start date.",
            code="invalid_period",
        )
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput.field(
            "to",
            f"Mỗi lần xuất tối đa một năm ({MAX_PERIOD_DAYS} ngày).",
            f"One export covers at most a year ({MAX_PERIOD_DAYS} days).",
            code="period_too_long",
        )
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise InvalidInput.field(
                name,
                f"Ngày phải từ {EARLIEST:%d/%m/%Y} đến {LATEST:%d/%m/%Y}.",
                f"The date must be between {EARLIEST} and {LATEST}.",
            )
    return (
        datetime.combine(start, time(), LOCAL).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(), LOCAL).astimezone(UTC),
    )
