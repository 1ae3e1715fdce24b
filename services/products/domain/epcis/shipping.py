"""A shipment's events: shipping from the sender to its recipient (in the system or outside
it), and once received in the system, receiving at the recipient and the transformation of
the shipped lot into the recipient's own."""

from __future__ import annotations

from collections.abc import Iterable

from services.products.domain.epcis.events import _Builder, _Event, _header, _Party
from services.products.domain.epcis.formats import quantity_element
from services.products.domain.epcis.identifiers import event_id
from services.products.models import Shipment


def _recipient(builder: _Builder, shipment: Shipment) -> tuple[str, _Party | None]:
    if shipment.recipient_establishment_id is not None:
        return builder.ids.establishment(shipment.recipient_establishment_id), None
    party = _Party(
        builder.ids.party(
            shipment.establishment_id, shipment.recipient_name, shipment.recipient_code
        ),
        shipment.recipient_name,
        shipment.recipient_address,
        shipment.recipient_code,
    )
    return party.id, party


def shipments(
    builder: _Builder, rows: Iterable[Shipment], *, shipping: bool = True, receiving: bool = True
) -> None:
    rows = [s for s in rows if s.status != "cancelled"]
    builder.load_lots(
        {s.lot_id for s in rows} | {s.received_lot_id for s in rows if s.received_lot_id}
    )
    for shipment in rows:
        shipped_class = builder.lot_class(shipment.lot_id)
        sender = builder.ids.establishment(shipment.establishment_id)
        recipient, party = _recipient(builder, shipment)
        parties = {party.id} if party else set()
        if party is not None:
            builder.outside[party.id] = party
        owners = {shipment.establishment_id}
        establishments = {shipment.establishment_id}
        if shipment.recipient_establishment_id is not None:
            owners.add(shipment.recipient_establishment_id)
            establishments.add(shipment.recipient_establishment_id)
        transaction = [{"type": "desadv", "bizTransaction": builder.ids.shipment(shipment.id)}]
        if shipping:
            body = _header(
                "ObjectEvent",
                event_id("shipping", shipment.id),
                shipment.shipped_at,
                shipment.created_at,
            )
            body["action"] = "OBSERVE"
            body["bizStep"] = "shipping"
            body["disposition"] = "in_transit"
            body["quantityList"] = [
                quantity_element(shipped_class, shipment.quantity, shipment.unit)
            ]
            body["readPoint"] = {"id": sender}
            body["bizTransactionList"] = transaction
            body["sourceList"] = [
                {"type": "owning_party", "source": sender},
                {"type": "possessing_party", "source": sender},
                {"type": "location", "source": sender},
            ]
            destinations = [
                {"type": "owning_party", "destination": recipient},
                {"type": "possessing_party", "destination": recipient},
            ]
            if shipment.recipient_establishment_id is not None:
                destinations.append({"type": "location", "destination": recipient})
            body["destinationList"] = destinations
            if shipment.place:
                body["trace:place"] = shipment.place
            builder.add(
                _Event(
                    shipment.shipped_at,
                    body,
                    frozenset(owners),
                    {shipment.lot_id},
                    set(establishments),
                    parties,
                )
            )
        received_at = shipment.received_at
        if not (
            receiving
            and shipment.status == "received"
            and received_at is not None
            and shipment.recipient_establishment_id is not None
        ):
            continue
        recipient_id = shipment.recipient_establishment_id
        quantity = (
            shipment.received_quantity
            if shipment.received_quantity is not None
            else shipment.quantity
        )
        body = _header("ObjectEvent", event_id("receiving", shipment.id), received_at, None)
        body["action"] = "OBSERVE"
        body["bizStep"] = "receiving"
        body["disposition"] = "in_progress"
        body["quantityList"] = [quantity_element(shipped_class, quantity, shipment.unit)]
        body["readPoint"] = {"id": recipient}
        body["bizLocation"] = {"id": recipient}
        body["bizTransactionList"] = transaction
        body["sourceList"] = [
            {"type": "owning_party", "source": sender},
            {"type": "possessing_party", "source": sender},
        ]
        body["destinationList"] = [
            {"type": "owning_party", "destination": recipient},
            {"type": "possessing_party", "destination": recipient},
        ]
        if shipment.received_place:
            body["trace:place"] = shipment.received_place
        builder.add(
            _Event(
                received_at,
                body,
                frozenset(owners),
                {shipment.lot_id},
                set(establishments),
            )
        )
        if shipment.received_lot_id is None:
            continue
        own = builder.lots[shipment.received_lot_id]
        body = _header("TransformationEvent", event_id("receipt", shipment.id), received_at, None)
        body["inputQuantityList"] = [quantity_element(shipped_class, quantity, shipment.unit)]
        body["outputQuantityList"] = [
            quantity_element(builder.lot_class(own.id), own.quantity, own.unit)
        ]
        body["bizStep"] = "commissioning"
        body["disposition"] = "active"
        body["readPoint"] = {"id": recipient}
        body["bizLocation"] = {"id": recipient}
        body["bizTransactionList"] = transaction
        body["trace:linkKind"] = "shipment"
        builder.add(
            _Event(
                received_at,
                body,
                frozenset({recipient_id}),
                {shipment.lot_id, own.id},
                {recipient_id},
            )
        )
