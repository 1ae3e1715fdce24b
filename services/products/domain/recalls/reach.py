"""What a recall of a lot reaches: the lots of its forward trace (in any establishment), the
establishments holding them, and the shipments whose recipients must be told. Opening a recall
and refreshing it both start here.

A recall of a processor's lot reaches ten thousand lots at province scale, so everything here
is read as plain rows with ids as text (`graph.Statement`), not as ORM objects: building ten
thousand of those costs several times the walk itself. Only what the result keeps becomes a
`uuid.UUID`, each distinct id once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.domain import graph
from services.products.models import Lot, Shipment


class AffectedLot(NamedTuple):
    lot_id: uuid.UUID
    establishment_id: uuid.UUID
    depth: int
    status: str


class AffectedShipment(NamedTuple):
    """A shipment of a reached lot whose recipient must be told: a customer outside the
    system (`recipient_establishment_id` None), or an establishment inside it that has not
    received the goods into a reached lot. Named as the `Shipment` columns it copies."""

    id: uuid.UUID
    lot_id: uuid.UUID
    recipient_establishment_id: uuid.UUID | None
    recipient_name: str
    recipient_address: str | None
    shipped_at: datetime


@dataclass
class Impact:
    """What the forward trace of a lot reaches: the lots (the start first, then by distance),
    the establishments in the system (the start's first), and the shipments to recipients
    still to be told — customers outside the system, and establishments inside it that have
    not received the goods into a lot yet."""

    lot_id: uuid.UUID
    lots: list[AffectedLot] = field(default_factory=list)
    establishments: list[uuid.UUID] = field(default_factory=list)
    recipients: list[AffectedShipment] = field(default_factory=list)

    @property
    def outside_recipients(self) -> list[AffectedShipment]:
        return [s for s in self.recipients if s.recipient_establishment_id is None]


_LOTS = graph.Statement(
    lambda dialect: select(
        graph.text_id(dialect, Lot.id),
        graph.text_id(dialect, Lot.establishment_id),
        Lot.status,
    ).where(graph.ids_in(dialect, Lot.id))
)
_SHIPMENTS = graph.Statement(
    lambda dialect: select(
        graph.text_id(dialect, Shipment.id),
        graph.text_id(dialect, Shipment.lot_id),
        graph.text_id(dialect, Shipment.recipient_establishment_id),
        Shipment.recipient_name,
        Shipment.recipient_address,
        graph.utc_time(dialect, Shipment.shipped_at),
        graph.text_id(dialect, Shipment.received_lot_id),
    ).where(graph.ids_in(dialect, Shipment.lot_id), Shipment.status != "cancelled")
)


class _Ids(dict[str, uuid.UUID]):
    """Text ids to UUIDs, each made once (a province's ten thousand lots share a few
    hundred establishments)."""

    def __missing__(self, key: str) -> uuid.UUID:
        value = self[key] = uuid.UUID(key)
        return value


def impact(session: Session, lot_id: uuid.UUID) -> Impact:
    depth = graph.distances(session, lot_id, "forward")  # breadth-first: by distance
    found: dict[str, tuple[str, str]] = {
        lot: (establishment, status)
        for lot, establishment, status in _LOTS.rows_in(session, depth.keys())
    }
    ids = _Ids()
    result = Impact(lot_id)
    lots = result.lots
    for lot, level in depth.items():
        row = found.get(lot)
        if row is not None:
            lots.append(AffectedLot(uuid.UUID(lot), ids[row[0]], level, row[1]))
    establishments: dict[uuid.UUID, None] = dict.fromkeys(lot.establishment_id for lot in lots)
    shipments: list[tuple[Any, ...]] = []
    for row in _SHIPMENTS.rows_in(session, depth.keys()):
        recipient, into = row[2], row[6]
        # Received into a reached lot: a movement inside the graph, already a lot here.
        if recipient is None or into is None or into not in found:
            shipments.append(row)
    shipments.sort(key=lambda row: (row[5], row[0]))
    for shipment, lot, recipient, name, address, at, _ in shipments:
        to = None if recipient is None else ids[recipient]
        result.recipients.append(
            AffectedShipment(
                uuid.UUID(shipment), ids[lot], to, name, address, at.replace(tzinfo=UTC)
            )
        )
        if to is not None:
            establishments.setdefault(to)
    result.establishments = list(establishments)
    return result
