"""Trace (truy xuất) both ways: the query parameters and the answers' contract."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, fields, validate

from services.products.domain.trace import (
    DIRECTIONS,
    ExternalRecipient,
    ExternalSupplier,
    TraceEdge,
    TraceNode,
    TraceResult,
    counts,
)
from services.products.schemas.common import DecimalNumber, one_of

_HOW_REACHED = (
    "How the lot or movement was reached: `start` (the lot traced), `backward` (towards "
    "its origins), `forward` (towards its recipients), `both` (both ways: a cycle in the data)"
)
_WITHHELD = "Withheld from this caller (another establishment's business data): null"
MAX_TREE_DEPTH = 200


# --- query parameters ---------------------------------------------------------------------------


class TraceQuery(Schema):
    direction = fields.String(
        load_default="both",
        validate=one_of(DIRECTIONS),
        metadata={"description": "`backward` to the origins, `forward` to the recipients, or both"},
    )


class TreeQuery(Schema):
    direction = fields.String(
        load_default="backward",
        validate=one_of(("backward", "forward")),
        metadata={"description": "The tree's one direction"},
    )
    max_depth = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_TREE_DEPTH),
        metadata={
            "description": "Steps drawn from the lot; a lot with more behind it is marked "
            "`truncated` (ask again from that lot)"
        },
    )


class ExportQuery(Schema):
    format = fields.String(load_default="xlsx", validate=one_of(("xlsx", "csv")))
    direction = fields.String(load_default="both", validate=one_of(DIRECTIONS))


# --- answers ------------------------------------------------------------------------------------


class TraceNodeOut(Schema):
    lot_id = fields.UUID()
    code = fields.String(metadata={"description": "Lot code (số lô)"})
    product_id = fields.UUID()
    product_name = fields.String(allow_none=True)
    product_code = fields.String(allow_none=True, metadata={"description": _WITHHELD})
    product_gtin = fields.String(allow_none=True, metadata={"description": _WITHHELD})
    establishment_id = fields.UUID()
    establishment_name = fields.String(allow_none=True)
    establishment_address = fields.String(allow_none=True)
    establishment_code = fields.String(
        allow_none=True,
        metadata={"description": "Business registration number. " + _WITHHELD},
    )
    production_date = fields.Date(allow_none=True)
    expiry_date = fields.Date(allow_none=True)
    quantity = DecimalNumber(allow_none=True, metadata={"description": _WITHHELD})
    unit = fields.String(allow_none=True)
    origin = fields.String(allow_none=True)
    status = fields.String(metadata={"description": "e.g. `recalled`: do not sell"})
    direction = fields.String(metadata={"description": _HOW_REACHED})
    depth = fields.Integer(metadata={"description": "Steps from the lot traced (shortest)"})
    backward_depth = fields.Integer(allow_none=True)
    forward_depth = fields.Integer(allow_none=True)
    redacted = fields.Boolean(
        metadata={"description": "Only the public card of this lot is shown to the caller"}
    )


class TraceEdgeOut(Schema):
    id = fields.UUID()
    source_lot_id = fields.UUID()
    target_lot_id = fields.UUID()
    kind = fields.String(metadata={"description": "input, split, merge or shipment"})
    quantity = DecimalNumber(allow_none=True, metadata={"description": _WITHHELD})
    unit = fields.String(allow_none=True)
    occurred_at = fields.AwareDateTime(allow_none=True)
    place = fields.String(allow_none=True, metadata={"description": _WITHHELD})
    shipment_id = fields.UUID(allow_none=True)
    direction = fields.String(metadata={"description": _HOW_REACHED})
    depth = fields.Integer(metadata={"description": "The step at which the walk crossed it"})
    redacted = fields.Boolean(
        metadata={"description": "A movement between two other establishments"}
    )


class ExternalSupplierOut(Schema):
    id = fields.UUID()
    lot_id = fields.UUID(metadata={"description": "The reached lot it supplied"})
    name = fields.String()
    address = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    lot_code = fields.String(allow_none=True, metadata={"description": "The supplier's lot"})
    product_name = fields.String(allow_none=True)
    quantity = DecimalNumber(allow_none=True)
    unit = fields.String(allow_none=True)
    received_at = fields.AwareDateTime(allow_none=True)
    place = fields.String(allow_none=True)
    depth = fields.Integer()


class ExternalRecipientOut(Schema):
    shipment_id = fields.UUID()
    lot_id = fields.UUID(metadata={"description": "The reached lot shipped"})
    establishment_id = fields.UUID(
        allow_none=True,
        metadata={
            "description": "Set when the recipient is in the system but has not "
            "received the goods into a lot"
        },
    )
    name = fields.String()
    address = fields.String(allow_none=True)
    code = fields.String(allow_none=True)
    quantity = DecimalNumber(allow_none=True)
    unit = fields.String(allow_none=True)
    shipped_at = fields.AwareDateTime()
    place = fields.String(allow_none=True)
    status = fields.String()
    depth = fields.Integer()


class ExternalOut(Schema):
    suppliers = fields.List(fields.Nested(ExternalSupplierOut))
    recipients = fields.List(fields.Nested(ExternalRecipientOut))


class TraceCountsOut(Schema):
    lots = fields.Integer()
    movements = fields.Integer()
    suppliers = fields.Integer()
    recipients = fields.Integer()
    establishments = fields.Integer()


class TraceOut(Schema):
    start_lot_id = fields.UUID()
    direction = fields.String()
    redacted = fields.Boolean(metadata={"description": "Something was withheld from this caller"})
    withheld = fields.Integer(
        metadata={"description": "Outside suppliers/recipients of others' lots left out"}
    )
    counts = fields.Nested(TraceCountsOut)
    nodes = fields.List(fields.Nested(TraceNodeOut), metadata={"description": "Lots reached"})
    edges = fields.List(fields.Nested(TraceEdgeOut), metadata={"description": "Movements"})
    external = fields.Nested(ExternalOut)


def trace_body(result: TraceResult) -> dict[str, Any]:
    """What TraceOut serialises: the result's lists under the contract's names."""
    return {
        "start_lot_id": result.start,
        "direction": result.direction,
        "redacted": result.redacted,
        "withheld": result.withheld,
        "counts": counts(result),
        "nodes": result.nodes,
        "edges": result.edges,
        "external": {"suppliers": result.suppliers, "recipients": result.recipients},
    }


class TreeNodeOut(Schema):
    """A node of the tree: a lot (`lot`, `link`, `children`, `truncated`), a lot drawn
    elsewhere in the tree (`ref`, `link`), or an outside party (`supplier` / `recipient`)."""

    lot = fields.Nested(TraceNodeOut)
    ref = fields.UUID(metadata={"description": "A lot already drawn elsewhere in this tree"})
    link = fields.Nested(
        TraceEdgeOut, allow_none=True, metadata={"description": "The movement to the parent"}
    )
    supplier = fields.Nested(ExternalSupplierOut)
    recipient = fields.Nested(ExternalRecipientOut)
    truncated = fields.Boolean(metadata={"description": "More lots lie beyond `max_depth`"})
    children = fields.List(fields.Nested(lambda: TreeNodeOut()))


class TraceTreeOut(Schema):
    start_lot_id = fields.UUID()
    direction = fields.String()
    max_depth = fields.Integer()
    redacted = fields.Boolean()
    root = fields.Nested(TreeNodeOut)


# --- fast serialisation ---------------------------------------------------------------------------
#
# A thousand-lot trace is ~35,000 fields: marshmallow dumps them in ~90 ms, these plain
# functions in a fraction of that. They produce exactly what the schemas above would (a test
# holds them to it); the schemas stay the documented contract.


def _iso(value: Any) -> Any:
    return None if value is None else value.isoformat()


def _number(value: Any) -> Any:
    return None if value is None else float(value)


def _node(n: TraceNode) -> dict[str, Any]:
    return {
        "lot_id": n.lot_id,
        "code": n.code,
        "product_id": n.product_id,
        "product_name": n.product_name,
        "product_code": n.product_code,
        "product_gtin": n.product_gtin,
        "establishment_id": n.establishment_id,
        "establishment_name": n.establishment_name,
        "establishment_address": n.establishment_address,
        "establishment_code": n.establishment_code,
        "production_date": _iso(n.production_date),
        "expiry_date": _iso(n.expiry_date),
        "quantity": _number(n.quantity),
        "unit": n.unit,
        "origin": n.origin,
        "status": n.status,
        "direction": n.direction,
        "depth": n.depth,
        "backward_depth": n.backward_depth,
        "forward_depth": n.forward_depth,
        "redacted": n.redacted,
    }


def _edge(e: TraceEdge) -> dict[str, Any]:
    return {
        "id": e.id,
        "source_lot_id": e.source_lot_id,
        "target_lot_id": e.target_lot_id,
        "kind": e.kind,
        "quantity": _number(e.quantity),
        "unit": e.unit,
        "occurred_at": _iso(e.occurred_at),
        "place": e.place,
        "shipment_id": e.shipment_id,
        "direction": e.direction,
        "depth": e.depth,
        "redacted": e.redacted,
    }


def _supplier(s: ExternalSupplier) -> dict[str, Any]:
    return {
        "id": s.id,
        "lot_id": s.lot_id,
        "name": s.name,
        "address": s.address,
        "code": s.code,
        "lot_code": s.lot_code,
        "product_name": s.product_name,
        "quantity": _number(s.quantity),
        "unit": s.unit,
        "received_at": _iso(s.received_at),
        "place": s.place,
        "depth": s.depth,
    }


def _recipient(r: ExternalRecipient) -> dict[str, Any]:
    return {
        "shipment_id": r.shipment_id,
        "lot_id": r.lot_id,
        "establishment_id": r.establishment_id,
        "name": r.name,
        "address": r.address,
        "code": r.code,
        "quantity": _number(r.quantity),
        "unit": r.unit,
        "shipped_at": _iso(r.shipped_at),
        "place": r.place,
        "status": r.status,
        "depth": r.depth,
    }


def trace_json(result: TraceResult) -> dict[str, Any]:
    """The trace as TraceOut serialises it, fast."""
    return {
        "start_lot_id": result.start,
        "direction": result.direction,
        "redacted": result.redacted,
        "withheld": result.withheld,
        "counts": counts(result),
        "nodes": [_node(n) for n in result.nodes],
        "edges": [_edge(e) for e in result.edges],
        "external": {
            "suppliers": [_supplier(s) for s in result.suppliers],
            "recipients": [_recipient(r) for r in result.recipients],
        },
    }


_DUMPERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "lot": _node,
    "link": _edge,
    "supplier": _supplier,
    "recipient": _recipient,
}


def dump_tree(root: dict[str, Any]) -> dict[str, Any]:
    """The domain's tree as JSON-ready data (TreeNodeOut's shape), without recursion: a chain
    of lots hundreds deep would exhaust Python's stack in a recursive (marshmallow Nested)
    dump."""
    out: dict[str, Any] = {}
    stack: list[tuple[dict[str, Any], dict[str, Any]]] = [(root, out)]
    while stack:
        source, target = stack.pop()
        for key, value in source.items():
            if key == "children":
                target["children"] = []
                for child in value:
                    dumped: dict[str, Any] = {}
                    target["children"].append(dumped)
                    stack.append((child, dumped))
            elif key in _DUMPERS:
                target[key] = None if value is None else _DUMPERS[key](value)
            else:
                target[key] = value
    return out
