"""The GS1 EPCIS 2.0 export: every document validates against GS1's published JSON schema
(fetched from the npm registry once per machine, see tests/products/epcis_schema.py), carries
the data the Circulars ask for, and is shown only to those who may read it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from services.products.domain import epcis
from services.products.models import Lot, LotSource, Product, Shipment, StageEvent
from tests.products import epcis_schema
from tests.products.factories import LinkFactory, LotFactory, ProductFactory, StageFactory

pytestmark = pytest.mark.smoke

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = "http://127.0.0.1:8000/products"
GTIN = "8938500000012"  # GTIN-13; exported as GTIN-14 with a leading zero
ROLES = ("admin", "agency_a", "agency_b", "owner_a", "owner_a2", "owner_b", "anonymous")


def product(**values: Any) -> Product:
    return cast(Product, ProductFactory(**values))


def lot(**values: Any) -> Lot:
    return cast(Lot, LotFactory(**values))


def stage(**values: Any) -> StageEvent:
    return cast(StageEvent, StageFactory(**values))


def at(day: int, hour: int = 8, minute: int = 0) -> datetime:
    """A time in March 2025, Vietnam time, as stored (UTC)."""
    return datetime(2025, 3, day, hour, minute, tzinfo=LOCAL).astimezone(UTC)


@pytest.fixture(scope="session")
def schema() -> dict[str, Any]:
    return epcis_schema.load_schema()


@dataclass
class Chain:
    """HTX Chè (est_a) grows two lots of tea leaves, blends them (a merge), ships part of the
    blend to est_a2 — which receives it into a lot of its own — and part to a supermarket
    outside the system; est_b makes vermicelli on its own."""

    tea: Product
    leaf1: Lot
    leaf2: Lot
    blend: Lot
    received: Lot
    vermicelli: Lot
    to_a2: Shipment
    to_shop: Shipment
    supply: LotSource
    voided_id: uuid.UUID


@pytest.fixture
def chain(pworld: Any, psession: Any) -> Chain:
    est_a, est_a2, est_b = pworld.est_a.id, pworld.est_a2.id, pworld.est_b.id
    tea = product(establishment_id=est_a, name="Chè xanh Đường Hoa", gtin=GTIN, category="Chè")
    leaf1 = lot(product=tea, code="CH-2503-01", quantity=Decimal("100"), unit="kg")
    leaf2 = lot(product=tea, code="CH-2503-02", quantity=Decimal("50"), unit="kg")
    blend = lot(product=tea, code="CH-2503-TR", quantity=Decimal("100"), origin="merged")
    StageFactory(lot_id=leaf1.id, establishment_id=est_a, kind="production", occurred_at=at(1))
    StageFactory(
        lot_id=leaf1.id,
        establishment_id=est_a,
        kind="pre_processing",
        occurred_at=at(2),
        quantity=Decimal("95"),
        unit="kg",
        place_code="XSC-01",
    )
    voided = stage(
        lot_id=leaf1.id,
        establishment_id=est_a,
        kind="storage",
        occurred_at=at(2, 12),
        voided_at=at(2, 13),
        voided_reason="Ghi nhầm lô",
    )
    StageFactory(
        lot_id=leaf2.id,
        establishment_id=est_a,
        kind="production",
        occurred_at=at(1, 9),
        quantity=Decimal("0.05"),
        unit="tấn",
    )
    LinkFactory(
        source_lot_id=leaf1.id,
        target_lot_id=blend.id,
        kind="merge",
        quantity=Decimal("60"),
        unit="kg",
        occurred_at=at(3),
    )
    LinkFactory(
        source_lot_id=leaf2.id,
        target_lot_id=blend.id,
        kind="merge",
        quantity=Decimal("40"),
        unit="kg",
        occurred_at=at(3),
    )
    StageFactory(lot_id=blend.id, establishment_id=est_a, kind="packing", occurred_at=at(3, 14))
    supply = LotSource(
        lot_id=leaf2.id,
        supplier_name="Tổ hợp tác chè Quảng Lâm",
        supplier_address="Xã Quảng Lâm, Đầm Hà",
        supplier_code="NCC-07",
        supplier_lot_code="QL-11",
        quantity=Decimal("10"),
        unit="kg",
        received_at=at(1, 7),
    )
    psession.add(supply)

    product_a2 = product(establishment_id=est_a2, name="Chè túi lọc", gtin=None)
    received = lot(product=product_a2, code="NHAN-01", quantity=Decimal("29.5"), origin="received")
    to_a2 = Shipment(
        lot_id=blend.id,
        establishment_id=est_a,
        recipient_establishment_id=est_a2,
        recipient_name=pworld.est_a2.name,
        quantity=Decimal("30"),
        unit="kg",
        shipped_at=at(4),
        place="Kho HTX",
        status="received",
        received_lot_id=received.id,
        received_at=at(5),
        received_quantity=Decimal("29.5"),
    )
    to_shop = Shipment(
        lot_id=blend.id,
        establishment_id=est_a,
        recipient_name="Siêu thị Hạ Long",
        recipient_address="Phường Hồng Gai, Hạ Long",
        recipient_code="KH-01",
        quantity=Decimal("200"),
        unit="hộp",
        shipped_at=at(6),
    )
    cancelled = Shipment(
        lot_id=blend.id,
        establishment_id=est_a,
        recipient_name="Khách huỷ",
        quantity=Decimal("1"),
        unit="kg",
        shipped_at=at(6, 9),
        status="cancelled",
    )
    psession.add_all([to_a2, to_shop, cancelled])
    psession.flush()
    LinkFactory(
        source_lot_id=blend.id,
        target_lot_id=received.id,
        kind="shipment",
        quantity=Decimal("29.5"),
        unit="kg",
        occurred_at=at(5),
        shipment_id=to_a2.id,
    )
    StageFactory(
        lot_id=blend.id,
        establishment_id=est_a,
        kind="shipping",
        occurred_at=at(4),
        shipment_id=to_a2.id,
    )
    StageFactory(lot_id=received.id, establishment_id=est_a2, kind="storage", occurred_at=at(5, 10))

    noodles = product(establishment_id=est_b, name="Miến dong Bình Liêu", gtin=None)
    vermicelli = lot(product=noodles, code="MD-01")
    StageFactory(lot_id=vermicelli.id, establishment_id=est_b, kind="production", occurred_at=at(2))
    psession.commit()
    return Chain(tea, leaf1, leaf2, blend, received, vermicelli, to_a2, to_shop, supply, voided.id)


def get(pclient: Any, pworld: Any, who: str, path: str, **query: Any) -> Any:
    return pclient.get(f"/api/v1/epcis{path}", headers=pworld.headers(who), query_string=query)


def events(document: dict[str, Any]) -> list[dict[str, Any]]:
    return list(document["epcisBody"]["eventList"])


def vocabulary(document: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    for vocab in (
        document.get("epcisHeader", {}).get("epcisMasterData", {}).get("vocabularyList", [])
    ):
        if vocab["type"] == kind:
            return {e["id"]: e for e in vocab["vocabularyElementList"]}
    return {}


def attrs(element: dict[str, Any]) -> dict[str, Any]:
    return {a["id"]: a.get("attribute") for a in element.get("attributes", [])}


def lot_uri(lot: Lot) -> str:
    return f"{BASE}/id/lot/{lot.id}"


def est_uri(est_id: uuid.UUID) -> str:
    return f"{BASE}/id/establishment/{est_id}"


def by_step(document: dict[str, Any], step: str, kind: str = "ObjectEvent") -> list[dict[str, Any]]:
    return [e for e in events(document) if e["type"] == kind and e.get("bizStep") == step]


def check(document: dict[str, Any], schema: dict[str, Any]) -> None:
    """Valid against GS1's schema, with the EPCIS context, unique event IDs, ordered times."""
    assert schema["$id"] == epcis_schema.SCHEMA_ID
    epcis_schema.validate(document)
    assert document["type"] == "EPCISDocument"
    assert document["schemaVersion"] == "2.0"
    ids = [e["eventID"] for e in events(document)]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("urn:uuid:") for i in ids)
    times = [e["eventTime"] for e in events(document)]
    assert times == sorted(times)
    for event in events(document):
        assert event["eventTime"].endswith("Z")
        assert event["eventTimeZoneOffset"] == "+07:00"


# --- the lot document ---------------------------------------------------------------------------


def test_lot_document_with_its_trace(pclient: Any, pworld: Any, chain: Chain, schema: Any) -> None:
    response = get(pclient, pworld, "admin", f"/lots/{chain.blend.id}")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    document = response.get_json()
    check(document, schema)
    assert document["@context"][0] == epcis.EPCIS_CONTEXT
    leaf1 = f"https://id.gs1.org/01/0{GTIN}/10/CH-2503-01"
    leaf2 = f"https://id.gs1.org/01/0{GTIN}/10/CH-2503-02"
    blend = f"https://id.gs1.org/01/0{GTIN}/10/CH-2503-TR"

    # production: ADD, commissioning, the lot's quantity (kg → KGM) and ILMD
    production = by_step(document, "commissioning")
    first = next(e for e in production if e["quantityList"][0]["epcClass"] == leaf1)
    assert first["action"] == "ADD"
    assert first["quantityList"] == [{"epcClass": leaf1, "quantity": 100, "uom": "KGM"}]
    assert first["ilmd"]["cbvmda:lotNumber"] == "CH-2503-01"
    assert first["readPoint"] == first["bizLocation"] == {"id": est_uri(pworld.est_a.id)}
    second = next(e for e in production if e["quantityList"][0]["epcClass"] == leaf2)
    assert second["quantityList"] == [{"epcClass": leaf2, "quantity": 0.05, "uom": "TNE"}]
    # pre-processing: OBSERVE, no CBV step of its own
    other = by_step(document, "other")
    assert len(other) == 1
    assert other[0]["action"] == "OBSERVE"
    assert other[0]["trace:stageKind"] == "pre_processing"
    assert other[0]["trace:placeCode"] == "XSC-01"
    assert other[0]["quantityList"] == [{"epcClass": leaf1, "quantity": 95, "uom": "KGM"}]
    # the voided entry and the cancelled shipment are not there; the diary's shipping entry is
    # told by the shipment's own event
    assert epcis.event_id("stage", chain.voided_id) not in {e["eventID"] for e in events(document)}
    [storing] = by_step(document, "storing")  # est_a2's, of the lot it received
    assert storing["quantityList"] == [{"epcClass": lot_uri(chain.received)}]
    assert len(by_step(document, "shipping")) == 2

    # the merge: one transformation, both inputs, the blend out
    merge = by_step(document, "commissioning", "TransformationEvent")
    made = next(e for e in merge if e["trace:linkKind"] == "merge")
    assert sorted(made["inputQuantityList"], key=lambda q: q["epcClass"]) == [
        {"epcClass": leaf1, "quantity": 60, "uom": "KGM"},
        {"epcClass": leaf2, "quantity": 40, "uom": "KGM"},
    ]
    assert made["outputQuantityList"] == [{"epcClass": blend, "quantity": 100, "uom": "KGM"}]

    # shipped within the system, and received into est_a2's own lot (no GTIN: platform URI)
    sender, recipient = est_uri(pworld.est_a.id), est_uri(pworld.est_a2.id)
    [ship] = [
        e for e in events(document) if e["eventID"] == epcis.event_id("shipping", chain.to_a2.id)
    ]
    assert ship["disposition"] == "in_transit"
    assert ship["quantityList"] == [{"epcClass": blend, "quantity": 30, "uom": "KGM"}]
    assert {"type": "owning_party", "source": sender} in ship["sourceList"]
    assert {"type": "owning_party", "destination": recipient} in ship["destinationList"]
    assert {"type": "possessing_party", "destination": recipient} in ship["destinationList"]
    assert "bizLocation" not in ship
    [receiving] = [e for e in by_step(document, "receiving") if "bizTransactionList" in e]
    assert receiving["readPoint"] == receiving["bizLocation"] == {"id": recipient}
    assert receiving["quantityList"] == [{"epcClass": blend, "quantity": 29.5, "uom": "KGM"}]
    assert receiving["bizTransactionList"] == ship["bizTransactionList"]
    receipt = next(e for e in merge if e["trace:linkKind"] == "shipment")
    assert receipt["outputQuantityList"][0]["epcClass"] == lot_uri(chain.received)

    # shipped to a customer outside the system: a party of its own, boxes counted (no uom)
    shop = next(e for e in by_step(document, "shipping") if e is not ship)
    assert shop["quantityList"] == [{"epcClass": blend, "quantity": 200}]
    customer = shop["destinationList"][0]["destination"]
    assert customer.startswith(f"{BASE}/id/party/")
    assert {d["type"] for d in shop["destinationList"]} == {"owning_party", "possessing_party"}

    # master data: the product with its GTIN, its lots, the places and the parties
    classes = vocabulary(document, epcis.VTYPE_EPC_CLASS)
    product = attrs(classes[f"https://id.gs1.org/01/0{GTIN}"])
    assert product["gs1:gtin"] == f"0{GTIN}"
    assert product["gs1:productName"] == {"@value": "Chè xanh Đường Hoa", "@language": "vi"}
    assert product["trace:category"] == "Chè"
    assert set(classes[f"https://id.gs1.org/01/0{GTIN}"]["children"]) == {leaf1, leaf2, blend}
    assert attrs(classes[blend])["cbvmda:lotNumber"] == "CH-2503-TR"
    assert lot_uri(chain.received) in classes
    assert lot_uri(chain.vermicelli) not in classes
    locations = vocabulary(document, epcis.VTYPE_LOCATION)
    assert attrs(locations[sender])["cbvmda:name"] == "HTX Chè Đường Hoa"
    assert attrs(locations[sender])["cbvmda:streetAddressOne"].startswith("Thôn 1")
    parties = vocabulary(document, epcis.VTYPE_PARTY)
    assert attrs(parties[customer])["cbvmda:name"] == "Siêu thị Hạ Long"
    assert attrs(parties[customer])["trace:partyCode"] == "KH-01"
    # every class, place and party an event names is described
    named = set()
    for event in events(document):
        for key in ("quantityList", "inputQuantityList", "outputQuantityList"):
            named |= {q["epcClass"] for q in event.get(key, [])}
    assert named <= set(classes)
    # the supplier outside the system, one step back
    [supply] = [
        e for e in events(document) if e["eventID"] == epcis.event_id("supply", chain.supply.id)
    ]
    assert attrs(parties[supply["sourceList"][0]["source"]])["cbvmda:name"].startswith("Tổ hợp")
    assert supply["trace:supplierLotCode"] == "QL-11"


def test_event_ids_are_stable(pclient: Any, pworld: Any, chain: Chain, schema: Any) -> None:
    first = get(pclient, pworld, "admin", f"/lots/{chain.blend.id}").get_json()
    again = get(pclient, pworld, "admin", f"/lots/{chain.leaf1.id}").get_json()
    shared = {e["eventID"]: e for e in events(again)}
    for event in events(first):
        if event["eventID"] in shared:
            assert event == shared[event["eventID"]]
    # leaf1 reaches the blend and what became of it, not leaf2's own life
    assert set(shared) < {e["eventID"] for e in events(first)}
    assert len(shared) == 9


def test_lot_document_without_the_trace(
    pclient: Any, pworld: Any, chain: Chain, schema: Any
) -> None:
    document = get(pclient, pworld, "owner_a", f"/lots/{chain.leaf1.id}", trace="false").get_json()
    check(document, schema)
    kinds = sorted((e["type"], e["bizStep"]) for e in events(document))
    # its production, its pre-processing, the merge it went into; nothing of the blend's life
    assert kinds == [
        ("ObjectEvent", "commissioning"),
        ("ObjectEvent", "other"),
        ("TransformationEvent", "commissioning"),
    ]


def test_a_recipient_sees_the_shipment_not_the_senders_diary(
    pclient: Any, pworld: Any, chain: Chain, schema: Any
) -> None:
    response = get(pclient, pworld, "owner_a2", f"/lots/{chain.blend.id}")
    assert response.status_code == 200
    document = response.get_json()
    check(document, schema)
    steps = sorted((e["type"], e["bizStep"], e.get("trace:linkKind", "")) for e in events(document))
    assert steps == [
        ("ObjectEvent", "receiving", ""),
        ("ObjectEvent", "shipping", ""),
        ("ObjectEvent", "storing", ""),
        ("TransformationEvent", "commissioning", "shipment"),
    ]
    # one step back: the lot, its product and the sender are described
    classes = vocabulary(document, epcis.VTYPE_EPC_CLASS)
    assert f"https://id.gs1.org/01/0{GTIN}/10/CH-2503-TR" in classes
    assert est_uri(pworld.est_a.id) in vocabulary(document, epcis.VTYPE_LOCATION)


# --- periods ------------------------------------------------------------------------------------


def test_establishment_document_over_a_period(
    pclient: Any, pworld: Any, chain: Chain, schema: Any
) -> None:
    path = f"/establishments/{pworld.est_a2.id}"
    document = get(pclient, pworld, "owner_a2", path, **{"from": "2025-03-01", "to": "2025-03-31"})
    assert document.status_code == 200
    document = document.get_json()
    check(document, schema)
    steps = sorted((e["type"], e["bizStep"]) for e in events(document))
    # its receipt (and the lot it made of it) and its own diary — not est_a's shipping
    assert steps == [
        ("ObjectEvent", "receiving"),
        ("ObjectEvent", "storing"),
        ("TransformationEvent", "commissioning"),
    ]
    # a period that ends before the receipt
    early = get(pclient, pworld, "owner_a2", path, **{"from": "2025-03-01", "to": "2025-03-04"})
    check(early.get_json(), schema)
    assert events(early.get_json()) == []

    sender = get(
        pclient,
        pworld,
        "agency_a",
        f"/establishments/{pworld.est_a.id}",
        **{"from": "2025-03-01", "to": "2025-03-31"},
    ).get_json()
    check(sender, schema)
    assert len(by_step(sender, "shipping")) == 2
    # its one receipt is the delivery from the supplier outside the system
    [supply] = by_step(sender, "receiving")
    assert supply["eventID"] == epcis.event_id("supply", chain.supply.id)


def test_period_days_are_vietnam_days(psession: Any, pworld: Any, chain: Chain) -> None:
    late = datetime(2025, 3, 31, 23, 30, tzinfo=LOCAL)
    StageFactory(
        lot_id=chain.blend.id, establishment_id=pworld.est_a.id, kind="storage", occurred_at=late
    )
    StageFactory(
        lot_id=chain.blend.id,
        establishment_id=pworld.est_a.id,
        kind="storage",
        occurred_at=late + timedelta(hours=1),
    )
    psession.flush()
    start, end = epcis.period(date(2025, 3, 31), date(2025, 3, 31))
    assert start == datetime(2025, 3, 30, 17, tzinfo=UTC)
    assert end == datetime(2025, 3, 31, 17, tzinfo=UTC)
    document = epcis.for_establishment(psession, pworld.est_a.id, start, end, base=BASE)
    assert [e["eventTime"] for e in events(document)] == ["2025-03-31T16:30:00.000Z"]


def test_events_for_the_ministry_by_scope(
    pclient: Any, pworld: Any, chain: Chain, schema: Any
) -> None:
    period = {"from": "2025-03-01", "to": "2025-03-31"}
    seen: dict[str, set[str]] = {}
    for who in ("admin", "agency_a", "agency_b", "owner_a", "owner_a2", "owner_b"):
        response = get(pclient, pworld, who, "/events", **period)
        assert response.status_code == 200, who
        document = response.get_json()
        check(document, schema)
        seen[who] = {(e.get("bizLocation") or e["readPoint"])["id"] for e in events(document)}
    a, a2, b = (est_uri(pworld.est_a.id), est_uri(pworld.est_a2.id), est_uri(pworld.est_b.id))
    assert seen["admin"] == {a, a2, b}
    assert seen["agency_a"] == {a, a2}
    assert seen["agency_b"] == {b}
    assert seen["owner_a"] == {a}
    assert seen["owner_a2"] == {a2}
    assert seen["owner_b"] == {b}
    whole = get(pclient, pworld, "admin", "/events", **period).get_json()
    # admin's report: every event of every establishment, the cancelled shipment excepted
    assert len(by_step(whole, "shipping")) == 2
    assert len(events(whole)) == 12


# --- who may export what ------------------------------------------------------------------------

EXPECTED = {
    # path key → status per role, in ROLES order
    "lot_a": (200, 200, 404, 200, 200, 404, 401),  # est_a's blend, shipped to est_a2
    "lot_b": (200, 404, 200, 404, 404, 200, 401),
    "est_a": (200, 200, 404, 200, 404, 404, 401),
    "est_b": (200, 404, 200, 404, 404, 200, 401),
    "events": (200, 200, 200, 200, 200, 200, 401),
}


@pytest.mark.parametrize("target", sorted(EXPECTED))
def test_authorisation_for_every_role(
    pclient: Any, pworld: Any, chain: Chain, schema: Any, target: str
) -> None:
    period = {"from": "2025-03-01", "to": "2025-03-31"}
    paths = {
        "lot_a": (f"/lots/{chain.blend.id}", {}),
        "lot_b": (f"/lots/{chain.vermicelli.id}", {}),
        "est_a": (f"/establishments/{pworld.est_a.id}", period),
        "est_b": (f"/establishments/{pworld.est_b.id}", period),
        "events": ("/events", period),
    }
    path, query = paths[target]
    for who, expected in zip(ROLES, EXPECTED[target], strict=True):
        response = get(pclient, pworld, who, path, **query)
        assert response.status_code == expected, (who, response.get_json())
        if expected == 200:
            check(response.get_json(), schema)
        else:
            assert response.mimetype == "application/problem+json"


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"to": "2025-03-31"}, "from", "validation_error"),
        ({"from": "2025-03-01"}, "to", "validation_error"),
        ({"from": "2025-13-01", "to": "2025-03-31"}, "from", "validation_error"),
        ({"from": "2025-03-31", "to": "2025-03-01"}, "to", "invalid_period"),
        ({"from": "2024-01-01", "to": "2025-01-01"}, "to", "period_too_long"),
        ({"from": "9998-12-31", "to": "9999-01-01"}, "to", "validation_error"),
        ({"from": "0001-01-01", "to": "0001-01-02"}, "from", "validation_error"),
    ],
)
def test_bad_periods(
    pclient: Any, pworld: Any, query: dict[str, str], field: str, code: str
) -> None:
    for path in ("/events", f"/establishments/{pworld.est_a.id}"):
        response = get(pclient, pworld, "admin", path, **query)
        assert response.status_code == 422, response.get_json()
        body = response.get_json()
        assert body["code"] == code
        [message] = body["errors"][field]
        assert message["vi"]
        assert message["en"]


def test_a_year_is_the_longest_period(pclient: Any, pworld: Any, schema: Any) -> None:
    response = get(
        pclient, pworld, "admin", "/events", **{"from": "2024-01-01", "to": "2024-12-31"}
    )
    assert response.status_code == 200
    check(response.get_json(), schema)


def test_unknown_things_are_not_found(pclient: Any, pworld: Any) -> None:
    period = {"from": "2025-03-01", "to": "2025-03-31"}
    assert get(pclient, pworld, "admin", f"/lots/{uuid.uuid4()}").status_code == 404
    assert get(pclient, pworld, "admin", "/lots/not-a-uuid").status_code == 404
    assert (
        get(pclient, pworld, "admin", f"/establishments/{uuid.uuid4()}", **period).status_code
        == 404
    )
    response = get(pclient, pworld, "admin", f"/lots/{uuid.uuid4()}", trace="maybe")
    assert response.status_code == 422
    assert "trace" in response.get_json()["errors"]


# --- identifiers and quantities -----------------------------------------------------------------


def test_identifiers() -> None:
    ids = epcis.Ids(BASE)
    tea = Product(id=uuid.uuid4(), gtin="8938500000012")
    assert ids.product(tea) == "https://id.gs1.org/01/08938500000012"
    batch = Lot(id=uuid.uuid4(), code="A/B 1")  # a space is outside GS1's character set 82
    assert ids.lot(batch, tea) == f"{BASE}/id/lot/{batch.id}"
    batch.code = "A/B-1"
    assert ids.lot(batch, tea) == "https://id.gs1.org/01/08938500000012/10/A%2FB-1"
    batch.code = "LÔ-01"  # Vietnamese letters are not AI (10) characters
    assert ids.lot(batch, tea) == f"{BASE}/id/lot/{batch.id}"
    batch.code = "X" * 21
    assert ids.lot(batch, tea) == f"{BASE}/id/lot/{batch.id}"
    assert ids.product(Product(id=batch.id, gtin=None)) == f"{BASE}/id/product/{batch.id}"
    assert epcis.gtin14("12345678") == "00000012345678"
    assert epcis.gtin14("89385000000") is None
    owner = uuid.uuid4()
    assert ids.party(owner, "Siêu thị  Hạ Long", None) == ids.party(owner, "siêu thị hạ long", None)
    assert ids.party(owner, "A", "KH-01") == ids.party(owner, "B", "KH-01")
    assert ids.party(owner, "A", None) != ids.party(uuid.uuid4(), "A", None)


@pytest.mark.parametrize(
    ("quantity", "unit", "expected"),
    [
        ("12.5", "kg", {"quantity": 12.5, "uom": "KGM"}),
        ("500", "g", {"quantity": 500, "uom": "GRM"}),
        ("2", "Tấn", {"quantity": 2, "uom": "TNE"}),
        ("3", "t", {"quantity": 3, "uom": "TNE"}),
        ("1.5", "l", {"quantity": 1.5, "uom": "LTR"}),
        ("250", "ml", {"quantity": 250, "uom": "MLT"}),
        ("2", "tạ", {"quantity": 200, "uom": "KGM"}),
        ("30", "hộp", {"quantity": 30}),
        ("7", None, {"quantity": 7}),
        (None, "kg", {}),
    ],
)
def test_quantities(quantity: str | None, unit: str | None, expected: dict[str, Any]) -> None:
    value = Decimal(quantity) if quantity is not None else None
    assert epcis.quantity_element("urn:x", value, unit) == {"epcClass": "urn:x", **expected}


def test_the_schema_refuses_what_it_should(schema: Any) -> None:
    """The validator is not a rubber stamp: the CBV URN forms, unknown members, local times
    and URIs with spaces are refused."""
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:6f0e5b1c-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        "eventTime": "2025-03-01T01:00:00.000Z",
        "eventTimeZoneOffset": "+07:00",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "quantityList": [{"epcClass": f"{BASE}/id/lot/1", "quantity": 1}],
    }
    good: dict[str, Any] = {
        "@context": [epcis.EPCIS_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-01T00:00:00.000Z",
        "epcisBody": {"eventList": [event]},
    }
    assert epcis_schema.errors(good) == []
    for key, value in (
        ("bizStep", "urn:epcglobal:cbv:bizstep:shipping"),
        ("eventTime", "2025-03-01T08:00:00"),
        ("readPoint", {"id": "not a uri"}),
        ("somethingElse", 1),
        ("action", "UPDATE"),
    ):
        broken = {**event, key: value}
        document = {**good, "epcisBody": {"eventList": [broken]}}
        assert epcis_schema.errors(document), key
