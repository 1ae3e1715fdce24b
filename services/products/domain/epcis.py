"""GS1 EPCIS 2.0 export (JSON-LD): the way to share master data and events with the ministry
(TCVN 12850:2019 is the GS1 Global Traceability Standard; EPCIS 2.0 is its exchange format).

One `EPCISDocument` per export — for a lot (with its trace both ways), for an establishment
over a period, or for every establishment in a scope over a period — with the master data of
everything its events name in `epcisHeader.epcisMasterData.vocabularyList`.

Identifiers
- A lot is a class-level object (EPCIS `quantityList`, never serials). A product with a GTIN
  gets GS1 Digital Link URIs: `https://id.gs1.org/01/{GTIN-14}` for the product and
  `https://id.gs1.org/01/{GTIN-14}/10/{lot}` for its lots, when the lot code is a valid AI (10)
  value (at most 20 characters of GS1's character set 82). Anything else gets an HTTP URI under
  the service's own base (`PRODUCTS_URL`): `{base}/id/product/{uuid}`, `{base}/id/lot/{uuid}`.
  HTTP URIs (not `urn:uuid:`) because EPCIS 2.0 favours Web URIs for private identifiers and a
  future resolver can answer them; both pass the schema's `uri` format.
- An establishment (no GLN here) is `{base}/id/establishment/{uuid}`, used as the read point, the
  business location and the owning/possessing party; a customer or supplier outside the system
  is `{base}/id/party/{uuid5(owner, code or folded name)}` — the same for every shipment from one
  establishment to that customer.
- An event's `eventID` is `urn:uuid:` of a UUID5 of the row it comes from: the same event has the
  same ID in every export.

Events (times in UTC with `Z`, `eventTimeZoneOffset` +07:00, CBV 2.0 values as bare words, as
the JSON schema requires — `urn:epcglobal:cbv:…` forms are refused there)
- A diary entry (stage) → ObjectEvent at its establishment: `production` is `ADD` with bizStep
  `commissioning` and the lot's ILMD (lot number, expiry); the others `OBSERVE`: `packing` →
  packing, `storage` → storing, `shipping` → shipping, `receiving` → receiving, and
  `pre_processing`/`processing` → `other` (CBV 2.0 has no processing step; the kind is kept in
  the `trace:stageKind` extension). Voided entries are left out; shipping/receiving entries tied
  to a shipment are left to the shipment's own events.
- Lots made from other lots → TransformationEvent (bizStep `commissioning`): `input` and `merge`
  links grouped by the lot made, `split` links by the lot split.
- A shipment → ObjectEvent `shipping` (disposition `in_transit`) with owning and possessing
  party from the sender to the recipient and the shipment as a `desadv` business transaction;
  once received in the system, an ObjectEvent `receiving` at the recipient and a
  TransformationEvent from the shipped lot to the recipient's own lot. Cancelled shipments are
  left out.
- A delivery from a supplier outside the system (`lot_sources`, with its time) → ObjectEvent
  `receiving` with the supplier as source.
- Quantities: the UN/ECE Recommendation 20 code where the unit is one (kg → KGM, g → GRM,
  t/tấn → TNE, l → LTR, ml → MLT; yến and tạ as 10 and 100 KGM); otherwise no `uom`, which
  EPCIS reads as a count of items (hộp, túi, quả, …).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from services.products.domain.graph import CHUNK, walk
from services.products.models import (
    DirectoryEstablishment,
    Lot,
    LotLink,
    LotSource,
    Product,
    Shipment,
    StageEvent,
)
from shared.db import utcnow
from shared.errors import InvalidInput, NotFound
from shared.text import fold

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SCHEMA_VERSION = "2.0"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
TIME_ZONE_OFFSET = "+07:00"
MAX_PERIOD_DAYS = 366
EARLIEST, LATEST = date(1900, 1, 1), date(9998, 12, 31)
DEFAULT_BASE = "http://127.0.0.1:8000/products"
# Fixed namespace of this platform's event IDs (UUID5); never change it: IDs must stay stable.
EVENT_NAMESPACE = uuid.UUID("5d0b8a4e-3f1c-5b7e-9a2d-6c4e1f8b7a30")

VTYPE_EPC_CLASS = "urn:epcglobal:epcis:vtype:EPCClass"
VTYPE_LOCATION = "urn:epcglobal:epcis:vtype:Location"
VTYPE_PARTY = "urn:epcglobal:epcis:vtype:Party"

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
# unit (NFC, lower-case) → (UN/ECE Recommendation 20 code, factor)
UNITS: dict[str, tuple[str, Decimal]] = {
    **dict.fromkeys(
        ("kg", "kgs", "kilogram", "kilogam", "kilôgam", "ký", "kí"), ("KGM", Decimal(1))
    ),
    **dict.fromkeys(("g", "gr", "gram", "gam"), ("GRM", Decimal(1))),
    **dict.fromkeys(("t", "tấn", "ton", "tonne"), ("TNE", Decimal(1))),
    **dict.fromkeys(("l", "lít", "lit", "litre", "liter"), ("LTR", Decimal(1))),
    **dict.fromkeys(("ml", "mililít", "millilitre", "milliliter"), ("MLT", Decimal(1))),
    "yến": ("KGM", Decimal(10)),
    "tạ": ("KGM", Decimal(100)),
}
# GS1 AI (10) batch/lot: up to 20 characters of character set 82.
_AI10 = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")
_GTIN = re.compile(r"\d{8}|\d{12,14}")

Visible = Callable[[uuid.UUID], bool]
Scope = Callable[[Any], ColumnElement[bool]]


# --- identifiers --------------------------------------------------------------------------------


def base_url() -> str:
    settings = current_app.config.get("SETTINGS") if has_app_context() else None
    if settings is None:
        return DEFAULT_BASE
    return f"{settings.public_url}/products"


def gtin14(gtin: str | None) -> str | None:
    if not gtin or not _GTIN.fullmatch(gtin.strip()):
        return None
    return gtin.strip().zfill(14)


@dataclass(frozen=True)
class Ids:
    base: str

    def product(self, product: Product) -> str:
        gtin = gtin14(product.gtin)
        if gtin:
            return f"https://id.gs1.org/01/{gtin}"
        return f"{self.base}/id/product/{product.id}"

    def lot(self, lot: Lot, product: Product | None) -> str:
        gtin = gtin14(product.gtin) if product is not None else None
        if gtin and _AI10.fullmatch(lot.code):
            return f"https://id.gs1.org/01/{gtin}/10/{quote(lot.code, safe='')}"
        return f"{self.base}/id/lot/{lot.id}"

    def establishment(self, establishment_id: uuid.UUID) -> str:
        return f"{self.base}/id/establishment/{establishment_id}"

    def party(self, owner: uuid.UUID, name: str, code: str | None) -> str:
        key = f"{owner}|code:{code.strip()}" if code and code.strip() else f"{owner}|{fold(name)}"
        return f"{self.base}/id/party/{uuid.uuid5(EVENT_NAMESPACE, key)}"

    def shipment(self, shipment_id: uuid.UUID) -> str:
        return f"{self.base}/id/shipment/{shipment_id}"

    def vocabulary(self) -> str:
        return f"{self.base}/voc/"


def event_id(kind: str, key: uuid.UUID) -> str:
    return f"urn:uuid:{uuid.uuid5(EVENT_NAMESPACE, f'{kind}:{key}')}"


# --- value formats ------------------------------------------------------------------------------


def timestamp(value: datetime) -> str:
    """UTC, milliseconds, `Z`."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def quantity_element(epc_class: str, quantity: Decimal | None, unit: str | None) -> dict[str, Any]:
    """A class-level quantity; `uom` only where the unit is a UN/ECE Rec. 20 measure."""
    element: dict[str, Any] = {"epcClass": epc_class}
    if quantity is None:
        return element
    known = UNITS.get(unicodedata.normalize("NFC", unit or "").strip().lower().rstrip("."))
    if known is not None:
        code, factor = known
        element["quantity"] = _number(quantity * factor)
        element["uom"] = code
    else:
        element["quantity"] = _number(quantity)
    return element


def period(start: date, end: date) -> tuple[datetime, datetime]:
    """Calendar days `start`..`end` (both included) in Asia/Ho_Chi_Minh, as [from, to) instants;
    at most a year."""
    if end < start:
        raise InvalidInput.field(
            "to",
            "Ngày kết thúc không được trước ngày bắt đầu.",
            "The end date must not be before the start date.",
            code="invalid_period",
        )
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput.field(
            "to",
            f"Mỗi lần xuất tối đa một năm ({MAX_PERIOD_DAYS} ngày).",
            f"One export covers at most a year ({MAX_PERIOD_DAYS} days).",
            code="period_too_long",
        )
    for name, day in (("from", start), ("to", end)):
        if not EARLIEST <= day <= LATEST:
            raise InvalidInput.field(
                name,
                f"Ngày phải từ {EARLIEST:%d/%m/%Y} đến {LATEST:%d/%m/%Y}.",
                f"The date must be between {EARLIEST} and {LATEST}.",
            )
    return (
        datetime.combine(start, time(), LOCAL).astimezone(UTC),
        datetime.combine(end + timedelta(days=1), time(), LOCAL).astimezone(UTC),
    )


# --- the builder --------------------------------------------------------------------------------


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

    # events

    def _header(
        self, kind: str, eid: str, at: datetime, recorded: datetime | None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": kind,
            "eventID": eid,
            "eventTime": timestamp(at),
            "eventTimeZoneOffset": TIME_ZONE_OFFSET,
        }
        if recorded is not None:
            body["recordTime"] = timestamp(recorded)
        return body

    def stages(self, rows: Iterable[StageEvent]) -> None:
        rows = [
            s
            for s in rows
            if s.voided_at is None
            and not (s.shipment_id is not None and s.kind in {"shipping", "receiving"})
        ]
        self.load_lots(s.lot_id for s in rows)
        for stage in rows:
            lot = self.lots[stage.lot_id]
            step = BIZ_STEPS.get(stage.kind, "other")
            body = self._header(
                "ObjectEvent", event_id("stage", stage.id), stage.occurred_at, stage.created_at
            )
            body["action"] = "ADD" if stage.kind == "production" else "OBSERVE"
            body["bizStep"] = step
            if step in DISPOSITIONS:
                body["disposition"] = DISPOSITIONS[step]
            quantity, unit = stage.quantity, stage.unit
            if quantity is None and stage.kind == "production":
                quantity, unit = lot.quantity, lot.unit
            body["quantityList"] = [quantity_element(self.lot_class(lot.id), quantity, unit)]
            where = self.ids.establishment(stage.establishment_id)
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
            self.add(
                _Event(
                    stage.occurred_at,
                    body,
                    frozenset({stage.establishment_id}),
                    {lot.id},
                    {stage.establishment_id},
                )
            )

    def transformations(self, links: Sequence[LotLink]) -> None:
        """`links`: complete groups — every input/merge link into each lot made, every split
        link out of each lot split."""
        self.load_lots(
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
            place_lot = self.lots[key]
            body = self._header(
                "TransformationEvent", event_id(f"transformation-{how}", key), at, recorded
            )
            if how == "made":
                inputs = [
                    quantity_element(self.lot_class(link.source_lot_id), link.quantity, link.unit)
                    for link in members
                ]
                outputs = [
                    quantity_element(self.lot_class(key), place_lot.quantity, place_lot.unit)
                ]
                kinds = sorted({link.kind for link in members})
            else:
                total = _same_unit_total(members)
                inputs = [quantity_element(self.lot_class(key), *total)]
                outputs = [
                    quantity_element(self.lot_class(link.target_lot_id), link.quantity, link.unit)
                    for link in members
                ]
                kinds = ["split"]
            body["inputQuantityList"] = inputs
            body["outputQuantityList"] = outputs
            body["bizStep"] = "commissioning"
            body["disposition"] = "active"
            where = self.ids.establishment(place_lot.establishment_id)
            body["readPoint"] = {"id": where}
            body["bizLocation"] = {"id": where}
            body["trace:linkKind"] = ",".join(kinds)
            lots = {link.source_lot_id for link in members} | {
                link.target_lot_id for link in members
            }
            self.add(
                _Event(
                    at,
                    body,
                    frozenset({place_lot.establishment_id}),
                    lots,
                    {place_lot.establishment_id},
                )
            )

    def _recipient(self, shipment: Shipment) -> tuple[str, _Party | None]:
        if shipment.recipient_establishment_id is not None:
            return self.ids.establishment(shipment.recipient_establishment_id), None
        party = _Party(
            self.ids.party(
                shipment.establishment_id, shipment.recipient_name, shipment.recipient_code
            ),
            shipment.recipient_name,
            shipment.recipient_address,
            shipment.recipient_code,
        )
        return party.id, party

    def shipments(
        self, rows: Iterable[Shipment], *, shipping: bool = True, receiving: bool = True
    ) -> None:
        rows = [s for s in rows if s.status != "cancelled"]
        self.load_lots(
            {s.lot_id for s in rows} | {s.received_lot_id for s in rows if s.received_lot_id}
        )
        for shipment in rows:
            shipped_class = self.lot_class(shipment.lot_id)
            sender = self.ids.establishment(shipment.establishment_id)
            recipient, party = self._recipient(shipment)
            parties = {party.id} if party else set()
            if party is not None:
                self.outside[party.id] = party
            owners = {shipment.establishment_id}
            establishments = {shipment.establishment_id}
            if shipment.recipient_establishment_id is not None:
                owners.add(shipment.recipient_establishment_id)
                establishments.add(shipment.recipient_establishment_id)
            transaction = [{"type": "desadv", "bizTransaction": self.ids.shipment(shipment.id)}]
            if shipping:
                body = self._header(
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
                self.add(
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
            body = self._header(
                "ObjectEvent", event_id("receiving", shipment.id), received_at, None
            )
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
            self.add(
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
            own = self.lots[shipment.received_lot_id]
            body = self._header(
                "TransformationEvent", event_id("receipt", shipment.id), received_at, None
            )
            body["inputQuantityList"] = [quantity_element(shipped_class, quantity, shipment.unit)]
            body["outputQuantityList"] = [
                quantity_element(self.lot_class(own.id), own.quantity, own.unit)
            ]
            body["bizStep"] = "commissioning"
            body["disposition"] = "active"
            body["readPoint"] = {"id": recipient}
            body["bizLocation"] = {"id": recipient}
            body["bizTransactionList"] = transaction
            body["trace:linkKind"] = "shipment"
            self.add(
                _Event(
                    received_at,
                    body,
                    frozenset({recipient_id}),
                    {shipment.lot_id, own.id},
                    {recipient_id},
                )
            )

    def lot_sources(self, rows: Iterable[LotSource]) -> None:
        dated = [(s, s.received_at) for s in rows if s.received_at is not None]
        self.load_lots(s.lot_id for s, _ in dated)
        for source, received_at in dated:
            lot = self.lots[source.lot_id]
            supplier = _Party(
                self.ids.party(lot.establishment_id, source.supplier_name, source.supplier_code),
                source.supplier_name,
                source.supplier_address,
                source.supplier_code,
            )
            self.outside[supplier.id] = supplier
            here = self.ids.establishment(lot.establishment_id)
            body = self._header(
                "ObjectEvent", event_id("supply", source.id), received_at, source.created_at
            )
            body["action"] = "OBSERVE"
            body["bizStep"] = "receiving"
            body["disposition"] = "in_progress"
            body["quantityList"] = [
                quantity_element(self.lot_class(lot.id), source.quantity, source.unit)
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
            self.add(
                _Event(
                    received_at,
                    body,
                    frozenset({lot.establishment_id}),
                    {lot.id},
                    {lot.establishment_id},
                    {supplier.id},
                )
            )

    # the document

    def document(
        self,
        *,
        visible: Visible | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        always: set[uuid.UUID] | None = None,
    ) -> dict[str, Any]:
        """The events `visible` admits within [start, end), with the master data of what they
        name, of the lots in `extra_lots` the caller may read, and of the lots `always`."""
        events = [
            e
            for e in self.events.values()
            if (visible is None or any(visible(o) for o in e.owners))
            and (start is None or e.at >= start)
            and (end is None or e.at < end)
        ]
        events.sort(key=lambda e: (e.at, e.body["eventID"]))
        lot_ids = (
            set().union(*(e.lots for e in events))
            | {
                i
                for i in self.extra_lots
                if visible is None or visible(self.lots[i].establishment_id)
            }
            | (always or set())
        )
        self.load_lots(lot_ids)
        est_ids = set().union(*(e.establishments for e in events)) | {
            self.lots[i].establishment_id for i in lot_ids
        }
        self.load_establishments(est_ids)
        party_ids = set().union(*(e.parties for e in events))
        document: dict[str, Any] = {
            "@context": [EPCIS_CONTEXT, {"trace": self.ids.vocabulary()}],
            "type": "EPCISDocument",
            "schemaVersion": SCHEMA_VERSION,
            "creationDate": timestamp(utcnow()),
        }
        vocabularies = self._master_data(lot_ids, est_ids, party_ids)
        if vocabularies:
            document["epcisHeader"] = {"epcisMasterData": {"vocabularyList": vocabularies}}
        document["epcisBody"] = {"eventList": [e.body for e in events]}
        return document

    def _master_data(
        self, lot_ids: set[uuid.UUID], est_ids: set[uuid.UUID], party_ids: set[str]
    ) -> list[dict[str, Any]]:
        classes: list[dict[str, Any]] = []
        by_product: dict[uuid.UUID, list[Lot]] = {}
        for lot_id in lot_ids:
            lot = self.lots[lot_id]
            by_product.setdefault(lot.product_id, []).append(lot)
        for product_id in sorted(by_product, key=str):
            product = self.products[product_id]
            lots = sorted(by_product[product_id], key=lambda lot: (lot.code, str(lot.id)))
            classes.append(self._product_element(product, lots))
            classes.extend(self._lot_element(lot, product) for lot in lots)
        locations = []
        parties = []
        for est_id in sorted(est_ids, key=str):
            attributes = self._establishment_attributes(est_id)
            locations.append({"id": self.ids.establishment(est_id), "attributes": attributes})
            parties.append({"id": self.ids.establishment(est_id), "attributes": attributes})
        for party_id in sorted(party_ids):
            party = self.outside[party_id]
            attributes = [_attr("cbvmda:name", party.name)]
            if party.address:
                attributes.append(_attr("cbvmda:streetAddressOne", party.address))
            if party.code:
                attributes.append(_attr("trace:partyCode", party.code))
            parties.append({"id": party.id, "attributes": attributes})
        vocabularies = []
        for kind, elements in (
            (VTYPE_EPC_CLASS, classes),
            (VTYPE_LOCATION, locations),
            (VTYPE_PARTY, parties),
        ):
            if elements:
                vocabularies.append({"type": kind, "vocabularyElementList": elements})
        return vocabularies

    def _product_element(self, product: Product, lots: list[Lot]) -> dict[str, Any]:
        attributes = [_attr("gs1:productName", {"@value": product.name, "@language": "vi"})]
        gtin = gtin14(product.gtin)
        if gtin:
            attributes.append(_attr("gs1:gtin", gtin))
        attributes.append(_attr("trace:productCode", product.code))
        for key, value in (
            ("trace:category", product.category),
            ("trace:origin", product.origin),
            ("trace:packaging", product.packaging),
            ("trace:preservation", product.preservation),
        ):
            if value:
                attributes.append(_attr(key, value))
        if product.shelf_life_days is not None:
            attributes.append(_attr("trace:shelfLifeDays", product.shelf_life_days))
        if product.standards:
            attributes.append(_attr("trace:standards", "; ".join(product.standards)))
        if product.ocop_stars:
            attributes.append(_attr("trace:ocopStars", product.ocop_stars))
        owner = self.establishments.get(product.establishment_id)
        if owner is not None:
            attributes.append(_attr("cbvmda:manufacturerOfTradeItemPartyName", owner.name))
        attributes.append(
            _attr("trace:establishment", self.ids.establishment(product.establishment_id))
        )
        return {
            "id": self.ids.product(product),
            "attributes": attributes,
            "children": [self.ids.lot(lot, product) for lot in lots],
        }

    def _lot_element(self, lot: Lot, product: Product) -> dict[str, Any]:
        attributes = [_attr("cbvmda:lotNumber", lot.code)]
        if lot.expiry_date:
            attributes.append(_attr("cbvmda:itemExpirationDate", lot.expiry_date.isoformat()))
        if lot.production_date:
            attributes.append(_attr("trace:productionDate", lot.production_date.isoformat()))
        if lot.quantity is not None:
            attributes.append(_attr("trace:quantity", _number(lot.quantity)))
        if lot.unit:
            attributes.append(_attr("trace:unit", lot.unit))
        attributes.append(_attr("trace:lotOrigin", lot.origin))
        attributes.append(_attr("trace:status", lot.status))
        attributes.append(_attr("trace:product", self.ids.product(product)))
        attributes.append(
            _attr("trace:establishment", self.ids.establishment(lot.establishment_id))
        )
        return {"id": self.ids.lot(lot, product), "attributes": attributes}

    def _establishment_attributes(self, est_id: uuid.UUID) -> list[dict[str, Any]]:
        est = self.establishments.get(est_id)
        if est is None:
            return []
        attributes = [_attr("cbvmda:name", est.name)]
        if est.address:
            attributes.append(_attr("cbvmda:streetAddressOne", est.address))
        attributes.append(_attr("cbvmda:countryCode", "VN"))
        if est.business_registration_no:
            attributes.append(_attr("trace:businessRegistrationNo", est.business_registration_no))
        if est.certificate_no:
            attributes.append(_attr("trace:foodSafetyCertificateNo", est.certificate_no))
        return attributes


def _attr(key: str, value: Any) -> dict[str, Any]:
    return {"id": key, "attribute": value}


def _same_unit_total(links: Sequence[LotLink]) -> tuple[Decimal | None, str | None]:
    units = {(link.unit or "").strip().lower() for link in links}
    if len(units) != 1 or any(link.quantity is None for link in links):
        return None, None
    return sum((link.quantity or Decimal(0) for link in links), Decimal(0)), links[0].unit


def _complete_groups(
    session: Session, made: set[uuid.UUID], split: set[uuid.UUID]
) -> list[LotLink]:
    """Every input/merge link into the lots `made` and every split link out of the lots
    `split`, so one transformation reads the same in every export."""
    found: dict[uuid.UUID, LotLink] = {}
    for chunk in _chunks(made):
        query = select(LotLink).where(
            LotLink.target_lot_id.in_(chunk), LotLink.kind.in_(("input", "merge"))
        )
        found.update((link.id, link) for link in session.scalars(query))
    for chunk in _chunks(split):
        query = select(LotLink).where(LotLink.source_lot_id.in_(chunk), LotLink.kind == "split")
        found.update((link.id, link) for link in session.scalars(query))
    return list(found.values())


# --- exports ------------------------------------------------------------------------------------


def for_lot(
    session: Session,
    lot_id: uuid.UUID,
    include_trace: bool = True,
    *,
    visible: Visible | None = None,
    base: str | None = None,
) -> dict[str, Any]:
    """The lot's events — and, with `include_trace`, those of every lot it came from or went
    into, backward and forward to any depth — with their master data. `visible` (an
    establishment id → may the caller read its data?) keeps each establishment's own events
    to its readers; a shipment is seen by both ends."""
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound()
    lot_ids = {lot_id}
    if include_trace:
        lot_ids |= set(walk(session, lot_id, "backward").depth)
        lot_ids |= set(walk(session, lot_id, "forward").depth)
    builder = _Builder(session, Ids(base or base_url()))
    builder.load_lots(lot_ids)
    builder.extra_lots = {i for i in lot_ids if i in builder.lots}
    for chunk in _chunks(lot_ids):
        builder.stages(session.scalars(select(StageEvent).where(StageEvent.lot_id.in_(chunk))))
        builder.shipments(
            session.scalars(
                select(Shipment).where(
                    or_(Shipment.lot_id.in_(chunk), Shipment.received_lot_id.in_(chunk))
                )
            )
        )
        builder.lot_sources(session.scalars(select(LotSource).where(LotSource.lot_id.in_(chunk))))
    made: set[uuid.UUID] = set()
    split: set[uuid.UUID] = set()
    for chunk in _chunks(lot_ids):
        touching = select(LotLink).where(
            or_(LotLink.source_lot_id.in_(chunk), LotLink.target_lot_id.in_(chunk)),
            LotLink.kind != "shipment",
        )
        for link in session.scalars(touching):
            if link.kind == "split":
                split.add(link.source_lot_id)
            else:
                made.add(link.target_lot_id)
    builder.transformations(_complete_groups(session, made, split))
    return builder.document(visible=visible, always={lot_id})


def _collect_period(
    session: Session, where: Scope | None, start: datetime, end: datetime, base: str | None
) -> dict[str, Any]:
    def scoped(column: Any) -> ColumnElement[bool]:
        return where(column) if where is not None else true()

    builder = _Builder(session, Ids(base or base_url()))
    builder.stages(
        session.scalars(
            select(StageEvent).where(
                scoped(StageEvent.establishment_id),
                StageEvent.occurred_at >= start,
                StageEvent.occurred_at < end,
                StageEvent.voided_at.is_(None),
            )
        )
    )
    builder.shipments(
        session.scalars(
            select(Shipment).where(
                scoped(Shipment.establishment_id),
                Shipment.shipped_at >= start,
                Shipment.shipped_at < end,
            )
        ),
        receiving=False,
    )
    builder.shipments(
        session.scalars(
            select(Shipment).where(
                scoped(Shipment.recipient_establishment_id),
                Shipment.received_at >= start,
                Shipment.received_at < end,
            )
        ),
        shipping=False,
    )
    builder.lot_sources(
        session.scalars(
            select(LotSource)
            .join(Lot, Lot.id == LotSource.lot_id)
            .where(
                scoped(Lot.establishment_id),
                LotSource.received_at >= start,
                LotSource.received_at < end,
            )
        )
    )
    # Transformations: groups with a link in the period at an establishment in scope; the
    # group's time (its latest link) decides.
    made: set[uuid.UUID] = set()
    split: set[uuid.UUID] = set()
    link_time = LotLink.occurred_at
    in_window = or_(
        and_(link_time.is_not(None), link_time >= start, link_time < end),
        and_(link_time.is_(None), LotLink.created_at >= start, LotLink.created_at < end),
    )
    made.update(
        session.scalars(
            select(LotLink.target_lot_id)
            .join(Lot, Lot.id == LotLink.target_lot_id)
            .where(scoped(Lot.establishment_id), LotLink.kind.in_(("input", "merge")), in_window)
        )
    )
    split.update(
        session.scalars(
            select(LotLink.source_lot_id)
            .join(Lot, Lot.id == LotLink.source_lot_id)
            .where(scoped(Lot.establishment_id), LotLink.kind == "split", in_window)
        )
    )
    builder.transformations(_complete_groups(session, made, split))
    return builder.document(start=start, end=end)


def for_establishment(
    session: Session,
    establishment_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    base: str | None = None,
) -> dict[str, Any]:
    """What happened at one establishment in [start, end): its diary, the transformations of
    its lots, its shipments, its receipts, its deliveries from outside suppliers."""
    return _collect_period(session, lambda column: column == establishment_id, start, end, base)


def for_period(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    where: Scope | None = None,
    base: str | None = None,
) -> dict[str, Any]:
    """What happened at every establishment `where` admits (a clause on an establishment id
    column, e.g. `scope.scope_filter`; None for all) in [start, end) — the report to the
    ministry."""
    return _collect_period(session, where, start, end, base)
