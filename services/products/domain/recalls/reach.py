"""What a recall of a lot reaches: the lots of its forward trace (in any establishment), the
establishments holding them, and the shipments whose recipients must be told. Opening a recall
and refreshing it both start here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.domain import graph
from services.products.domain.recalls.steps import _chunks
from services.products.models import Lot, Shipment


@dataclass(frozen=True)
class AffectedLot:
    lot_id: uuid.UUID
    establishment_id: uuid.UUID
    depth: int
    status: str


@dataclass
class Impact:
    """What the forward trace of a lot reaches: the lots (the start first, then by distance),
    the establishments in the system (the start's first), and the shipments to recipients
    still to be told — customers outside the system, and establishments inside it that have
    not received the goods into a lot yet."""

    lot_id: uuid.UUID
    lots: list[AffectedLot] = field(default_factory=list)
    establishments: list[uuid.UUID] = field(default_factory=list)
    recipients: list[Shipment] = field(default_factory=list)

    @property
    def outside_recipients(self) -> list[Shipment]:
        return [s for s in self.recipients if s.recipient_establishment_id is None]


def impact(session: Session, lot_id: uuid.UUID) -> Impact:
    walked = graph.walk(session, lot_id, "forward")
    ids = list(walked.depth)
    found: dict[uuid.UUID, tuple[uuid.UUID, str]] = {}
    for chunk in _chunks(ids):
        for row_id, establishment_id, status in session.execute(
            select(Lot.id, Lot.establishment_id, Lot.status).where(Lot.id.in_(chunk))
        ):
            found[row_id] = (establishment_id, status)
    result = Impact(lot_id)
    for reached in sorted(ids, key=lambda i: walked.depth[i]):  # stable: BFS order per level
        if reached in found:
            establishment_id, status = found[reached]
            result.lots.append(
                AffectedLot(reached, establishment_id, walked.depth[reached], status)
            )
    establishments = dict.fromkeys(lot.establishment_id for lot in result.lots)
    reached_ids = set(found)
    for chunk in _chunks(ids):
        shipments = session.scalars(
            select(Shipment)
            .where(Shipment.lot_id.in_(chunk), Shipment.status != "cancelled")
            .order_by(Shipment.shipped_at, Shipment.id)
        )
        for shipment in shipments:
            if shipment.recipient_establishment_id is None:
                result.recipients.append(shipment)
            elif shipment.received_lot_id is None or shipment.received_lot_id not in reached_ids:
                result.recipients.append(shipment)
                establishments.setdefault(shipment.recipient_establishment_id)
    result.recipients.sort(key=lambda s: (s.shipped_at, str(s.id)))
    result.establishments = list(establishments)
    return result
