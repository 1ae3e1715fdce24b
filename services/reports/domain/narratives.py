"""Each unit's narrative for a period — what was done, what was not, why, what it proposes —
written by its officers before the deadline; lateness; reminders to units that have not
submitted.

Every active unit in a report's scope owes a narrative. A narrative is a draft until
submitted; a submitted one may still be corrected until the deadline (each save keeps it
submitted and records who and when); after the deadline a submitted narrative is locked and
an unsubmitted one can still be submitted, marked late.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.reports.domain.indicators import Node, load_tree, walk
from services.reports.domain.periods import Period
from services.reports.models import Narrative, Reminder
from shared import audit
from shared.auth import Principal
from shared.clock import LOCAL_TZ
from shared.db import utcnow
from shared.errors import Conflict, InvalidInput, NotFound, PreconditionFailed
from shared.text import nfc

TEXT_FIELDS = ("done", "not_done", "reasons", "proposals")
MAX_TEXT = 20_000
REMIND_DAYS_BEFORE = 7
REMIND_DAYS_AFTER = 30


def _find(session: Session, unit_id: uuid.UUID, period: Period) -> Narrative | None:
    return session.scalar(
        select(Narrative).where(
            Narrative.unit_id == unit_id,
            Narrative.kind == period.kind,
            Narrative.year == period.year,
            Narrative.quarter == period.quarter,
        )
    )


def is_late(narrative: Narrative | None, period: Period, now: datetime) -> bool:
    due = period.due_at
    if narrative is not None and narrative.status == "submitted" and narrative.submitted_at:
        return narrative.submitted_at > due
    return now > due


def save(
    session: Session,
    principal: Principal,
    unit_id: uuid.UUID,
    period: Period,
    texts: dict[str, str],
    *,
    submit: bool,
    expected_version: int | None,
    now: datetime | None = None,
) -> Narrative:
    now = now or utcnow()
    narrative = _find(session, unit_id, period)
    current_version = narrative.version if narrative is not None else 0
    if expected_version is not None and expected_version != current_version:
        raise PreconditionFailed()
    if narrative is not None and narrative.status == "submitted" and now > period.due_at:
        raise Conflict(
            "Báo cáo đã nộp và đã quá hạn nên không sửa được nữa.",
            "The narrative was submitted and the deadline has passed: it can no longer change.",
            code="narrative_locked",
        )
    cleaned: dict[str, str] = {}
    for name in TEXT_FIELDS:
        value = nfc(texts.get(name) or "")
        if len(value) > MAX_TEXT:
            raise InvalidInput.field(
                name,
                f"Tối đa {MAX_TEXT:,} ký tự.".replace(",", "."),
                f"At most {MAX_TEXT:,} characters.",
            )
        cleaned[name] = value
    if submit and not (cleaned["done"] or cleaned["not_done"]):
        raise InvalidInput.field(
            "done",
            "Cần nêu việc đã làm được hoặc chưa làm được trước khi nộp.",
            "Say what was done or not done before submitting.",
        )
    before = _snapshot(narrative) if narrative is not None else None
    if narrative is None:
        narrative = Narrative(
            id=uuid.uuid4(),
            unit_id=unit_id,
            kind=period.kind,
            year=period.year,
            quarter=period.quarter,
            version=0,
            status="draft",
        )
        session.add(narrative)
    for name, value in cleaned.items():
        setattr(narrative, name, value)
    narrative.updated_by = principal.account_id
    narrative.version = current_version + 1
    if submit or narrative.status == "submitted":
        narrative.status = "submitted"
        narrative.submitted_at = now
        narrative.submitted_by = principal.account_id
    try:
        session.flush()
    except IntegrityError as exc:  # two first saves raced
        raise PreconditionFailed() from exc
    audit.record(
        session,
        _audit_model(),
        actor=principal,
        action="narrative.submit" if submit else "narrative.save",
        entity_type="narrative",
        entity_id=narrative.id,
        establishment_id=None,
        data={"unit_id": str(unit_id), "before": before, "after": _snapshot(narrative)},
    )
    return narrative


def _audit_model() -> Any:
    from services.reports.models import AuditEvent

    return AuditEvent


def _snapshot(narrative: Narrative) -> dict[str, Any]:
    return {
        "status": narrative.status,
        "version": narrative.version,
        **{name: getattr(narrative, name) for name in TEXT_FIELDS},
    }


def get(session: Session, unit_id: uuid.UUID, period: Period) -> Narrative:
    narrative = _find(session, unit_id, period)
    if narrative is None:
        raise NotFound()
    return narrative


def owing_units(session: Session, top: uuid.UUID | None) -> list[Node]:
    """Active units in the scope (all units for None), in tree order."""
    nodes = load_tree(session)
    if top is None:
        tops = sorted(
            (n for n in nodes.values() if n.parent_id is None or n.parent_id not in nodes),
            key=lambda n: n.code,
        )
    else:
        found = nodes.get(str(top))
        tops = [found] if found else []
    return [node for t in tops for node, _depth in walk(t) if node.status == "active"]


def status(
    session: Session, top: uuid.UUID | None, period: Period, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every owing unit with its narrative's state and lateness."""
    now = now or utcnow()
    units = owing_units(session, top)
    ids = [uuid.UUID(n.id) for n in units]
    found = {
        str(n.unit_id): n
        for n in session.scalars(
            select(Narrative).where(
                Narrative.kind == period.kind,
                Narrative.year == period.year,
                Narrative.quarter == period.quarter,
                Narrative.unit_id.in_(ids),
            )
        )
    }
    out = []
    for node in units:
        narrative = found.get(node.id)
        submitted = narrative is not None and narrative.status == "submitted"
        out.append(
            {
                "unit_id": node.id,
                "unit_code": node.code,
                "unit_name": node.name,
                "status": narrative.status if narrative else "missing",
                "submitted_at": narrative.submitted_at if submitted and narrative else None,
                "late": is_late(narrative, period, now),
                "version": narrative.version if narrative else 0,
                **{name: (getattr(narrative, name) if narrative else "") for name in TEXT_FIELDS},
            }
        )
    return out


def for_report(
    session: Session, top: uuid.UUID | None, period: Period, now: datetime
) -> list[dict[str, Any]]:
    """What a compiled report keeps of the narratives (JSON-ready)."""
    rows = status(session, top, period, now)
    for row in rows:
        submitted = row.pop("submitted_at")
        row["submitted_at"] = submitted.isoformat() if submitted else None
        row["submitted_local"] = (
            submitted.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") if submitted else None
        )
        row["status"] = "submitted" if row["status"] == "submitted" else "missing"
    return rows


def periods_to_remind(today: date) -> list[Period]:
    """Periods whose deadline is within the next week or passed less than a month ago."""
    candidates = [Period("annual", today.year), Period("annual", today.year - 1)]
    for year in (today.year - 1, today.year):
        candidates += [Period("quarterly", year, q) for q in (1, 2, 3, 4)]
    out = []
    for period in candidates:
        due = period.due_at.date()
        if (
            due - timedelta(days=REMIND_DAYS_BEFORE)
            <= today
            <= due + timedelta(days=REMIND_DAYS_AFTER)
        ):
            out.append(period)
    return out


def send_reminders(session: Session, today: date, now: datetime | None = None) -> int:
    """One reminder per owing unit without a submitted narrative, per period and day (running
    twice a day sends nothing more)."""
    now = now or utcnow()
    sent = 0
    for period in periods_to_remind(today):
        for row in status(session, None, period, now):
            if row["status"] == "submitted":
                continue
            exists = session.scalar(
                select(Reminder.id).where(
                    Reminder.unit_id == uuid.UUID(row["unit_id"]),
                    Reminder.kind == period.kind,
                    Reminder.year == period.year,
                    Reminder.quarter == period.quarter,
                    Reminder.sent_on == today,
                )
            )
            if exists is not None:
                continue
            session.add(
                Reminder(
                    unit_id=uuid.UUID(row["unit_id"]),
                    kind=period.kind,
                    year=period.year,
                    quarter=period.quarter,
                    sent_on=today,
                    due_at=period.due_at,
                )
            )
            sent += 1
    session.flush()
    return sent


def reminders_for(session: Session, unit_ids: set[str] | None, limit: int = 100) -> list[Reminder]:
    stmt = select(Reminder).order_by(Reminder.created_at.desc(), Reminder.id.desc()).limit(limit)
    if unit_ids is not None:
        stmt = stmt.where(Reminder.unit_id.in_([uuid.UUID(u) for u in unit_ids]))
    return list(session.scalars(stmt))
