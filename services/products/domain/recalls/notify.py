"""Telling the establishments a recall reaches, and the unit managing each, that it was opened,
extended, closed or cancelled (`Notification` rows in Vietnamese and English). Reading and
marking them read is `services.products.domain.notifications`."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.domain.recalls.reach import AffectedLot, AffectedShipment
from services.products.domain.recalls.steps import KIND_NAMES, _chunks
from services.products.models import (
    DirectoryEstablishment,
    Lot,
    Notification,
    Product,
    Recall,
    RecallLot,
    RecallRecipient,
    Shipment,
)
from shared.errors import Message


def _clip(value: str, limit: int) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _lot_labels(session: Session, lot_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """`code (product name)` of each lot."""
    ids = list(dict.fromkeys(lot_ids))
    labels: dict[uuid.UUID, str] = {}
    for chunk in _chunks(ids):
        for lot_id, code, product in session.execute(
            select(Lot.id, Lot.code, Product.name)
            .join(Product, Product.id == Lot.product_id)
            .where(Lot.id.in_(chunk))
        ):
            labels[lot_id] = f"{code} ({_clip(product, 80)})"
    return labels


def _directory(
    session: Session, establishment_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, DirectoryEstablishment]:
    ids = list(dict.fromkeys(establishment_ids))
    found: dict[uuid.UUID, DirectoryEstablishment] = {}
    for chunk in _chunks(ids):
        for row in session.scalars(
            select(DirectoryEstablishment).where(DirectoryEstablishment.id.in_(chunk))
        ):
            found[row.id] = row
    return found


def _titles(kind: str, recall: Recall, lot: str, reason: str) -> tuple[Message, Message]:
    """(to the establishment, to its managing unit); the unit's has `{name}` to fill."""
    number = recall.number
    if kind == "recall_cancelled":
        return (
            Message(
                f"Đã hủy đợt thu hồi {number}; lô {lot} trở lại trạng thái trước. Lý do: {reason}",
                f"Recall {number} was cancelled; lot {lot} is back to its former status. "
                f"Reason: {reason}",
            ),
            Message(
                f"Đã hủy đợt thu hồi {number} (cơ sở {{name}}, lô {lot}). Lý do: {reason}",
                f"Recall {number} was cancelled (establishment {{name}}, lot {lot}). "
                f"Reason: {reason}",
            ),
        )
    if kind == "recall_closed":
        return (
            Message(
                f"Đợt thu hồi {number} (lô {lot}) đã kết thúc: cơ quan có thẩm quyền đã quyết "
                f"định việc xử lý. {reason}",
                f"Recall {number} (lot {lot}) is closed: the authority decided on the handling. "
                f"{reason}",
            ),
            Message(
                f"Đợt thu hồi {number} (cơ sở {{name}}, lô {lot}) đã kết thúc. {reason}",
                f"Recall {number} (establishment {{name}}, lot {lot}) is closed. {reason}",
            ),
        )
    kind_name = KIND_NAMES[recall.kind]
    return (
        Message(
            f"Thu hồi {kind_name['vi']} {number}: lô {lot} liên quan đến cơ sở của bạn phải "
            f"thu hồi. Lý do: {reason}",
            f"{kind_name['en'].capitalize()} recall {number}: lot {lot}, which concerns your "
            f"establishment, must be recalled. Reason: {reason}",
        ),
        Message(
            f"Thu hồi {kind_name['vi']} {number}: cơ sở {{name}} trong phạm vi quản lý có lô "
            f"{lot} phải thu hồi. Lý do: {reason}",
            f"{kind_name['en'].capitalize()} recall {number}: establishment {{name}} in your "
            f"scope has lot {lot} to recall. Reason: {reason}",
        ),
    )


def _notify(
    session: Session,
    recall: Recall,
    kind: str,
    targets: dict[uuid.UUID, uuid.UUID],
    reason: str,
) -> int:
    """One notification per establishment in `targets` (establishment → the lot it concerns)
    and one to the unit managing each."""
    if not targets:
        return 0
    labels = _lot_labels(session, targets.values())
    directory = _directory(session, targets)
    short_reason = _clip(reason, 200)
    rows: list[Notification] = []
    for establishment_id, lot_id in targets.items():
        to_establishment, to_unit = _titles(
            kind, recall, labels.get(lot_id, str(lot_id)), short_reason
        )
        rows.append(
            Notification(
                establishment_id=establishment_id,
                unit_id=None,
                kind=kind,
                recall_id=recall.id,
                lot_id=lot_id,
                title_vi=_clip(to_establishment["vi"], 500),
                title_en=_clip(to_establishment["en"], 500),
            )
        )
        known = directory.get(establishment_id)
        if known is not None:
            name = _clip(known.name, 120)
            rows.append(
                Notification(
                    establishment_id=establishment_id,
                    unit_id=known.unit_id,
                    kind=kind,
                    recall_id=recall.id,
                    lot_id=lot_id,
                    title_vi=_clip(to_unit["vi"].replace("{name}", name), 500),
                    title_en=_clip(to_unit["en"].replace("{name}", name), 500),
                )
            )
    session.add_all(rows)
    return len(rows)


def _notify_reached(
    session: Session,
    recall: Recall,
    kind: str,
    lots: Sequence[AffectedLot],
    recipients: Sequence[AffectedShipment],
) -> int:
    targets: dict[uuid.UUID, uuid.UUID] = {}
    for lot in lots:  # the nearest lot of each establishment
        targets.setdefault(lot.establishment_id, lot.lot_id)
    for shipment in recipients:  # goods on their way to an establishment in the system
        if shipment.recipient_establishment_id is not None:
            targets.setdefault(shipment.recipient_establishment_id, shipment.lot_id)
    return _notify(session, recall, kind, targets, recall.reason)


def _all_targets(session: Session, recall: Recall) -> dict[uuid.UUID, uuid.UUID]:
    targets: dict[uuid.UUID, uuid.UUID] = {}
    for establishment_id, lot_id in session.execute(
        select(RecallLot.establishment_id, RecallLot.lot_id)
        .where(RecallLot.recall_id == recall.id)
        .order_by(RecallLot.depth, RecallLot.lot_id)
    ):
        targets.setdefault(establishment_id, lot_id)
    for recipient_id, sent_lot_id in session.execute(
        select(Shipment.recipient_establishment_id, Shipment.lot_id)
        .join(RecallRecipient, RecallRecipient.shipment_id == Shipment.id)
        .where(
            RecallRecipient.recall_id == recall.id,
            Shipment.recipient_establishment_id.is_not(None),
        )
    ):
        if recipient_id is not None:
            targets.setdefault(recipient_id, sent_lot_id)
    return targets
