"""What the reports API modules share: settings, the file store, the period of a query."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app

from services.reports.domain.periods import Period
from shared.clock import local_today
from shared.errors import InvalidInput


def settings() -> Any:
    return current_app.config["SETTINGS"]


def files() -> Any:
    return current_app.extensions["trace_files"]


def check_year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise InvalidInput.field(
            "year", "Năm phải từ 2000 đến 2100.", "The year must be 2000–2100."
        )
    return year


def period_of(args: dict[str, Any]) -> Period:
    return Period.of(args["kind"], args["year"], args.get("quarter"))


def as_of_for(period: Period, as_of: date | None) -> date:
    """The day a request's figures describe: `as_of` (inside the period) or the period's end,
    or today if the period has not ended. A period that has not started has no figures."""
    today = local_today()
    if period.start > today:
        raise InvalidInput.field(
            "year",
            "Kỳ báo cáo chưa bắt đầu, chưa có số liệu.",
            "The period has not started: there are no figures yet.",
        )
    if as_of is not None and not period.start <= as_of <= period.end:
        raise InvalidInput.field(
            "as_of",
            "Ngày số liệu phải nằm trong kỳ báo cáo.",
            "The as-of day must be inside the period.",
        )
    return min(as_of or period.as_of(today), today)
