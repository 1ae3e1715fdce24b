"""Opening a recall of a lot — who may, which kind, its number `TH-<year>-<5 digits>`, the lots
it marks recalled and the recipients it keeps — and refreshing it when the trace has grown
since."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from services.products.domain import audit, scope, workdays
from services.products.domain.recalls.notify import _notify_reached
from services.products.domain.recalls.reach import AffectedLot, AffectedShipment, impact
from services.products.domain.recalls.steps import OPEN, _require_open, _require_runs, _step
from services.products.domain.recalls.workflow import _held_elsewhere, _set_status
from services.products.models import (
    RECALL_KINDS,
    DirectoryEstablishment,
    Lot,
    Recall,
    RecallLot,
    RecallRecipient,
    Shipment,
)
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.text import nfc

# A found_at a little ahead of our clock is the caller's clock skew, not the future.
CLOCK_SKEW = timedelta(minutes=2)
EARLIEST_FINDING_YEAR = 2000
# Serialises recall numbering (and the "already open" check) on PostgreSQL.
NUMBER_LOCK = 17_2021_0008


def find_lot(session: Session, principal: Principal, lot_id: uuid.UUID) -> Lot:
    """The lot to recall; 422 on `lot_id` when unknown or invisible to the caller."""
    lot = session.get(Lot, lot_id)
    if lot is None or not (
        scope.can_read(session, principal, lot.establishment_id)
        or scope.received_by(session, principal, lot)
    ):
        raise InvalidInput.field(
            "lot_id",
            "Không tìm thấy lô này.",
            "No such lot.",
            code="lot_not_found",
        )
    return lot


def _kind_for(principal: Principal, requested: str | None) -> str:
    if requested is not None and requested not in RECALL_KINDS:
        raise InvalidInput.field("kind", "Loại thu hồi không hợp lệ.", "Unknown recall kind.")
    if principal.role == "establishment":
        if requested == "compulsory":
            raise Forbidden(
                "Chỉ cơ quan có thẩm quyền mới ra quyết định thu hồi bắt buộc; cơ sở tự "
                "nguyện thu hồi.",
                "Only an authority imposes a compulsory recall; an establishment recalls "
                "voluntarily.",
                code="compulsory_needs_authority",
            )
        return "voluntary"
    # An agency records a voluntary recall on the establishment's behalf when asked to.
    return requested or "compulsory"


def _serialise(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": NUMBER_LOCK})


def _next_number(session: Session, now: datetime) -> str:
    prefix = f"TH-{workdays.local_day(now).year}-"
    last = session.scalar(
        select(Recall.number)
        .where(Recall.number.startswith(prefix, autoescape=True))
        .order_by(func.length(Recall.number).desc(), Recall.number.desc())
        .limit(1)
    )
    sequence = int(last.removeprefix(prefix)) + 1 if last else 1
    return f"{prefix}{sequence:05d}"


def open_recall(
    session: Session,
    *,
    actor: Principal,
    lot: Lot,
    kind: str | None,
    reason: str,
    hazard: str | None,
    found_at: datetime | None,
    settings: Any,
    now: datetime | None = None,
) -> Recall:
    """Open a recall of `lot`: voluntary by its establishment, compulsory when an agency
    managing it (or the administrator) imposes it."""
    now = now or utcnow()
    if actor.role == "establishment":
        allowed = actor.establishment_id == lot.establishment_id
    else:
        allowed = actor.role in {"admin", "agency"} and scope.manages(
            session, actor, lot.establishment_id
        )
    if not allowed:
        raise Forbidden(
            "Chỉ cơ sở sở hữu lô và cơ quan quản lý cơ sở đó mới mở đợt thu hồi lô này.",
            "Only the establishment owning the lot and the agencies managing it can recall it.",
            code="recall_not_allowed",
        )
    kind = _kind_for(actor, kind)
    why = audit.reason_text(reason) or ""
    hazard = nfc(hazard or "") or None
    found_at = found_at or now
    if found_at.tzinfo is None:
        raise InvalidInput.field(
            "found_at", "Thời điểm cần có múi giờ.", "The time needs a time zone."
        )
    if found_at.year < EARLIEST_FINDING_YEAR:
        raise InvalidInput.field(
            "found_at",
            f"Thời điểm phát hiện phải từ năm {EARLIEST_FINDING_YEAR} trở đi.",
            f"The time of the finding must be in {EARLIEST_FINDING_YEAR} or later.",
        )
    if found_at > now + CLOCK_SKEW:
        raise InvalidInput.field(
            "found_at",
            "Thời điểm phát hiện không được ở tương lai.",
            "The time of the finding cannot be in the future.",
            code="found_in_future",
        )

    _serialise(session)
    already = session.scalar(
        select(Recall).where(Recall.lot_id == lot.id, Recall.status.in_(OPEN)).limit(1)
    )
    if already is not None:
        raise Conflict(
            f"Lô {lot.code} đang có đợt thu hồi {already.number} chưa kết thúc.",
            f"Lot {lot.code} already has an open recall, {already.number}.",
            code="recall_already_open",
            extra={"recall_id": str(already.id), "number": already.number},
        )

    reached = impact(session, lot.id)
    origin = session.get(DirectoryEstablishment, lot.establishment_id)
    recall = Recall(
        id=uuid.uuid4(),
        number=_next_number(session, now),
        lot_id=lot.id,
        establishment_id=lot.establishment_id,
        unit_id=origin.unit_id if origin else None,
        kind=kind,
        reason=why,
        hazard=hazard,
        found_at=found_at,
        opened_at=now,
        opened_by=actor.account_id,
        opened_by_name=actor.username,
        opened_by_role=actor.role,
        status="requested",
        decision_due_at=found_at + timedelta(hours=settings.recall_decision_hours),
        # what the trace reaches now (a new recall's counts; `refresh_impact` recounts)
        affected_lots=len(reached.lots),
        affected_establishments=len(reached.establishments),
    )
    session.add(recall)
    recall.steps.append(_step(actor, "requested", now, why, {"kind": kind}))
    session.flush()
    added = _add_lots(session, actor, recall, reached.lots, now)
    _add_recipients(session, recall, reached.recipients)
    _notify_reached(session, recall, "recall_opened", added, reached.recipients)
    audit.record(
        session,
        actor=actor,
        action="recall.open",
        entity_type="recall",
        entity_id=recall.id,
        establishment_id=recall.establishment_id,
        reason=why,
        data={
            "number": recall.number,
            "lot_id": lot.id,
            "kind": kind,
            "hazard": hazard,
            "found_at": found_at,
            "affected_lots": recall.affected_lots,
            "affected_establishments": recall.affected_establishments,
            "recipients": len(reached.recipients),
        },
    )
    session.flush()
    return recall


def _add_lots(
    session: Session,
    actor: Principal,
    recall: Recall,
    lots: Sequence[AffectedLot],
    now: datetime,
) -> list[AffectedLot]:
    """Keep a RecallLot per lot with its former status, and mark the lots recalled."""
    held = _held_elsewhere(session, recall.id, [lot.lot_id for lot in lots])
    rows: list[RecallLot] = []
    changes: list[tuple[uuid.UUID, uuid.UUID, str, str]] = []
    for lot in lots:
        before = lot.status
        if before == "recalled" and lot.lot_id in held:
            before = held[lot.lot_id]
        rows.append(
            RecallLot(
                recall_id=recall.id,
                lot_id=lot.lot_id,
                establishment_id=lot.establishment_id,
                depth=lot.depth,
                status_before=before,
            )
        )
        if lot.status not in {"recalled", "destroyed"}:
            changes.append((lot.lot_id, lot.establishment_id, lot.status, "recalled"))
    session.add_all(rows)
    session.flush()
    _set_status(session, actor, recall, changes, now)
    return list(lots)


def _add_recipients(session: Session, recall: Recall, shipments: Iterable[AffectedShipment]) -> int:
    rows = [
        RecallRecipient(
            recall_id=recall.id,
            shipment_id=shipment.id,
            name=shipment.recipient_name,
            address=shipment.recipient_address,
        )
        for shipment in shipments
    ]
    session.add_all(rows)
    return len(rows)


def _affected_establishment_ids(session: Session, recall: Recall) -> set[uuid.UUID]:
    ids = set(
        session.scalars(
            select(RecallLot.establishment_id).where(RecallLot.recall_id == recall.id).distinct()
        )
    )
    ids.update(
        session.scalars(
            select(Shipment.recipient_establishment_id)
            .join(RecallRecipient, RecallRecipient.shipment_id == Shipment.id)
            .where(
                RecallRecipient.recall_id == recall.id,
                Shipment.recipient_establishment_id.is_not(None),
            )
            .distinct()
        )
    )
    ids.add(recall.establishment_id)
    return ids


def _recount(session: Session, recall: Recall) -> None:
    session.flush()
    recall.affected_lots = (
        session.scalar(
            select(func.count()).select_from(RecallLot).where(RecallLot.recall_id == recall.id)
        )
        or 0
    )
    recall.affected_establishments = len(_affected_establishment_ids(session, recall))


@dataclass(frozen=True)
class Refreshed:
    added_lots: int
    added_recipients: int
    notified_establishments: int


def refresh_impact(
    session: Session, *, actor: Principal, recall: Recall, now: datetime | None = None
) -> Refreshed:
    """Walk the trace again: lots made from (or received from) the recalled lots since the
    recall was opened join it and are marked recalled; new shipments' recipients join too;
    their establishments and units are told."""
    now = now or utcnow()
    _require_runs(session, actor, recall, "refresh")
    _require_open(recall)
    reached = impact(session, recall.lot_id)
    known_lots = set(
        session.scalars(select(RecallLot.lot_id).where(RecallLot.recall_id == recall.id))
    )
    known_shipments = set(
        session.scalars(
            select(RecallRecipient.shipment_id).where(RecallRecipient.recall_id == recall.id)
        )
    )
    new_lots = [lot for lot in reached.lots if lot.lot_id not in known_lots]
    new_recipients = [s for s in reached.recipients if s.id not in known_shipments]
    if not new_lots and not new_recipients:
        return Refreshed(0, 0, 0)
    _add_lots(session, actor, recall, new_lots, now)
    _add_recipients(session, recall, new_recipients)
    _recount(session, recall)
    notified = {lot.establishment_id for lot in new_lots} | {
        s.recipient_establishment_id for s in new_recipients if s.recipient_establishment_id
    }
    _notify_reached(session, recall, "recall_extended", new_lots, new_recipients)
    recall.updated_at = now  # a new version: the affected set changed
    audit.record(
        session,
        actor=actor,
        action="recall.refresh",
        entity_type="recall",
        entity_id=recall.id,
        establishment_id=recall.establishment_id,
        data={
            "number": recall.number,
            "added_lots": [lot.lot_id for lot in new_lots],
            "added_recipients": [s.id for s in new_recipients],
        },
    )
    session.flush()
    return Refreshed(len(new_lots), len(new_recipients), len(notified))
