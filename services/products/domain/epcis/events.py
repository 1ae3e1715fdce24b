"""The events of an export other than a shipment's (those are in `shipping`): diary entries,
transformations of lots into lots, deliveries from suppliers outside the system — and the
`_Builder` that collects them with the lots, establishments and parties they name."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.domain.epcis.formats import TIME_ZONE_OFFSET, quantity_element, timestamp
from services.products.domain.epcis.identifiers import Ids, event_id
from services.products.domain.graph import CHUNK
from services.products.models import (
    DirectoryEstablishment,
    Lot,
    LotLink,
    LotSource,
    Product,
    StageEvent,
)

BIZ_STEPS = {
    "production": "commissioning",
    "pre_processing": "other",
    "processing": "other",
    "packing": "packing",
    "storage": "storing",
    "shipping": "shipping",
    "receiving": "receiving",
}
DISPOSITIONS = {
    "commissioning": "active",
    "shipping": "in_transit",
    "receiving": "in_progress",
}


@dataclass
class _Event:
    at: datetime
    body: dict[str, Any]
    owners: frozenset[uuid.UUID]  # establishments whose readers may see it
    lots: set[uuid.UUID] = field(default_factory=set)
    establishments: set[uuid.UUID] = field(default_factory=set)
    parties: set[str] = field(default_factory=set)


@dataclass
class _Party:
    id: str
    name: str
    address: str | None
    code: str | None


def _chunks(ids: Iterable[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    items = list(ids)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


class _Builder:
    """The events of one export, by ID, and the lots, products, establishments and outside
    parties they name, each loaded once."""

    def __init__(self, session: Session, ids: Ids) -> None:
        self.session = session
        self.ids = ids
        self.lots: dict[uuid.UUID, Lot] = {}
        self.products: dict[uuid.UUID, Product] = {}
        self.establishments: dict[uuid.UUID, DirectoryEstablishment] = {}
        self.outside: dict[str, _Party] = {}
        self.events: dict[str, _Event] = {}
        self.extra_lots: set[uuid.UUID] = set()  # master data wanted without an event

    # loading

    def load_lots(self, lot_ids: Iterable[uuid.UUID]) -> None:
        missing = {i for i in lot_ids if i not in self.lots}
        for chunk in _chunks(missing):
            for lot in self.session.scalars(select(Lot).where(Lot.id.in_(chunk))):
                self.lots[lot.id] = lot
        wanted = {lot.product_id for lot in self.lots.values()} - set(self.products)
        for chunk in _chunks(wanted):
            for product in self.session.scalars(select(Product).where(Product.id.in_(chunk))):
                self.products[product.id] = product

    def load_establishments(self, ids: Iterable[uuid.UUID]) -> None:
        missing = {i for i in ids if i not in self.establishments}
        for chunk in _chunks(missing):
            query = select(DirectoryEstablishment).where(DirectoryEstablishment.id.in_(chunk))
            for est in self.session.scalars(query):
                self.establishments[est.id] = est

    def lot_class(self, lot_id: uuid.UUID) -> str:
        lot = self.lots[lot_id]
        return self.ids.lot(lot, self.products.get(lot.product_id))

    def add(self, event: _Event) -> None:
        self.events[event.body["eventID"]] = event


def _header(kind: str, eid: str, at: datetime, recorded: datetime | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": kind,
        "eventID": eid,
        "eventTime": timestamp(at),
        "eventTimeZoneOffset": TIME_ZONE_OFFSET,
    }
    if recorded is not None:
        body["recordTime"] = timestamp(recorded)
    return body


def stages(builder: _Builder, rows: Iterable[StageEvent]) -> None:
    rows = [
        s
        for s in rows
        if s.voided_at is None
        and not (s.shipment_id is not None and s.kind in {"shipping", "receiving"})
    ]
    builder.load_lots(s.lot_id for s in rows)
    for stage in rows:
        lot = builder.lots[stage.lot_id]
        step = BIZ_STEPS.get(stage.kind, "other")
        body = _header(
            "ObjectEvent", event_id("stage", stage.id), stage.occurred_at, stage.created_at
        )
        body["action"] = "ADD" if stage.kind == "production" else "OBSERVE"
        body["bizStep"] = step
        if step in DISPOSITIONS:
            body["disposition"] = DISPOSITIONS[step]
        quantity, unit = stage.quantity, stage.unit
        if quantity is None and stage.kind == "production":
            quantity, unit = lot.quantity, lot.unit
        body["quantityList"] = [quantity_element(builder.lot_class(lot.id), quantity, unit)]
        where = builder.ids.establishment(stage.establishment_id)
        body["readPoint"] = {"id": where}
        if step != "shipping":
            body["bizLocation"] = {"id": where}
        if stage.kind == "production":
            ilmd: dict[str, Any] = {"cbvmda:lotNumber": lot.code}
            if lot.expiry_date:
                ilmd["cbvmda:itemExpirationDate"] = lot.expiry_date.isoformat()
            body["ilmd"] = ilmd
        body["trace:stageKind"] = stage.kind
        for key, value in (
            ("trace:place", stage.place),
            ("trace:placeCode", stage.place_code),
            ("trace:actor", stage.actor),
        ):
            if value:
                body[key] = value
        builder.add(
            _Event(
                stage.occurred_at,
                body,
                frozenset({stage.establishment_id}),
                {lot.id},
                {stage.establishment_id},
            )
        )


def transformations(builder: _Builder, links: Sequence[LotLink]) -> None:
    """`links`: complete groups — every input/merge link into each lot made, every split
    link out of each lot split."""
    builder.load_lots(
        {link.source_lot_id for link in links} | {link.target_lot_id for link in links}
    )
    groups: dict[tuple[str, uuid.UUID], list[LotLink]] = {}
    for link in links:
        if link.kind in {"input", "merge"}:
            groups.setdefault(("made", link.target_lot_id), []).append(link)
        elif link.kind == "split":
            groups.setdefault(("split", link.source_lot_id), []).append(link)
    for (how, key), members in groups.items():
        members.sort(key=lambda link: (link.created_at, str(link.id)))
        at = max(link.occurred_at or link.created_at for link in members)
        recorded = max(link.created_at for link in members)
        place_lot = builder.lots[key]
        body = _header("TransformationEvent", event_id(f"transformation-{how}", key), at, recorded)
        if how == "made":
            inputs = [
                quantity_element(builder.lot_class(link.source_lot_id), link.quantity, link.unit)
                for link in members
            ]
            outputs = [quantity_element(builder.lot_class(key), place_lot.quantity, place_lot.unit)]
            kinds = sorted({link.kind for link in members})
        else:
            total = _same_unit_total(members)
            inputs = [quantity_element(builder.lot_class(key), *total)]
            outputs = [
                quantity_element(builder.lot_class(link.target_lot_id), link.quantity, link.unit)
                for link in members
            ]
            kinds = ["split"]
        body["inputQuantityList"] = inputs
        body["outputQuantityList"] = outputs
        body["bizStep"] = "commissioning"
        body["disposition"] = "active"
        where = builder.ids.establishment(place_lot.establishment_id)
        body["readPoint"] = {"id": where}
        body["bizLocation"] = {"id": where}
        body["trace:linkKind"] = ",".join(kinds)
        lots = {link.source_lot_id for link in members} | {link.target_lot_id for link in members}
        builder.add(
            _Event(
                at,
                body,
                frozenset({place_lot.establishment_id}),
                lots,
                {place_lot.establishment_id},
            )
        )


def _same_unit_total(links: Sequence[LotLink]) -> tuple[Decimal | None, str | None]:
    units = {(link.unit or "").strip().lower() for link in links}
    if len(units) != 1 or any(link.quantity is None for link in links):
        return None, None
    return sum((link.quantity or Decimal(0) for link in links), Decimal(0)), links[0].unit


def lot_sources(builder: _Builder, rows: Iterable[LotSource]) -> None:
    dated = [(s, s.received_at) for s in rows if s.received_at is not None]
    builder.load_lots(s.lot_id for s, _ in dated)
    for source, received_at in dated:
        lot = builder.lots[source.lot_id]
        supplier = _Party(
            builder.ids.party(lot.establishment_id, source.supplier_name, source.supplier_code),
            source.supplier_name,
            source.supplier_address,
            source.supplier_code,
        )
        builder.outside[supplier.id] = supplier
        here = builder.ids.establishment(lot.establishment_id)
        body = _header("ObjectEvent", event_id("supply", source.id), received_at, source.created_at)
        body["action"] = "OBSERVE"
        body["bizStep"] = "receiving"
        body["disposition"] = "in_progress"
        body["quantityList"] = [
            quantity_element(builder.lot_class(lot.id), source.quantity, source.unit)
        ]
        body["readPoint"] = {"id": here}
        body["bizLocation"] = {"id": here}
        body["sourceList"] = [
            {"type": "owning_party", "source": supplier.id},
            {"type": "possessing_party", "source": supplier.id},
        ]
        body["destinationList"] = [
            {"type": "owning_party", "destination": here},
            {"type": "possessing_party", "destination": here},
        ]
        for key, value in (
            ("trace:supplierLotCode", source.supplier_lot_code),
            ("trace:supplierProductName", source.product_name),
            ("trace:place", source.place),
        ):
            if value:
                body[key] = value
        builder.add(
            _Event(
                received_at,
                body,
                frozenset({lot.establishment_id}),
                {lot.id},
                {lot.establishment_id},
                {supplier.id},
            )
        )
