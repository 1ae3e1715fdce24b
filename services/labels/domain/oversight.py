"""What an agency does with counterfeit alerts and consumers' problem reports: confirm, dismiss
or reopen an alert; take a report into review, close or reopen it — always with a note, always
audited. The API (api/alerts.py, api/reports.py) and the pages (pages.py) both call this."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from services.labels.models import AuditEvent, CounterfeitAlert, ProblemReport
from shared import audit
from shared.auth import Principal


def set_status(
    session: Session,
    *,
    actor: Principal,
    row: CounterfeitAlert | ProblemReport,
    status: str,
    note: str | None,
) -> None:
    """Move an alert or a report to `status` (already validated by its schema), keeping the
    note and the from → to in the audit log."""
    before = row.status
    row.status = status
    data: dict[str, Any] = {"from": before, "to": status}
    if isinstance(row, CounterfeitAlert):
        if note is not None:
            row.note = note
        action, entity = f"alert.{status}", "counterfeit_alert"
        data |= {"code": row.code, "reason": row.reason}
    else:
        if note is not None:
            row.handled_note = note
        action, entity = f"problem_report.{status}", "problem_report"
    session.flush()
    audit.record(
        session,
        AuditEvent,
        actor=actor,
        action=action,
        entity_type=entity,
        entity_id=row.id,
        establishment_id=row.establishment_id,
        reason=note,
        data=data,
    )
