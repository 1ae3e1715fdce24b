"""Reporting periods and their deadlines (the plan: quarterly reports before the 15th of each
quarter's last month, the annual report before 10 December), in Asia/Ho_Chi_Minh."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shared.clock import LOCAL_TZ
from shared.errors import InvalidInput

KINDS = ("quarterly", "annual")
QUARTERLY_DUE_DAY = 15  # "before the 15th of the last month of the quarter"
ANNUAL_DUE = (12, 10)  # "before 10 December"


@dataclass(frozen=True)
class Period:
    kind: str
    year: int
    quarter: int = 0  # 1–4 for quarterly, 0 for annual

    @classmethod
    def of(cls, kind: str, year: int, quarter: int | None = None) -> Period:
        if kind not in KINDS:
            raise InvalidInput.field(
                "kind", "Loại báo cáo: quarterly hoặc annual.", "Kind: quarterly or annual."
            )
        if not 2000 <= year <= 2100:
            raise InvalidInput.field("year", "Năm không hợp lệ.", "Invalid year.")
        if kind == "annual":
            if quarter not in (None, 0):
                raise InvalidInput.field(
                    "quarter",
                    "Báo cáo năm không có quý.",
                    "An annual report has no quarter.",
                )
            return cls("annual", year, 0)
        if quarter not in (1, 2, 3, 4):
            raise InvalidInput.field(
                "quarter", "Quý phải từ 1 đến 4.", "The quarter must be 1 to 4."
            )
        return cls("quarterly", year, quarter)

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.kind == "annual" else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        last_month = 12 if self.kind == "annual" else 3 * self.quarter
        if last_month == 12:
            return date(self.year, 12, 31)
        return date(self.year, last_month + 1, 1) - timedelta(days=1)

    @property
    def due_at(self) -> datetime:
        """The deadline: the start of the due day, local time ("before the 15th")."""
        if self.kind == "annual":
            day = date(self.year, *ANNUAL_DUE)
        else:
            day = date(self.year, 3 * self.quarter, QUARTERLY_DUE_DAY)
        return datetime.combine(day, time(0), tzinfo=LOCAL_TZ)

    def as_of(self, today: date) -> date:
        """The day whose end the figures describe: the period's end, or today if earlier."""
        return min(self.end, today)

    @property
    def label_vi(self) -> str:
        if self.kind == "annual":
            return f"Năm {self.year}"
        return f"Quý {['I', 'II', 'III', 'IV'][self.quarter - 1]}/{self.year}"

    @property
    def label_en(self) -> str:
        return f"{self.year}" if self.kind == "annual" else f"Q{self.quarter} {self.year}"

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "year": self.year,
            "quarter": self.quarter or None,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "due_at": self.due_at.isoformat(),
            "label_vi": self.label_vi,
            "label_en": self.label_en,
        }


def current(kind: str, now: datetime) -> Period:
    """The period whose report is due next at `now` (local): the quarter containing today
    (its report is due in its last month), or this year."""
    local = now.astimezone(LOCAL_TZ).date()
    if kind == "annual":
        return Period("annual", local.year)
    return Period("quarterly", local.year, (local.month - 1) // 3 + 1)
