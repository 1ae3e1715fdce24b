"""Working days (ngày làm việc) for the recall deadlines, in Asia/Ho_Chi_Minh.

Circular 17/2021 gives an authority 3 working days after a recall's result report to decide on
the handling. A working day is Monday to Friday and not a public holiday (`holidays` rows, kept
by the administrator). As the Civil Code counts a period in days (Art. 147), the period starts
on the day after the event and ends at the end of its last day; so a report sent on a Friday
is due at 23:59:59 on the Wednesday after, and one sent on a Saturday too.

Compensatory working Saturdays (làm bù) are not modelled: a Saturday is never a working day.
"""

from __future__ import annotations

import uuid
from collections.abc import Container
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.domain import audit
from services.products.models import Holiday
from shared.auth import Principal
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.text import nfc

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
END_OF_DAY = time(23, 59, 59)
# Holidays are read a window at a time; Tết and a weekend rarely exceed ten days off in a row.
_WINDOW_DAYS = 31


def local_day(moment: datetime) -> date:
    """The calendar day in Vietnam of an aware datetime."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given; pass an aware datetime")
    return moment.astimezone(LOCAL_TZ).date()


def end_of_day(day: date) -> datetime:
    """23:59:59 of `day` in Vietnam, as aware UTC."""
    return datetime.combine(day, END_OF_DAY, tzinfo=LOCAL_TZ).astimezone(UTC)


def is_working_day(day: date, holidays: Container[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def holidays_between(session: Session, first: date, last: date) -> set[date]:
    """The public holidays from `first` to `last`, both included."""
    return set(session.scalars(select(Holiday.day).where(Holiday.day.between(first, last))))


def add_working_days(session: Session, start: datetime, days: int) -> datetime:
    """The end (23:59:59, Vietnam time) of the `days`-th working day after the day of `start`;
    `days == 0` is the end of `start`'s own day. Returned as aware UTC."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = local_day(start)
    left = days
    while left:
        window_end = day + timedelta(days=_WINDOW_DAYS)
        holidays = holidays_between(session, day + timedelta(days=1), window_end)
        while left and day < window_end:
            day += timedelta(days=1)
            if is_working_day(day, holidays):
                left -= 1
    return end_of_day(day)


# --- The holiday list (administrator) ---------------------------------------------------------

_HOLIDAY_NAMESPACE = uuid.UUID("6f1c7c52-3a55-4f0e-9a53-8d1f0d6b7e21")


def holiday_entity_id(day: date) -> uuid.UUID:
    """A stable id for the audit log (holidays are keyed by their day)."""
    return uuid.uuid5(_HOLIDAY_NAMESPACE, day.isoformat())


def set_holiday(
    session: Session, *, actor: Principal, day: date, name: str
) -> tuple[Holiday, bool]:
    """Add or rename a public holiday; (the holiday, whether it is new). Deadlines already
    computed keep their date: a report's handling deadline is fixed when it is sent."""
    if not actor.is_admin:
        raise Forbidden()
    cleaned = nfc(name)
    if not cleaned:
        raise InvalidInput.field("name", "Cần nhập tên ngày lễ.", "A name is required.")
    holiday = session.get(Holiday, day)
    created = holiday is None
    before = None if holiday is None else holiday.name
    if holiday is None:
        holiday = Holiday(day=day, name=cleaned)
        session.add(holiday)
    else:
        holiday.name = cleaned
    audit.record(
        session,
        actor=actor,
        action="holiday.set",
        entity_type="holiday",
        entity_id=holiday_entity_id(day),
        establishment_id=None,
        data={"day": day, "name": {"from": before, "to": cleaned}},
    )
    session.flush()
    return holiday, created


def remove_holiday(session: Session, *, actor: Principal, day: date) -> None:
    if not actor.is_admin:
        raise Forbidden()
    holiday = session.get(Holiday, day)
    if holiday is None:
        raise NotFound("Không có ngày lễ này.", "No such holiday.", code="holiday_not_found")
    audit.record(
        session,
        actor=actor,
        action="holiday.delete",
        entity_type="holiday",
        entity_id=holiday_entity_id(day),
        establishment_id=None,
        data={"day": day, "name": holiday.name},
    )
    session.delete(holiday)
    session.flush()
