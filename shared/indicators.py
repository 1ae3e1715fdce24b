"""What the services' internal indicator endpoints (read by the reports service) share: the
query (`as_of`, `from`, `to` as local days), its checks, and the local-day cut-off.

"As of D" means at the end of day D in Asia/Ho_Chi_Minh; a period `from`..`to` is those
local days, both included: [end_of_day(from - 1), end_of_day(to)).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from marshmallow import Schema, fields

from shared.clock import LOCAL_TZ
from shared.errors import InvalidInput

# About ten years of days: the longest period a report asks for.
MAX_PERIOD_DAYS = 3660


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in Asia/Ho_Chi_Minh, in UTC."""
    local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=LOCAL_TZ)
    return local.astimezone(UTC)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The UTC half-open interval [lower, upper) of the local days `start`..`end`."""
    return end_of_day(start - timedelta(days=1)), end_of_day(end)


def check_period(start: date, end: date) -> None:
    """422 unless `end` is not before `start` and the period is at most ~10 years."""
    if end < start or (end - start).days > MAX_PERIOD_DAYS:
        raise InvalidInput.field(
            "to",
            "Khoảng thời gian không hợp lệ (tối đa 10 năm, 'to' không trước 'from').",
            "Invalid period (at most 10 years, 'to' not before 'from').",
        )


class IndicatorsQuery(Schema):
    as_of = fields.Date(
        load_default=None,
        metadata={"description": "End of this local day (Asia/Ho_Chi_Minh); default today"},
    )
    start = fields.Date(
        required=True,
        data_key="from",
        metadata={"description": "First local day of the period, included"},
    )
    end = fields.Date(
        required=True,
        data_key="to",
        metadata={"description": "Last local day of the period, included (at most ~10 years)"},
    )
