"""A recall after it is opened: recording the Circular's next step (destroying the food when
that is the handling), cancelling it before it is carried out, the lot status changes these
bring, and the two deadlines shown with it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.products.domain import audit, events, workdays
from services.products.domain.recalls.notify import _all_targets, _notify
from services.products.domain.recalls.steps import (
    CANCELLABLE,
    DEADLINE_NAMES,
    OPEN,
    STEP_NAMES,
    _check_version,
    _chunks,
    _require_open,
    _require_runs,
    _step,
    next_step,
)
from services.products.models import HANDLING_METHODS, RECALL_STEPS, Lot, Recall, RecallLot
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.text import nfc


def advance(
    session: Session,
    *,
    actor: Principal,
    recall: Recall,
    step: str,
    note: str | None = None,
    handling: str | None = None,
    if_match_version: int | None = None,
    settings: Any,
    now: datetime | None = None,
) -> Recall:
    """Record the next step of the recall, in the Circular's order."""
    now = now or utcnow()
    if step not in RECALL_STEPS[1:]:
        raise InvalidInput.field("step", "Bước không hợp lệ.", "Unknown step.")
    _require_runs(session, actor, recall, step)
    _check_version(recall, if_match_version)
    _require_open(recall)
    expected = next_step(recall)
    if expected is not None and step != expected:
        raise Conflict(
            f"Bước tiếp theo của đợt thu hồi {recall.number} là “{STEP_NAMES[expected]['vi']}”, "
            f"không phải “{STEP_NAMES[step]['vi']}”.",
            f"The next step of recall {recall.number} is “{STEP_NAMES[expected]['en']}”, "
            f"not “{STEP_NAMES[step]['en']}”.",
            code="recall_step_order",
            extra={"expected_step": expected},
        )
    cleaned_note = nfc(note or "") or None
    data: dict[str, Any] = {}
    if step == "handled":
        if handling not in HANDLING_METHODS:
            raise InvalidInput.field(
                "handling",
                "Cần chọn cách xử lý: khắc phục, chuyển đổi mục đích sử dụng, tái xuất hoặc "
                "tiêu hủy.",
                "Choose the handling: fix, change of use, re-export or destroy.",
                code="handling_required",
            )
        data["handling"] = handling
    elif handling is not None:
        raise InvalidInput.field(
            "handling",
            "Cách xử lý chỉ ghi ở bước xử lý thực phẩm (handled).",
            "The handling goes with the `handled` step only.",
        )
    if step == "closed" and not cleaned_note:
        raise InvalidInput.field(
            "note",
            "Cần ghi quyết định xử lý của cơ quan có thẩm quyền.",
            "Write down the authority's decision on the handling.",
            code="decision_required",
        )

    if step == "handled":
        recall.handling = handling
        if handling == "destroy":
            _destroy(session, actor, recall, now)
    elif step == "reported":
        recall.reported_at = now
        recall.handling_decision_due_at = workdays.add_working_days(
            session, now, settings.recall_handling_working_days
        )
        data["handling_decision_due_at"] = recall.handling_decision_due_at.isoformat()
    elif step == "closed":
        recall.closed_at = now
    recall.status = step
    recall.steps.append(_step(actor, step, now, cleaned_note, data))
    if step == "closed":
        _notify(session, recall, "recall_closed", _all_targets(session, recall), cleaned_note or "")
    audit.record(
        session,
        actor=actor,
        action=f"recall.{step}",
        entity_type="recall",
        entity_id=recall.id,
        establishment_id=recall.establishment_id,
        reason=cleaned_note,
        data={"number": recall.number, **data},
    )
    session.flush()
    return recall


def _destroy(session: Session, actor: Principal, recall: Recall, now: datetime) -> None:
    """The recalled food was destroyed: every lot of the recall still recalled is now
    destroyed (for good: cancelling another recall will not bring it back)."""
    rows = session.execute(
        select(Lot.id, Lot.establishment_id)
        .join(RecallLot, RecallLot.lot_id == Lot.id)
        .where(RecallLot.recall_id == recall.id, Lot.status == "recalled")
        .order_by(RecallLot.depth, Lot.id)
    ).all()
    _set_status(
        session,
        actor,
        recall,
        [(lot_id, est, "recalled", "destroyed") for lot_id, est in rows],
        now,
    )


def cancel(
    session: Session,
    *,
    actor: Principal,
    recall: Recall,
    reason: str,
    if_match_version: int | None = None,
    now: datetime | None = None,
) -> Recall:
    """Cancel a recall found unnecessary, before it is carried out. A compulsory recall is
    cancelled only by an authority. Each lot goes back to its former status unless another
    open recall still holds it."""
    now = now or utcnow()
    _require_runs(session, actor, recall, "cancelled")
    if recall.kind == "compulsory" and actor.role not in {"admin", "agency"}:
        raise Forbidden(
            "Chỉ cơ quan có thẩm quyền mới hủy được đợt thu hồi bắt buộc.",
            "Only an authority can cancel a compulsory recall.",
            code="authority_step",
        )
    _check_version(recall, if_match_version)
    _require_open(recall)
    if recall.status not in CANCELLABLE:
        raise Conflict(
            f"Đợt thu hồi {recall.number} đã được thực hiện, không thể hủy.",
            f"Recall {recall.number} has been carried out and can no longer be cancelled.",
            code="recall_not_cancellable",
        )
    why = audit.reason_text(reason) or ""
    rows = session.execute(
        select(RecallLot.lot_id, RecallLot.establishment_id, RecallLot.status_before, Lot.status)
        .join(Lot, Lot.id == RecallLot.lot_id)
        .where(RecallLot.recall_id == recall.id)
        .order_by(RecallLot.depth, RecallLot.lot_id)
    ).all()
    held = _held_elsewhere(session, recall.id, [row[0] for row in rows])
    changes = [
        (lot_id, establishment_id, current, before)
        for lot_id, establishment_id, before, current in rows
        if current == "recalled" and before != "recalled" and lot_id not in held
    ]
    targets = _all_targets(session, recall)
    _set_status(session, actor, recall, changes, now)
    recall.status = "cancelled"
    recall.steps.append(_step(actor, "cancelled", now, why, {"restored": len(changes)}))
    _notify(session, recall, "recall_cancelled", targets, why)
    audit.record(
        session,
        actor=actor,
        action="recall.cancel",
        entity_type="recall",
        entity_id=recall.id,
        establishment_id=recall.establishment_id,
        reason=why,
        data={"number": recall.number, "restored_lots": len(changes)},
    )
    session.flush()
    return recall


def _held_elsewhere(
    session: Session, recall_id: uuid.UUID, lot_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Lots among `lot_ids` that another open recall holds, with the status they had before
    that recall (their real former status)."""
    held: dict[uuid.UUID, str] = {}
    for chunk in _chunks(lot_ids):
        rows = session.execute(
            select(RecallLot.lot_id, RecallLot.status_before)
            .join(Recall, Recall.id == RecallLot.recall_id)
            .where(
                RecallLot.lot_id.in_(chunk),
                RecallLot.recall_id != recall_id,
                Recall.status.in_(OPEN),
            )
            .order_by(Recall.opened_at)
        )
        for lot_id, before in rows:
            held.setdefault(lot_id, before)
    return held


def _set_status(
    session: Session,
    actor: Principal,
    recall: Recall,
    changes: Sequence[tuple[uuid.UUID, uuid.UUID, str, str]],
    now: datetime,
) -> None:
    """Apply (lot, establishment, from, to) status changes in bulk, each audited on the lot."""
    by_target: dict[str, list[uuid.UUID]] = {}
    for lot_id, _establishment_id, _before, after in changes:
        by_target.setdefault(after, []).append(lot_id)
    for after, ids in by_target.items():
        for chunk in _chunks(ids):
            session.execute(
                update(Lot)
                .where(Lot.id.in_(chunk))
                .values(status=after, version=Lot.version + 1, updated_at=now)
                .execution_options(synchronize_session="fetch")
            )
        # A bulk UPDATE passes the ORM by: ring the public cards' doorbell for these lots.
        events.touched(session, "lot", ids)
    for lot_id, establishment_id, before, after in changes:
        audit.record(
            session,
            actor=actor,
            action=f"lot.status.{after}",
            entity_type="lot",
            entity_id=lot_id,
            establishment_id=establishment_id,
            reason=recall.number,
            data={
                "from": before,
                "to": after,
                "recall_id": recall.id,
                "recall_number": recall.number,
            },
        )


def _step_at(recall: Recall, step: str) -> datetime | None:
    for recorded in recall.steps:
        if recorded.step == step:
            return recorded.at
    return None


def deadlines(recall: Recall, now: datetime | None = None) -> list[dict[str, Any]]:
    """The two deadlines of the Circular with their state against `now`:
    `met` (done in time), `overdue` (done late, or not done and past due), `pending` (not done,
    still in time), `not_started` (its clock has not started: no result report yet),
    `cancelled` (the recall was cancelled before it was done)."""
    now = now or utcnow()
    decision_done = (
        recall.opened_at if recall.kind == "compulsory" else _step_at(recall, "assessed")
    )

    def state(due: datetime | None, done: datetime | None) -> str:
        if done is not None and due is not None:
            return "met" if done <= due else "overdue"
        if recall.status == "cancelled":
            return "cancelled"
        if due is None:
            return "not_started"
        return "overdue" if now > due else "pending"

    return [
        {
            "name": "decision",
            "label": DEADLINE_NAMES["decision"],
            "starts_at": recall.found_at,
            "due_at": recall.decision_due_at,
            "done_at": decision_done,
            "state": state(recall.decision_due_at, decision_done),
        },
        {
            "name": "handling_decision",
            "label": DEADLINE_NAMES["handling_decision"],
            "starts_at": recall.reported_at,
            "due_at": recall.handling_decision_due_at,
            "done_at": recall.closed_at,
            "state": state(recall.handling_decision_due_at, recall.closed_at),
        },
    ]
