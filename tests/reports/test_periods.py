"""Periods and deadlines: quarterly before the 15th of the quarter's last month, annual before
10 December, in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.reports.domain.periods import Period, current
from shared.errors import InvalidInput

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize(
    ("quarter", "start", "end", "due"),
    [
        (1, date(2024, 1, 1), date(2024, 3, 31), "2024-03-15T00:00:00+07:00"),
        (2, date(2024, 4, 1), date(2024, 6, 30), "2024-06-15T00:00:00+07:00"),
        (3, date(2024, 7, 1), date(2024, 9, 30), "2024-09-15T00:00:00+07:00"),
        (4, date(2024, 10, 1), date(2024, 12, 31), "2024-12-15T00:00:00+07:00"),
    ],
)
def test_quarters(quarter: int, start: date, end: date, due: str) -> None:
    period = Period.of("quarterly", 2024, quarter)
    assert (period.start, period.end) == (start, end)
    assert period.due_at.isoformat() == due
    assert period.label_vi == f"Quý {['I', 'II', 'III', 'IV'][quarter - 1]}/2024"


def test_annual() -> None:
    period = Period.of("annual", 2024)
    assert (period.start, period.end) == (date(2024, 1, 1), date(2024, 12, 31))
    assert period.due_at.isoformat() == "2024-12-10T00:00:00+07:00"
    assert period.as_of(date(2024, 6, 1)) == date(2024, 6, 1)
    assert period.as_of(date(2025, 2, 1)) == date(2024, 12, 31)


def test_the_current_period_is_local() -> None:
    # 31 March 17:30 UTC is already 1 April in Hà Nội: the second quarter.
    assert current("quarterly", datetime(2024, 3, 31, 17, 30, tzinfo=UTC)).quarter == 2
    assert current("quarterly", datetime(2024, 3, 31, 16, 30, tzinfo=UTC)).quarter == 1
    assert current("annual", datetime(2024, 12, 31, 17, 30, tzinfo=UTC)).year == 2025


@pytest.mark.parametrize(
    ("kind", "year", "quarter", "field"),
    [
        ("monthly", 2024, None, "kind"),
        ("quarterly", 2024, None, "quarter"),
        ("quarterly", 2024, 5, "quarter"),
        ("annual", 2024, 2, "quarter"),
        ("annual", 1999, None, "year"),
    ],
)
def test_bad_periods(kind: str, year: int, quarter: int | None, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Period.of(kind, year, quarter)
    assert field in caught.value.fields
