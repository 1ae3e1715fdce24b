"""Trace through the domain: hand-built graphs (split, merge, diamond, cycle, across
establishments, deep chains), a seeded random graph checked against a brute-force walk, the
tree for drawing, and what an establishment may see of others' lots."""

from __future__ import annotations

import itertools
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.products.domain import graph
from services.products.domain.trace import TraceResult, trace, tree
from services.products.models import LotLink, LotSource, Product, Shipment
from services.products.schemas.trace import (
    ExternalRecipientOut,
    ExternalSupplierOut,
    TraceEdgeOut,
    TraceNodeOut,
    TraceOut,
    dump_tree,
    trace_body,
    trace_json,
)
from shared.auth import Principal
from shared.errors import NotFound
from tests.products.factories import LinkFactory, LotFactory, ProductFactory

pytestmark = pytest.mark.smoke

ADMIN = Principal(role="admin", username="admin")
T0 = datetime(2026, 3, 1, 1, 30, tzinfo=UTC)


@dataclass
class Builder:
    """Lots and links of a test graph, by short names."""

    session: Any
    world: Any
    products: dict[str, Product] = field(default_factory=dict)
    lots: dict[str, Any] = field(default_factory=dict)
    clock: int = 0

    def product(self, owner: str) -> Product:
        if owner not in self.products:
            establishment = getattr(self.world, f"est_{owner}")
            made: Any = ProductFactory(
                establishment_id=establishment.id, name=f"Sản phẩm của {establishment.name}"
            )
            self.products[owner] = made
        return self.products[owner]

    def lot(self, name: str, owner: str = "a", **values: Any) -> Any:
        self.lots[name] = LotFactory(product=self.product(owner), code=name, **values)
        return self.lots[name]

    def link(self, source: str, target: str, kind: str = "input", **values: Any) -> LotLink:
        self.clock += 1
        values.setdefault("occurred_at", T0 + timedelta(hours=self.clock))
        made: Any = LinkFactory(
            source_lot_id=self.lots[source].id,
            target_lot_id=self.lots[target].id,
            kind=kind,
            **values,
        )
        return made

    def chain(self, *names: str, kind: str = "input") -> None:
        for source, target in itertools.pairwise(names):
            self.link(source, target, kind)

    def supplier(self, lot: str, name: str, **values: Any) -> LotSource:
        source = LotSource(
            id=uuid.uuid4(),
            lot_id=self.lots[lot].id,
            supplier_name=name,
            supplier_address=values.pop("address", "Thôn 3, xã Quảng Lâm"),
            supplier_code=values.pop("code", "NCC-01"),
            supplier_lot_code=values.pop("lot_code", "NCC-L1"),
            product_name=values.pop("product_name", "Chè búp tươi"),
            quantity=values.pop("quantity", Decimal("250")),
            unit="kg",
            received_at=values.pop("received_at", T0 - timedelta(days=1)),
            place=values.pop("place", "Kho xã Quảng Tân"),
            **values,
        )
        self.session.add(source)
        self.session.flush()
        return source

    def ship(self, lot: str, name: str, *, to: str | None = None, **values: Any) -> Shipment:
        shipped_lot = self.lots[lot]
        recipient = getattr(self.world, f"est_{to}") if to else None
        shipment = Shipment(
            id=uuid.uuid4(),
            lot_id=shipped_lot.id,
            establishment_id=shipped_lot.establishment_id,
            recipient_establishment_id=recipient.id if recipient else None,
            recipient_name=name,
            recipient_address=values.pop("address", "Chợ Đầm Hà"),
            recipient_code=values.pop("code", None),
            quantity=values.pop("quantity", Decimal("20")),
            unit="kg",
            shipped_at=values.pop("shipped_at", T0 + timedelta(days=2)),
            place=values.pop("place", "Cổng kho"),
            status=values.pop("status", "sent"),
            **values,
        )
        self.session.add(shipment)
        self.session.flush()
        return shipment

    def id(self, name: str) -> uuid.UUID:
        return self.lots[name].id

    def names(self, ids: Any) -> set[str]:
        # Walks key lots by UUID; traces by their text form.
        by_id = {key: name for name, lot in self.lots.items() for key in (lot.id, str(lot.id))}
        return {by_id[i] for i in ids}


@pytest.fixture
def g(psession: Any, pworld: Any) -> Builder:
    return Builder(psession, pworld)


def depths(result: TraceResult, g: Builder, which: str = "depth") -> dict[str, int | None]:
    by_id = {str(lot.id): name for name, lot in g.lots.items()}
    return {by_id[n.lot_id]: getattr(n, which) for n in result.nodes}


def edge_names(result: TraceResult, g: Builder) -> set[tuple[str, str]]:
    by_id = {str(lot.id): name for name, lot in g.lots.items()}
    return {(by_id[e.source_lot_id], by_id[e.target_lot_id]) for e in result.edges}


# --- shapes -------------------------------------------------------------------------------------


def test_a_split_reaches_every_part_and_each_part_its_whole(g: Builder, psession: Any) -> None:
    g.lot("A")
    for part in ("A-1", "A-2", "A-3"):
        g.lot(part, origin="split")
        g.link("A", part, "split", quantity=Decimal("33.333"))
    forward = trace(psession, ADMIN, g.id("A"), "forward")
    assert depths(forward, g) == {"A": 0, "A-1": 1, "A-2": 1, "A-3": 1}
    assert {e.kind for e in forward.edges} == {"split"}
    assert {e.quantity for e in forward.edges} == {Decimal("33.333")}
    assert forward.nodes[0].lot_id == str(g.id("A"))
    assert forward.nodes[0].direction == "start"

    backward = trace(psession, ADMIN, g.id("A-2"), "backward")
    assert depths(backward, g) == {"A-2": 0, "A": 1}
    assert edge_names(backward, g) == {("A", "A-2")}


def test_a_merge_reaches_every_input(g: Builder, psession: Any) -> None:
    for name in ("B1", "B2", "B3", "M"):
        g.lot(name)
    for name in ("B1", "B2", "B3"):
        g.link(name, "M", "merge")
    assert depths(trace(psession, ADMIN, g.id("M"), "backward"), g) == {
        "M": 0,
        "B1": 1,
        "B2": 1,
        "B3": 1,
    }
    both = trace(psession, ADMIN, g.id("B1"))
    # Forward from one input reaches the merged lot, but not the other inputs (they are
    # neither its origin nor its recipients).
    assert depths(both, g) == {"B1": 0, "M": 1}


def test_a_diamond_reaches_the_far_corner_once(g: Builder, psession: Any) -> None:
    for name in "ABCD":
        g.lot(name)
    g.link("A", "B", "split")
    g.link("A", "C", "split")
    g.link("B", "D", "merge")
    g.link("C", "D", "merge")
    result = trace(psession, ADMIN, g.id("A"), "forward")
    assert depths(result, g) == {"A": 0, "B": 1, "C": 1, "D": 2}
    assert len(result.edges) == 4
    assert [e.depth for e in result.edges] == [1, 1, 2, 2]

    root = tree(result, "forward")
    full, refs = _tree_census(root)
    assert sorted(g.names(full)) == ["A", "B", "C", "D"]
    assert g.names(refs) == {"D"}
    assert len(refs) == 1


def test_a_cycle_in_bad_data_terminates(g: Builder, psession: Any) -> None:
    for name in "ABC":
        g.lot(name)
    g.chain("A", "B", "C", "A")
    forward = trace(psession, ADMIN, g.id("A"), "forward")
    assert depths(forward, g) == {"A": 0, "B": 1, "C": 2}
    assert edge_names(forward, g) == {("A", "B"), ("B", "C"), ("C", "A")}

    both = trace(psession, ADMIN, g.id("A"))
    assert depths(both, g, "direction") == {"A": "start", "B": "both", "C": "both"}
    assert depths(both, g, "backward_depth") == {"A": 0, "B": 2, "C": 1}
    assert depths(both, g, "forward_depth") == {"A": 0, "B": 1, "C": 2}
    assert len(both.edges) == 3  # each movement once, though both walks crossed it
    assert {e.direction for e in both.edges} == {"both"}
    assert {e.depth for e in both.edges} == {1, 2}  # min of the two walks' steps

    for direction in ("backward", "forward"):
        full, refs = _tree_census(tree(both, direction))
        assert sorted(g.names(full)) == ["A", "B", "C"]
        assert g.names(refs) == {"A"}  # the edge back to the start is a reference

    # The recall's walk, too.
    walked = graph.walk(psession, g.id("B"), "forward")
    assert g.names(walked.depth) == {"A", "B", "C"}
    assert len(walked.links) == 3


def test_a_self_loop_and_duplicate_links(g: Builder, psession: Any) -> None:
    g.lot("A")
    g.lot("B")
    g.link("A", "A")
    g.link("A", "B")
    g.link("A", "B", "shipment")
    result = trace(psession, ADMIN, g.id("A"))
    assert depths(result, g) == {"A": 0, "B": 1}
    assert len(result.edges) == 3


def test_a_deep_chain_is_walked_to_the_end(g: Builder, psession: Any) -> None:
    names = [f"D{i:03d}" for i in range(300)]
    for name in names:
        g.lot(name)
    g.chain(*names)
    result = trace(psession, ADMIN, g.id("D000"), "forward")
    assert len(result.nodes) == 300
    assert depths(result, g)["D299"] == 299
    back = trace(psession, ADMIN, g.id("D299"), "backward")
    assert depths(back, g)["D000"] == 299

    limited = graph.walk(psession, g.id("D000"), "forward", max_depth=10)
    assert max(limited.depth.values()) == 10
    assert len(limited.links) == 10

    # The tree is cut where asked, and says so.
    root = tree(result, "forward", max_depth=20)
    node, level = root, 0
    while node["children"]:
        node, level = node["children"][0], level + 1
    assert level == 20
    assert node["truncated"] is True


def test_lots_and_movements_come_in_the_documented_order(g: Builder, psession: Any) -> None:
    """Lots by how they were reached, distance, code (as Python compares text, whatever the
    database's collation) and id; movements by how, step, time (unknown first) and id — the
    database returns them sorted, so this holds the trace to the sort it no longer does."""
    same_time = T0 + timedelta(days=1)
    for name, owner in (("S", "a"), ("b1", "a"), ("B1", "b"), ("Đ1", "a"), ("a1", "a2")):
        g.lot(name, owner)
    g.lots["x1"] = LotFactory(product=g.product("b"), code="b1")  # the code of another's lot
    g.lot("U", "a")
    g.lot("V", "b")
    for target in ("b1", "B1", "Đ1", "a1", "x1"):
        g.link("S", target, occurred_at=same_time)
    g.link("a1", "S", occurred_at=None)  # a cycle through the start: crossed both ways
    g.link("U", "S", occurred_at=None)
    g.link("V", "S", occurred_at=same_time)
    g.link("V", "U")
    owner = Principal(role="establishment", username="a", establishment_id=g.world.est_a.id)
    for who in (ADMIN, owner):
        result = trace(psession, who, g.id("S"))
        order = {"start": 0, "backward": 1, "both": 2, "forward": 3}
        epoch = datetime(1, 1, 1, tzinfo=UTC)
        assert [n.lot_id for n in result.nodes] == [
            n.lot_id
            for n in sorted(
                result.nodes, key=lambda n: (order[n.direction], n.depth, n.code, n.lot_id)
            )
        ]
        assert [e.id for e in result.edges] == [
            e.id
            for e in sorted(
                result.edges,
                key=lambda e: (order[e.direction], e.depth, e.occurred_at or epoch, e.id),
            )
        ]
        assert [n.code for n in result.nodes if n.direction == "forward"] == [
            "B1",
            "b1",
            "b1",
            "Đ1",
        ]
    for direction in ("backward", "forward"):
        one_way = trace(psession, ADMIN, g.id("S"), direction)  # type: ignore[arg-type]
        assert [e.id for e in one_way.edges] == [
            e.id
            for e in sorted(
                one_way.edges,
                key=lambda e: (e.depth, e.occurred_at or datetime.min.replace(tzinfo=UTC), e.id),
            )
        ]


def test_across_establishments_with_outside_parties(g: Builder, psession: Any) -> None:
    """est_a makes tea from an outside farm, ships to est_a2 and est_b; est_b packs it and
    sells to a shop outside the system; a consignment to est_a2 is still on its way."""
    g.lot("TEA", "a")
    g.lot("A2-IN", "a2", origin="received")
    g.lot("B-IN", "b", origin="received")
    g.lot("B-PACK", "b", origin="processed")
    g.supplier("TEA", "Hộ ông Lý Văn Sáng", quantity=Decimal("300"))
    to_a2 = g.ship("TEA", "Công ty Chế biến Hải sản Đầm Hà", to="a2", status="received")
    to_b = g.ship("TEA", "Cơ sở Miến dong Bình Liêu", to="b", status="received")
    g.link("TEA", "A2-IN", "shipment", shipment_id=to_a2.id, quantity=Decimal("40"))
    g.link("TEA", "B-IN", "shipment", shipment_id=to_b.id, quantity=Decimal("60"))
    g.link("B-IN", "B-PACK", "input", quantity=Decimal("59.5"), place="Xưởng đóng gói")
    to_a2.received_lot_id = g.id("A2-IN")
    to_b.received_lot_id = g.id("B-IN")
    in_transit = g.ship("TEA", "Công ty Chế biến Hải sản Đầm Hà", to="a2", quantity=Decimal("5"))
    shop = g.ship("B-PACK", "Cửa hàng Minh Anh", address="Số 5 phố Chợ", code="0101234567")
    g.ship("B-PACK", "Khách hủy", status="cancelled")
    psession.flush()

    result = trace(psession, ADMIN, g.id("B-PACK"))
    assert depths(result, g) == {"B-PACK": 0, "B-IN": 1, "TEA": 2}
    assert [(s.name, s.depth) for s in result.suppliers] == [("Hộ ông Lý Văn Sáng", 3)]
    assert [(r.name, r.code, r.depth) for r in result.recipients] == [
        ("Cửa hàng Minh Anh", "0101234567", 1)
    ]
    assert result.recipients[0].shipment_id == str(shop.id)
    assert not result.redacted

    forward = trace(psession, ADMIN, g.id("TEA"), "forward")
    assert depths(forward, g) == {"TEA": 0, "A2-IN": 1, "B-IN": 1, "B-PACK": 2}
    assert {e.kind for e in forward.edges} == {"shipment", "input"}
    recipients = {r.shipment_id: r for r in forward.recipients}
    # Received consignments are movements (edges); the one in transit and the outside shop
    # leave the graph; the cancelled one never happened.
    assert set(recipients) == {str(in_transit.id), str(shop.id)}
    assert recipients[str(in_transit.id)].establishment_id == str(g.world.est_a2.id)
    assert recipients[str(in_transit.id)].code == g.world.est_a2.business_registration_no
    assert forward.suppliers == []  # suppliers are one step back only

    node = {n.code: n for n in forward.nodes}["B-PACK"]
    assert node.establishment_name == "Cơ sở Miến dong Bình Liêu"
    assert node.establishment_address == g.world.est_b.address
    assert node.establishment_code == g.world.est_b.business_registration_no
    assert node.product_code == g.products["b"].code


def test_an_establishment_sees_others_lots_as_public_cards(g: Builder, psession: Any) -> None:
    world = g.world
    g.lot("TEA", "a", quantity=Decimal("100"))
    g.lot("B-IN", "b", quantity=Decimal("60"))
    g.lot("B-PACK", "b", quantity=Decimal("59"))
    g.lot("A2-MIX", "a2", quantity=Decimal("80"))
    g.supplier("TEA", "Hộ ông Lý Văn Sáng")
    g.link("TEA", "B-IN", "shipment", quantity=Decimal("60"), place="Kho A")
    g.link("B-IN", "B-PACK", "input", quantity=Decimal("59.5"), place="Xưởng B")
    g.link("B-PACK", "A2-MIX", "shipment", quantity=Decimal("20"), place="Kho B")
    g.ship("A2-MIX", "Cửa hàng ngoài hệ thống")
    g.ship("B-PACK", "Siêu thị ngoài hệ thống")

    owner_a = Principal(role="establishment", username="a", establishment_id=world.est_a.id)
    result = trace(psession, owner_a, g.id("TEA"), "forward")
    nodes = {n.code: n for n in result.nodes}
    assert not nodes["TEA"].redacted
    assert nodes["TEA"].quantity == Decimal("100")
    for other in ("B-IN", "B-PACK", "A2-MIX"):
        card = nodes[other]
        assert card.redacted
        assert card.code == other
        assert card.product_name
        assert card.establishment_name
        assert card.establishment_address
        assert card.production_date is not None
        assert card.status == "active"
        assert (card.quantity, card.unit, card.product_code, card.establishment_code) == (
            None,
            None,
            None,
            None,
        )
    edges = {(e.kind, e.depth): e for e in result.edges}
    # A movement touching the caller's own lot is theirs to see in full…
    assert (edges["shipment", 1].quantity, edges["shipment", 1].place) == (Decimal("60"), "Kho A")
    assert not edges["shipment", 1].redacted
    # …one between two other establishments shows who and when, not how much or where.
    for key in (("input", 2), ("shipment", 3)):
        assert edges[key].redacted
        assert (edges[key].quantity, edges[key].unit, edges[key].place) == (None, None, None)
        assert edges[key].occurred_at is not None
    assert result.recipients == []
    assert result.withheld == 2
    assert result.redacted

    # The owner of the middle lot sees both sides of its own movements, and its own customer.
    owner_b = Principal(role="establishment", username="b", establishment_id=world.est_b.id)
    middle = trace(psession, owner_b, g.id("B-IN"))
    assert {e.redacted for e in middle.edges} == {False}
    assert [r.name for r in middle.recipients] == ["Siêu thị ngoài hệ thống"]
    assert middle.suppliers == []  # est_a's farm is est_a's business
    assert middle.withheld == 2

    # The agency managing the start lot, like the administrator, sees everything.
    agency_a = Principal(role="agency", username="agency", unit_id=world.unit_a.id)
    for who in (agency_a, ADMIN, Principal(role="service", username="service:reports")):
        full = trace(psession, who, g.id("TEA"), "forward")
        assert not full.redacted
        assert {n.code: n.quantity for n in full.nodes}["B-PACK"] == Decimal("59")
        assert len(full.recipients) == 2

    # An agency tracing from outside its scope (the API answers 404 before) sees only its own.
    agency_b = Principal(role="agency", username="agency", unit_id=world.unit_b.id)
    partial = trace(psession, agency_b, g.id("TEA"), "forward")
    assert {n.code for n in partial.nodes if n.redacted} == {"TEA", "A2-MIX"}


def test_the_fast_serialisers_match_the_schemas(g: Builder, psession: Any) -> None:
    """The API serialises traces without marshmallow (speed); the schemas are the contract."""
    g.lot("IN", "b", quantity=Decimal("1.5"))
    g.lot("MID", "a", quantity=Decimal("12.345"))
    g.lot("OUT", "a2", quantity=None, unit=None, production_date=None)
    g.supplier("IN", "Nông hộ", received_at=None)
    g.supplier("MID", "Đại lý")
    g.link("IN", "MID", "shipment", quantity=Decimal("1.5"), occurred_at=None)
    g.link("MID", "OUT", "split")
    g.link("OUT", "MID", "input")  # a cycle
    g.ship("OUT", "Khách lẻ", code="0101")
    g.ship("OUT", "Công ty Chế biến Hải sản Đầm Hà", to="a2")
    owner = Principal(role="establishment", username="a", establishment_id=g.world.est_a.id)
    for who in (ADMIN, owner):
        result = trace(psession, who, g.id("MID"))
        assert trace_json(result) == TraceOut().dump(trace_body(result))
        for direction in ("backward", "forward"):
            root = tree(result, direction, max_depth=1)
            assert dump_tree(root) == _schema_tree(root)


def _schema_tree(node: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "lot": TraceNodeOut(),
        "link": TraceEdgeOut(),
        "supplier": ExternalSupplierOut(),
        "recipient": ExternalRecipientOut(),
    }
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "children":
            out[key] = [_schema_tree(child) for child in value]
        elif key == "ref":
            out[key] = str(value)
        elif key in schemas:
            out[key] = None if value is None else schemas[key].dump(value)
        else:
            out[key] = value
    return out


def test_tracing_a_missing_lot_is_not_found(psession: Any, pworld: Any) -> None:
    with pytest.raises(NotFound):
        trace(psession, ADMIN, uuid.uuid4())


def test_the_tree_draws_every_lot_once_and_outside_parties_as_leaves(
    g: Builder, psession: Any
) -> None:
    # Two inputs split and re-merged: every kind of re-convergence at once.
    for name in ("F1", "F2", "MIX", "P1", "P2", "BOX"):
        g.lot(name)
    g.link("F1", "MIX", "merge")
    g.link("F2", "MIX", "merge")
    g.link("MIX", "P1", "split")
    g.link("MIX", "P2", "split")
    g.link("P1", "BOX", "merge")
    g.link("P2", "BOX", "merge")
    g.link("F1", "P2", "input")  # a shortcut: P2 is both one and two steps from F1
    g.supplier("F1", "Nông hộ 1")
    g.supplier("F2", "Nông hộ 2")
    g.ship("BOX", "Khách lẻ")

    result = trace(psession, ADMIN, g.id("BOX"))
    root = tree(result, "backward")
    full, refs = _tree_census(root)
    assert sorted(g.names(full)) == sorted(["BOX", "P1", "P2", "MIX", "F1", "F2"])
    backward_edges = [e for e in result.edges if e.direction in ("backward", "both")]
    assert len(refs) == len(backward_edges) - (len(full) - 1)
    suppliers = _leaves(root, "supplier")
    assert sorted(s.name for s in suppliers) == ["Nông hộ 1", "Nông hộ 2"]
    assert _leaves(root, "recipient") == []
    assert [r.name for r in _leaves(tree(result, "forward"), "recipient")] == ["Khách lẻ"]

    # Breadth first: a lot is drawn in full at its shortest distance.
    forward = trace(psession, ADMIN, g.id("F1"), "forward")
    levels = _full_levels(tree(forward, "forward"))
    assert {g.names([k]).pop(): v for k, v in levels.items()} == {
        "F1": 0,
        "MIX": 1,
        "P2": 1,
        "P1": 2,
        "BOX": 2,
    }


def _tree_census(root: dict[str, Any]) -> tuple[list[str], list[str]]:
    full: list[str] = []
    refs: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if "ref" in node:
            refs.append(node["ref"])
        elif "lot" in node:
            full.append(node["lot"].lot_id)
            stack.extend(node["children"])
    assert len(full) == len(set(full)), "a lot drawn in full twice"
    return full, refs


def _full_levels(root: dict[str, Any]) -> dict[str, int]:
    levels: dict[str, int] = {}
    stack = [(root, 0)]
    while stack:
        node, level = stack.pop()
        if "lot" in node:
            levels[node["lot"].lot_id] = level
            stack.extend((child, level + 1) for child in node["children"])
    return levels


def _leaves(root: dict[str, Any], key: str) -> list[Any]:
    found: list[Any] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if key in node:
            found.append(node[key])
        stack.extend(node.get("children", ()))
    return found


# --- a generated graph against a brute-force walk -----------------------------------------------


def _brute_force(
    edges: list[tuple[uuid.UUID, uuid.UUID]], start: uuid.UUID, forward: bool
) -> dict[uuid.UUID, int]:
    """The textbook BFS over an adjacency list: the reference the database walk must match."""
    adjacent: dict[uuid.UUID, list[uuid.UUID]] = {}
    for source, target in edges:
        near, far = (source, target) if forward else (target, source)
        adjacent.setdefault(near, []).append(far)
    distance = {start: 0}
    queue = deque([start])
    while queue:
        lot = queue.popleft()
        for other in adjacent.get(lot, []):
            if other not in distance:
                distance[other] = distance[lot] + 1
                queue.append(other)
    return distance


def test_a_generated_graph_matches_a_brute_force_walk(g: Builder, psession: Any) -> None:
    """300 lots in three establishments, layered like a supply chain (farms → processors →
    distributors) with random merges, splits, shortcuts, back edges (cycles) and duplicate
    links; every direction from 25 random lots agrees with a plain BFS."""
    rng = random.Random(20260301)
    owners = ("a", "a2", "b")
    names = [f"R{i:03d}" for i in range(300)]
    for name in names:
        g.lot(name, rng.choice(owners))
    edges: list[tuple[uuid.UUID, uuid.UUID]] = []
    for i, name in enumerate(names):
        layer = i // 60
        if layer == 0:
            continue
        for _ in range(rng.choice((0, 1, 1, 2, 3))):  # 0: a lot of its own (a new origin)
            j = rng.randrange(max(0, (layer - 1) * 60), layer * 60)
            edges.append((g.id(names[j]), g.id(name)))
    for _ in range(12):  # bad data: links back upstream, making cycles
        i, j = sorted(rng.sample(range(300), 2))
        edges.append((g.id(names[j]), g.id(names[i])))
    edges.extend(rng.sample(edges, 5))  # the same movement recorded twice
    for source, target in edges:
        LinkFactory(source_lot_id=source, target_lot_id=target, kind=rng.choice(("input", "split")))

    for start in rng.sample(names, 25):
        lot_id = g.id(start)
        expected_back = _brute_force(edges, lot_id, forward=False)
        expected_fwd = _brute_force(edges, lot_id, forward=True)
        for direction, expected in (("backward", expected_back), ("forward", expected_fwd)):
            walked = graph.walk(psession, lot_id, direction)  # type: ignore[arg-type]
            assert walked.depth == expected, (start, direction)
            near = (lambda e: e[1]) if direction == "backward" else (lambda e: e[0])
            assert len(walked.links) == sum(1 for e in edges if near(e) in expected)
            assert all(isinstance(link, LotLink) for link in walked.links)
            levels = [
                walked.depth[link.target_lot_id if direction == "backward" else link.source_lot_id]
                for link in walked.links
            ]
            assert levels == sorted(levels), "links are in breadth-first order"
            limited = graph.walk(psession, lot_id, direction, max_depth=2)  # type: ignore[arg-type]
            assert graph.distances(psession, lot_id, direction) == {  # type: ignore[arg-type]
                str(k): v for k, v in expected.items()
            }
            assert limited.depth == {k: v for k, v in expected.items() if v <= 2}

        result = trace(psession, ADMIN, lot_id)
        got_back = {
            n.lot_id: n.backward_depth for n in result.nodes if n.backward_depth is not None
        }
        got_fwd = {n.lot_id: n.forward_depth for n in result.nodes if n.forward_depth is not None}
        assert got_back == {str(k): v for k, v in expected_back.items()}
        assert got_fwd == {str(k): v for k, v in expected_fwd.items()}
        assert {n.lot_id for n in result.nodes} == {
            str(k) for k in expected_back.keys() | expected_fwd.keys()
        }
        crossed = [e for e in edges if e[1] in expected_back or e[0] in expected_fwd]
        assert len(result.edges) == len(crossed)
        for direction in ("backward", "forward"):
            full, _ = _tree_census(tree(result, direction))  # type: ignore[arg-type]
            reached = expected_back if direction == "backward" else expected_fwd
            assert set(full) == {str(k) for k in reached}
