"""Working days for the recall's 3-working-day deadline, and the holiday list behind them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from services.products.domain.workdays import LOCAL_TZ, add_working_days
from services.products.models import AuditEvent, Holiday

pytestmark = pytest.mark.smoke


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL_TZ)


def end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=LOCAL_TZ).astimezone(UTC)


def holiday(session: Any, day: date, name: str = "Ngày lễ thử") -> None:
    session.add(Holiday(day=day, name=name))
    session.flush()


def test_three_working_days_from_a_friday_skip_the_weekend(psession: Any) -> None:
    due = add_working_days(psession, local(2026, 12, 4, 10, 0), 3)  # Friday
    assert due == end_of(date(2026, 12, 9))  # Mon, Tue, Wed → end of Wednesday
    assert due.tzinfo is not None
    assert due.astimezone(LOCAL_TZ).strftime("%A %H:%M:%S") == "Wednesday 23:59:59"


def test_a_holiday_after_the_weekend_moves_the_deadline(psession: Any) -> None:
    holiday(psession, date(2026, 12, 7))  # the Monday
    due = add_working_days(psession, local(2026, 12, 4, 10, 0), 3)
    assert due == end_of(date(2026, 12, 10))  # Tue, Wed, Thu


def test_a_holiday_on_a_weekend_changes_nothing(psession: Any) -> None:
    holiday(psession, date(2026, 12, 5))  # a Saturday
    assert add_working_days(psession, local(2026, 12, 4, 10, 0), 3) == end_of(date(2026, 12, 9))


def test_a_report_on_a_saturday_counts_from_monday(psession: Any) -> None:
    assert add_working_days(psession, local(2026, 12, 5, 9, 0), 3) == end_of(date(2026, 12, 9))


def test_midweek_report_runs_over_the_weekend(psession: Any) -> None:
    # Wednesday → Thu, Fri, Mon
    assert add_working_days(psession, local(2026, 12, 9, 16, 0), 3) == end_of(date(2026, 12, 14))


def test_the_day_is_taken_in_vietnam_not_utc(psession: Any) -> None:
    # 18:00 UTC on Thursday is already 01:00 on Friday in Hà Nội.
    start = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    assert add_working_days(psession, start, 3) == end_of(date(2026, 12, 9))
    # 16:59 UTC Thursday is still Thursday 23:59 in Hà Nội: Fri, Mon, Tue.
    assert add_working_days(psession, datetime(2026, 12, 3, 16, 59, tzinfo=UTC), 3) == end_of(
        date(2026, 12, 8)
    )


def test_a_long_holiday_run_longer_than_the_lookup_window(psession: Any) -> None:
    first = date(2027, 2, 1)
    for offset in range(45):  # 45 days off in a row (longer than one window of holidays)
        holiday(psession, first + timedelta(days=offset), "Tết thử")
    due = add_working_days(psession, local(2027, 1, 29, 10, 0), 1)  # a Friday
    last_off = first + timedelta(days=44)  # 2027-03-17, a Wednesday
    assert due == end_of(last_off + timedelta(days=1))


def test_zero_days_is_the_end_of_the_same_day_and_bad_input_is_refused(psession: Any) -> None:
    assert add_working_days(psession, local(2026, 12, 5, 9, 0), 0) == end_of(date(2026, 12, 5))
    with pytest.raises(ValueError, match="naive"):
        add_working_days(psession, datetime(2026, 12, 4, 10, 0), 3)  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        add_working_days(psession, local(2026, 12, 4, 10, 0), -1)


# --- the holiday list through the API ---------------------------------------------------------


def _audits(session: Any) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.entity_type == "holiday")
    )


def test_holidays_every_role(pclient: Any, pworld: Any, psession: Any) -> None:
    url = "/api/v1/holidays/2026-09-02"
    for who in ("agency_a", "agency_b", "owner_a", "owner_a2", "owner_b"):
        assert (
            pclient.put(url, json={"name": "Quốc khánh"}, headers=pworld.headers(who)).status_code
            == 403
        )
        assert pclient.delete(url, headers=pworld.headers(who)).status_code == 403
    assert pclient.put(url, json={"name": "Quốc khánh"}).status_code == 401
    assert pclient.delete(url).status_code == 401
    assert pclient.get("/api/v1/holidays/").status_code == 401
    assert psession.scalar(select(func.count()).select_from(Holiday)) == 0

    created = pclient.put(url, json={"name": "Quốc khánh"}, headers=pworld.headers("admin"))
    assert created.status_code == 201, created.json
    assert created.json == {"day": "2026-09-02", "name": "Quốc khánh"}
    renamed = pclient.put(url, json={"name": "Quốc khánh 2/9"}, headers=pworld.headers("admin"))
    assert renamed.status_code == 200
    assert renamed.json["name"] == "Quốc khánh 2/9"
    pclient.put(
        "/api/v1/holidays/2027-01-01",
        json={"name": "Tết Dương lịch"},
        headers=pworld.headers("admin"),
    )

    for who in ("admin", "agency_a", "agency_b", "owner_a", "owner_a2", "owner_b"):
        listed = pclient.get("/api/v1/holidays/", headers=pworld.headers(who))
        assert listed.status_code == 200
        assert [h["day"] for h in listed.json] == ["2026-09-02", "2027-01-01"]
    one_year = pclient.get("/api/v1/holidays/?year=2027", headers=pworld.headers("owner_b"))
    assert [h["name"] for h in one_year.json] == ["Tết Dương lịch"]

    assert pclient.delete(url, headers=pworld.headers("admin")).status_code == 204
    missing = pclient.delete(url, headers=pworld.headers("admin"))
    assert missing.status_code == 404
    assert missing.json["message"]["vi"]
    assert missing.json["message"]["en"]
    assert _audits(psession) == 4  # two sets, one more set, one delete


@pytest.mark.parametrize(
    ("day", "body", "field"),
    [
        ("2026-13-01", {"name": "Ngày lạ"}, "day"),
        ("02-09-2026", {"name": "Ngày lạ"}, "day"),
        ("20260902", {"name": "Ngày lạ"}, "day"),
        ("2026-09-02", {}, "name"),
        ("2026-09-02", {"name": ""}, "name"),
        ("2026-09-02", {"name": 12}, "name"),
        ("2026-09-02", {"name": "x" * 256}, "name"),
        ("2026-09-02", {"name": "Quốc\x07khánh"}, "name"),
        ("2026-09-02", {"name": "Quốc khánh", "extra": 1}, "extra"),
    ],
)
def test_holiday_bad_input(
    pclient: Any, pworld: Any, psession: Any, day: str, body: dict[str, Any], field: str
) -> None:
    response = pclient.put(f"/api/v1/holidays/{day}", json=body, headers=pworld.headers("admin"))
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert field in errors, errors
    assert all(m["vi"] and m["en"] for m in errors[field])
    assert psession.scalar(select(func.count()).select_from(Holiday)) == 0
    assert _audits(psession) == 0


def test_holiday_year_filter_is_validated(pclient: Any, pworld: Any) -> None:
    response = pclient.get("/api/v1/holidays/?year=abc", headers=pworld.headers("owner_a"))
    assert response.status_code == 422
    assert "year" in response.json["errors"]
