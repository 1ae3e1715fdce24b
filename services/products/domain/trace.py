"""Trace (truy xuất): from any lot, back to every origin and forward to every recipient, across
establishments, to any depth (Circular 17/2021/TT-BNNPTNT, Art. 4 and 6).

`trace` walks the lot graph both ways (`graph.reach`: one recursive query per direction) and
then loads what the walk reached in one query per kind of data — the lots with their products
and establishments, the outside suppliers (`lot_sources`) and the outside or not-yet-received
recipients (`shipments`) — so its cost does not grow with the number of lots in round trips.

Who sees what (the view has already checked the caller may read the start lot):
- admin, other services, and an agency whose scope holds the start lot: everything — they are
  the ones who must answer a regulator;
- anyone else (an establishment): everything about its own lots; of another establishment's
  lot only the public card (lot code, product name, establishment name and address, dates,
  status); of a movement between two other establishments, who and when but not how much or
  where; the outside suppliers and customers of other establishments not at all (`withheld`
  counts them, so a page can say something was left out).

`tree` turns a result into a nested tree a page can draw; `write_export` into the spreadsheet
a regulator asks for (one row per movement, the Circular's key data elements).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import partial
from typing import IO, Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.domain import graph, scope
from services.products.domain.graph import utc
from services.products.models import (
    DirectoryEstablishment,
    Lot,
    LotSource,
    Product,
    Shipment,
)
from shared.auth import Principal
from shared.errors import NotFound
from shared.excel import SheetSpec, write_csv, write_xlsx

TraceDirection = Literal["both", "backward", "forward"]
DIRECTIONS: tuple[TraceDirection, ...] = ("both", "backward", "forward")
# How a lot or a movement was reached: the start itself, one way, or both ways (a cycle).
_ORDER = {"start": 0, "backward": 1, "both": 2, "forward": 3}
_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


@dataclass(slots=True)
class TraceNode:
    """A lot the trace reached. `redacted`: the caller sees only its public card. Ids here
    and below are text (see `graph.text_id`)."""

    lot_id: str
    code: str
    product_id: str
    product_name: str | None
    product_code: str | None
    product_gtin: str | None
    establishment_id: str
    establishment_name: str | None
    establishment_address: str | None
    establishment_code: str | None
    production_date: date | None
    expiry_date: date | None
    quantity: Decimal | None
    unit: str | None
    origin: str | None
    status: str
    direction: str
    depth: int
    backward_depth: int | None
    forward_depth: int | None
    redacted: bool = False


@dataclass(slots=True)
class TraceEdge:
    """A movement between two lots: `target` was made from, split from, merged from or
    received from `source`. `depth` is the step at which the walk crossed it."""

    id: str
    source_lot_id: str
    target_lot_id: str
    kind: str
    quantity: Decimal | None
    unit: str | None
    occurred_at: datetime | None
    place: str | None
    shipment_id: str | None
    direction: str
    depth: int
    redacted: bool = False


@dataclass(slots=True)
class ExternalSupplier:
    """One step back out of the system: who supplied a reached lot (a `lot_sources` row)."""

    id: str
    lot_id: str
    name: str
    address: str | None
    code: str | None
    lot_code: str | None
    product_name: str | None
    quantity: Decimal | None
    unit: str | None
    received_at: datetime | None
    place: str | None
    depth: int


@dataclass(slots=True)
class ExternalRecipient:
    """One step forward out of the graph: a shipment of a reached lot to a customer outside the
    system, or to an establishment that has not received it into a lot (yet)."""

    shipment_id: str
    lot_id: str
    establishment_id: str | None
    name: str
    address: str | None
    code: str | None
    quantity: Decimal | None
    unit: str | None
    shipped_at: datetime
    place: str | None
    status: str
    depth: int


@dataclass
class TraceResult:
    start: str
    direction: TraceDirection
    nodes: list[TraceNode] = field(default_factory=list)
    edges: list[TraceEdge] = field(default_factory=list)
    suppliers: list[ExternalSupplier] = field(default_factory=list)
    recipients: list[ExternalRecipient] = field(default_factory=list)
    # Outside suppliers/recipients left out because they belong to someone else's lots.
    withheld: int = 0

    @property
    def redacted(self) -> bool:
        return (
            self.withheld > 0
            or any(n.redacted for n in self.nodes)
            or any(e.redacted for e in self.edges)
        )

    def index(self) -> dict[str, TraceNode]:
        return {node.lot_id: node for node in self.nodes}

    @property
    def start_node(self) -> TraceNode:
        return self.index()[self.start]


# --- loading ------------------------------------------------------------------------------------


def _lots_statement(dialect: str) -> Any:
    text = partial(graph.text_id, dialect)
    return select(
        text(Lot.id),
        Lot.code,
        text(Lot.product_id),
        text(Lot.establishment_id),
        Lot.production_date,
        Lot.expiry_date,
        Lot.quantity,
        Lot.unit,
        Lot.origin,
        Lot.status,
    ).where(graph.ids_in(dialect, Lot.id))


def _products_statement(dialect: str) -> Any:
    return select(
        graph.text_id(dialect, Product.id), Product.name, Product.code, Product.gtin
    ).where(graph.ids_in(dialect, Product.id))


def _establishments_statement(dialect: str) -> Any:
    return select(
        graph.text_id(dialect, DirectoryEstablishment.id),
        DirectoryEstablishment.name,
        DirectoryEstablishment.address,
        DirectoryEstablishment.business_registration_no,
    ).where(graph.ids_in(dialect, DirectoryEstablishment.id))


_LOTS = graph.Statement(_lots_statement)
_PRODUCTS = graph.Statement(_products_statement)
_ESTABLISHMENTS = graph.Statement(_establishments_statement)


def _load_lots(
    session: Session, ids: Collection[str]
) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
    """The lots with their products and establishments: one query per table, each an index
    look-up per key. (One three-table join lets the planner hash the whole products and
    directory tables for a thousand lots — tens of milliseconds at province scale.)"""
    lots = _LOTS.rows_in(session, ids)
    products = {row[0]: row for row in _PRODUCTS.rows_in(session, {row[2] for row in lots})}
    establishments = {
        row[0]: row for row in _ESTABLISHMENTS.rows_in(session, {row[3] for row in lots})
    }
    return lots, products, establishments


def _full_view(
    session: Session, principal: Principal, start: Lot, establishments: Collection[str]
) -> frozenset[str] | None:
    """The establishments whose lots the caller sees in full; None means all of them."""
    if principal.is_admin or principal.is_service:
        return None
    if principal.role == "agency":
        if scope.manages(session, principal, start.establishment_id):
            return None
        # Not reachable through the API (the start lot would be 404), but the rule holds.
        in_scope = scope.establishments_in_scope(session, principal)
        return frozenset(
            row[0]
            for row in graph.Statement(
                lambda dialect: select(graph.text_id(dialect, DirectoryEstablishment.id)).where(
                    DirectoryEstablishment.id.in_(in_scope),
                    graph.ids_in(dialect, DirectoryEstablishment.id),
                )
            ).rows_in(session, establishments)
        )
    if principal.role == "establishment" and principal.establishment_id is not None:
        return frozenset({str(principal.establishment_id)})
    return frozenset()


def _how_reached(backward: int | None, forward: int | None) -> tuple[str, int]:
    if backward == 0 or forward == 0:
        return "start", 0
    if backward is not None and forward is not None:
        return "both", min(backward, forward)
    if backward is not None:
        return "backward", backward
    return "forward", forward or 0


def readable_lot(session: Session, principal: Principal, lot_id: uuid.UUID) -> Lot:
    """The lot to trace from, if the caller may read it (own, managed, or shipped to them);
    404 otherwise, so a lot outside the caller's scope is not revealed to exist."""
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise _lot_not_found()
    try:
        scope.require_lot_read(session, principal, lot)
    except NotFound:
        raise _lot_not_found() from None  # the same answer as for a lot that does not exist
    return lot


def _lot_not_found() -> NotFound:
    return NotFound("Không tìm thấy lô.", "Lot not found.")


def trace(
    session: Session, principal: Principal, lot_id: uuid.UUID, direction: TraceDirection = "both"
) -> TraceResult:
    """Every lot, movement and outside party reachable from `lot_id` going `direction`, with
    what `principal` may not see left out (see the module docstring)."""
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction: {direction!r}")
    session.flush()  # the queries below run on the connection, without autoflush
    start = session.get(Lot, lot_id)
    if start is None:
        raise _lot_not_found()
    walks: list[graph.Reach] = []
    if direction in ("both", "backward"):
        walks.append(graph.reach(session, lot_id, "backward"))
    if direction in ("both", "forward"):
        walks.append(graph.reach(session, lot_id, "forward"))
    back: dict[str, int] = next((w.depth for w in walks if w.direction == "backward"), {})
    fwd: dict[str, int] = next((w.depth for w in walks if w.direction == "forward"), {})

    lots, products, establishments = _load_lots(session, back.keys() | fwd.keys())
    full = _full_view(session, principal, start, establishments.keys())

    def sees(establishment_id: str | None) -> bool:
        return full is None or establishment_id in full

    result = TraceResult(start=str(lot_id), direction=direction)
    owner: dict[str, str] = {}
    no_establishment = (None, None, None, None)
    for lot, code, product_id, est, made, expires, quantity, unit, origin, status in lots:
        owner[lot] = est
        b, f = back.get(lot), fwd.get(lot)
        how, depth = _how_reached(b, f)
        hidden = not sees(est)
        _, product_name, product_code, gtin = products[product_id]
        _, est_name, est_address, est_code = establishments.get(est, no_establishment)
        result.nodes.append(
            TraceNode(
                lot,
                code,
                product_id,
                product_name,
                None if hidden else product_code,
                None if hidden else gtin,
                est,
                est_name,
                est_address,
                None if hidden else est_code,
                made,
                expires,
                None if hidden else quantity,
                None if hidden else unit,
                None if hidden else origin,
                status,
                how,
                depth,
                b,
                f,
                hidden,
            )
        )
    result.nodes.sort(key=lambda n: (_ORDER[n.direction], n.depth, n.code, n.lot_id))

    edges: dict[str, TraceEdge] = {}
    for walk in walks:
        forward = walk.direction == "forward"
        depths = walk.depth
        for link_id, source, target, kind, quantity, unit, at, place, shipment in walk.links:
            depth = depths[source if forward else target] + 1
            known = edges.get(link_id)
            if known is not None:  # crossed both ways: the data has a cycle through the start
                known.direction = "both"
                known.depth = min(known.depth, depth)
                continue
            hidden = not (sees(owner.get(source)) or sees(owner.get(target)))
            edges[link_id] = TraceEdge(
                link_id,
                source,
                target,
                kind,
                None if hidden else quantity,
                None if hidden else unit,
                at,
                None if hidden else place,
                shipment,
                walk.direction,
                depth,
                hidden,
            )
    result.edges = sorted(
        edges.values(),
        key=lambda e: (_ORDER[e.direction], e.depth, e.occurred_at or _EPOCH, e.id),
    )

    if back:
        _add_suppliers(session, result, back, owner, sees)
    if fwd:
        _add_recipients(session, result, fwd, owner, sees, principal)
    return result


def _suppliers_statement(dialect: str) -> Any:
    text = partial(graph.text_id, dialect)
    return select(
        text(LotSource.id),
        text(LotSource.lot_id),
        LotSource.supplier_name,
        LotSource.supplier_address,
        LotSource.supplier_code,
        LotSource.supplier_lot_code,
        LotSource.product_name,
        LotSource.quantity,
        LotSource.unit,
        graph.utc_time(dialect, LotSource.received_at),
        LotSource.place,
    ).where(graph.ids_in(dialect, LotSource.lot_id))


_SUPPLIERS = graph.Statement(_suppliers_statement)


def _add_suppliers(
    session: Session,
    result: TraceResult,
    back: dict[str, int],
    owner: dict[str, str],
    sees: Callable[[str | None], bool],
) -> None:
    for (
        sid,
        lot,
        name,
        address,
        code,
        lot_code,
        product,
        quantity,
        unit,
        at,
        place,
    ) in _SUPPLIERS.rows_in(session, back.keys()):
        if not sees(owner.get(lot)):
            result.withheld += 1
            continue
        result.suppliers.append(
            ExternalSupplier(
                sid,
                lot,
                name,
                address,
                code,
                lot_code,
                product,
                quantity,
                unit,
                utc(at),
                place,
                back[lot] + 1,
            )
        )
    result.suppliers.sort(key=lambda s: (s.depth, s.received_at or _EPOCH, s.id))


def _shipments_statement(dialect: str) -> Any:
    text = partial(graph.text_id, dialect)
    return select(
        text(Shipment.id),
        text(Shipment.lot_id),
        text(Shipment.recipient_establishment_id),
        Shipment.recipient_name,
        Shipment.recipient_address,
        Shipment.recipient_code,
        Shipment.quantity,
        Shipment.unit,
        graph.utc_time(dialect, Shipment.shipped_at),
        Shipment.place,
        Shipment.status,
        text(Shipment.received_lot_id),
    ).where(graph.ids_in(dialect, Shipment.lot_id), Shipment.status != "cancelled")


def _directory_statement(dialect: str) -> Any:
    return select(
        graph.text_id(dialect, DirectoryEstablishment.id),
        DirectoryEstablishment.address,
        DirectoryEstablishment.business_registration_no,
    ).where(graph.ids_in(dialect, DirectoryEstablishment.id))


_SHIPMENTS = graph.Statement(_shipments_statement)
_DIRECTORY = graph.Statement(_directory_statement)


def _add_recipients(
    session: Session,
    result: TraceResult,
    fwd: dict[str, int],
    owner: dict[str, str],
    sees: Callable[[str | None], bool],
    principal: Principal,
) -> None:
    """Shipments that leave the graph: to outside customers, and to establishments that have
    not received them into a lot the walk reached (in transit, or data missing its link) —
    a recall must still reach them."""
    caller = str(principal.establishment_id) if principal.establishment_id else None
    for row in _SHIPMENTS.rows_in(session, fwd.keys()):
        sid, lot, recipient, name, address, code, quantity, unit, at, place, status, into = row
        if into is not None and into in fwd:
            continue  # a movement inside the graph, already an edge
        to_caller = recipient is not None and recipient == caller
        if not (to_caller or sees(owner.get(lot))):
            result.withheld += 1
            continue
        result.recipients.append(
            ExternalRecipient(
                sid,
                lot,
                recipient,
                name,
                address,
                code,
                quantity,
                unit,
                at.replace(tzinfo=UTC),
                place,
                status,
                fwd[lot] + 1,
            )
        )
    # An establishment in the system recorded without address or code: the directory's.
    missing = {
        r.establishment_id
        for r in result.recipients
        if r.establishment_id is not None and (r.address is None or r.code is None)
    }
    if missing:
        directory = {row[0]: row for row in _DIRECTORY.rows_in(session, missing)}
        for r in result.recipients:
            if r.establishment_id in directory:
                _, address, code = directory[r.establishment_id]
                r.address = r.address or address
                r.code = r.code or code
    result.recipients.sort(key=lambda r: (r.depth, r.shipped_at, r.shipment_id))


# --- the tree a page draws ----------------------------------------------------------------------


def tree(
    result: TraceResult, direction: graph.Direction, *, max_depth: int | None = None
) -> dict[str, Any]:
    """The trace one way as nested children, built breadth first so every lot appears in full
    once, at its shortest distance; a lot reached again (a diamond, a merge of splits, a cycle)
    appears as `{"ref": lot_id, "link": edge}`, so drawing never recurses forever.

    A lot node is `{"lot": TraceNode, "link": TraceEdge | None, "children": [...],
    "truncated": bool}`; outside parties are leaves `{"supplier": ...}` / `{"recipient": ...}`.
    Past `max_depth` steps a lot with more behind it is marked `truncated` (draw the rest as a
    tree from that lot)."""
    if direction not in ("backward", "forward"):
        raise ValueError(f"unknown direction: {direction!r}")
    backward = direction == "backward"
    index = result.index()
    steps: dict[str, list[TraceEdge]] = defaultdict(list)
    for edge in result.edges:
        if edge.direction in (direction, "both"):
            steps[edge.target_lot_id if backward else edge.source_lot_id].append(edge)
    leaves: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for supplier in result.suppliers if backward else ():
        leaves[supplier.lot_id].append({"supplier": supplier})
    for recipient in () if backward else result.recipients:
        leaves[recipient.lot_id].append({"recipient": recipient})

    root: dict[str, Any] = {
        "lot": index[result.start],
        "link": None,
        "children": [],
        "truncated": False,
    }
    placed = {result.start}
    queue: deque[tuple[dict[str, Any], str, int]] = deque([(root, result.start, 0)])
    while queue:
        item, lot_id, level = queue.popleft()
        out = steps.get(lot_id, [])
        if max_depth is not None and level >= max_depth and (out or leaves.get(lot_id)):
            item["truncated"] = True
            continue
        out.sort(key=lambda e: (e.occurred_at or _EPOCH, e.id))
        for edge in out:
            other = edge.source_lot_id if backward else edge.target_lot_id
            if other in placed or other not in index:
                item["children"].append({"ref": other, "link": edge})
                continue
            placed.add(other)
            child = {"lot": index[other], "link": edge, "children": [], "truncated": False}
            item["children"].append(child)
            queue.append((child, other, level + 1))
        item["children"].extend(leaves.get(lot_id, ()))
    return root


# --- the spreadsheet a regulator asks for -------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DIRECTION_NAMES = {
    "start": "Lô truy xuất",
    "backward": "Truy ngược (nguồn gốc)",
    "forward": "Truy xuôi (nơi nhận)",
    "both": "Cả hai chiều",
}
KIND_NAMES = {
    "input": "Nguyên liệu đầu vào",
    "split": "Chia lô",
    "merge": "Gộp lô",
    "shipment": "Giao nhận giữa cơ sở",
    "supplier": "Nhận từ nhà cung cấp ngoài hệ thống",
    "customer": "Giao cho khách hàng ngoài hệ thống",
    "pending": "Giao cho cơ sở trong hệ thống (chưa nhận vào lô)",
}
STATUS_NAMES = {
    "active": "Đang lưu hành",
    "on_hold": "Tạm giữ",
    "recalled": "Đã thu hồi",
    "destroyed": "Đã tiêu hủy",
}
MOVEMENT_HEADERS = (
    "STT",
    "Chiều truy xuất",
    "Bậc",
    "Thời gian (giờ Việt Nam)",
    "Loại dịch chuyển",
    "Bên giao",
    "Địa chỉ bên giao",
    "Mã bên giao",
    "Sản phẩm giao",
    "Mã lô giao",
    "Bên nhận",
    "Địa chỉ bên nhận",
    "Mã bên nhận",
    "Sản phẩm nhận",
    "Mã lô nhận",
    "Số lượng / khối lượng",
    "Đơn vị",
    "Địa điểm",
)
MOVEMENT_WIDTHS = (6, 20, 6, 17, 24, 30, 36, 14, 26, 16, 30, 36, 14, 26, 16, 12, 8, 26)
LOT_HEADERS = (
    "STT",
    "Chiều truy xuất",
    "Bậc",
    "Mã lô",
    "Sản phẩm",
    "Mã sản phẩm",
    "GTIN",
    "Cơ sở",
    "Địa chỉ cơ sở",
    "Mã cơ sở",
    "Ngày sản xuất",
    "Hạn sử dụng",
    "Số lượng / khối lượng",
    "Đơn vị",
    "Trạng thái",
)
LOT_WIDTHS = (6, 20, 6, 16, 30, 14, 16, 30, 36, 14, 12, 12, 12, 8, 14)


def _party(node: TraceNode | None) -> list[object]:
    if node is None:
        return [None] * 5
    return [
        node.establishment_name,
        node.establishment_address,
        node.establishment_code,
        node.product_name,
        node.code,
    ]


def movement_rows(result: TraceResult) -> Iterator[list[object]]:
    """One row per movement — between lots, from outside suppliers, to outside recipients —
    in the Circular's terms: who handed over what to whom, when, where, how much."""
    index = result.index()
    rows: list[tuple[tuple[Any, ...], list[object]]] = []
    for edge in result.edges:
        rows.append(
            (
                (_ORDER[edge.direction], edge.depth, edge.occurred_at or _EPOCH),
                [
                    DIRECTION_NAMES[edge.direction],
                    edge.depth,
                    edge.occurred_at,
                    KIND_NAMES.get(edge.kind, edge.kind),
                    *_party(index.get(edge.source_lot_id)),
                    *_party(index.get(edge.target_lot_id)),
                    edge.quantity,
                    edge.unit,
                    edge.place,
                ],
            )
        )
    for s in result.suppliers:
        rows.append(
            (
                (_ORDER["backward"], s.depth, s.received_at or _EPOCH),
                [
                    DIRECTION_NAMES["backward"],
                    s.depth,
                    s.received_at,
                    KIND_NAMES["supplier"],
                    s.name,
                    s.address,
                    s.code,
                    s.product_name,
                    s.lot_code,
                    *_party(index.get(s.lot_id)),
                    s.quantity,
                    s.unit,
                    s.place,
                ],
            )
        )
    for r in result.recipients:
        node = index.get(r.lot_id)
        rows.append(
            (
                (_ORDER["forward"], r.depth, r.shipped_at),
                [
                    DIRECTION_NAMES["forward"],
                    r.depth,
                    r.shipped_at,
                    KIND_NAMES["customer" if r.establishment_id is None else "pending"],
                    *_party(node),
                    r.name,
                    r.address,
                    r.code,
                    node.product_name if node else None,
                    None,
                    r.quantity,
                    r.unit,
                    r.place,
                ],
            )
        )
    rows.sort(key=lambda pair: pair[0])
    for number, (_, row) in enumerate(rows, start=1):
        yield [number, *row]


def lot_rows(result: TraceResult) -> Iterator[list[object]]:
    for number, n in enumerate(result.nodes, start=1):
        yield [
            number,
            DIRECTION_NAMES[n.direction],
            n.depth,
            n.code,
            n.product_name,
            n.product_code,
            n.product_gtin,
            n.establishment_name,
            n.establishment_address,
            n.establishment_code,
            n.production_date,
            n.expiry_date,
            n.quantity,
            n.unit,
            STATUS_NAMES.get(n.status, n.status),
        ]


def _title(result: TraceResult) -> str:
    start = result.start_node
    return (
        f"TRUY XUẤT NGUỒN GỐC LÔ {start.code} — {start.product_name or ''} — "
        f"{start.establishment_name or ''} ({DIRECTION_NAMES[result.direction]})"
    )


def write_export(result: TraceResult, target: IO[bytes], fmt: Literal["xlsx", "csv"]) -> None:
    """The trace as a spreadsheet: XLSX with a movements sheet and a lots sheet (filters on,
    header frozen, times as real dates so columns sort), or CSV of the movements. Every text
    goes through the shared writers, so nothing in it can run as a formula."""
    if fmt == "csv":
        write_csv(target, MOVEMENT_HEADERS, movement_rows(result))
        return
    write_xlsx(
        target,
        [
            SheetSpec(
                name="Dịch chuyển",
                headers=MOVEMENT_HEADERS,
                rows=movement_rows(result),
                column_widths=MOVEMENT_WIDTHS,
                title=_title(result),
            ),
            SheetSpec(
                name="Lô hàng",
                headers=LOT_HEADERS,
                rows=lot_rows(result),
                column_widths=LOT_WIDTHS,
                title=_title(result),
            ),
        ],
    )


def export_filename(result: TraceResult, fmt: str, now: datetime | None = None) -> str:
    """`truy-xuat-<lot code>-<local time>.<fmt>`, ASCII only (the code is user text)."""
    from shared.excel.writing import LOCAL_TZ

    code = re.sub(r"[^0-9A-Za-z._-]+", "-", result.start_node.code).strip("-.") or "lo"
    stamp = (now or datetime.now(UTC)).astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M")
    return f"truy-xuat-{code[:40]}-{stamp}.{fmt}"


def counts(result: TraceResult) -> dict[str, int]:
    return {
        "lots": len(result.nodes),
        "movements": len(result.edges),
        "suppliers": len(result.suppliers),
        "recipients": len(result.recipients),
        "establishments": len({n.establishment_id for n in result.nodes}),
    }
