"""Trace (truy xuất nguồn gốc) from a lot: as JSON, as a tree to draw, as a spreadsheet.

The routes live under /api/v1/lots next to the lots blueprint (their own blueprint, "trace").
"""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, jsonify, send_file
from flask_smorest import Blueprint

from services.products.domain import trace as trace_ops
from services.products.schemas.trace import (
    ExportQuery,
    TraceOut,
    TraceQuery,
    TraceTreeOut,
    TreeQuery,
    dump_tree,
    trace_json,
)
from shared.auth import authenticated
from shared.db import request_session

PREFIX = "lots"
blp = Blueprint(
    "trace",
    __name__,
    description="Trace (truy xuất): one step back and one step forward, to any depth "
    "(Circular 17/2021/TT-BNNPTNT)",
)


@blp.get("/<uuid:lot_id>/trace")
@blp.arguments(TraceQuery, location="query")
@blp.response(200, TraceOut)
def trace_lot(args: dict[str, Any], lot_id: uuid.UUID) -> Response:
    """Trace a lot both ways (or one way), across establishments, to any depth.

    Every lot this one was made from or went into: `nodes` (lots, each with its distance and
    the way it was reached), `edges` (movements: input, split, merge, shipment — with
    quantity, time and place) and `external` (suppliers and customers outside the system:
    the leaves one step back and one step forward).

    Splits, merges, diamonds and cycles in bad data are walked once per lot. The caller must
    be able to read the lot (404 otherwise). Administrators, services and the agency managing
    the lot see everything; an establishment sees its own lots in full and, of others' lots,
    only the public card — quantities and places of movements between two other
    establishments are `null`, and others' outside suppliers and customers are counted in
    `withheld`."""
    principal = authenticated()
    session = request_session()
    lot = trace_ops.readable_lot(session, principal, lot_id)
    result = trace_ops.trace(session, principal, lot.id, args["direction"])
    # Serialised by trace_json (the TraceOut shape, several times faster than a schema dump).
    return jsonify(trace_json(result))


@blp.get("/<uuid:lot_id>/trace/tree")
@blp.arguments(TreeQuery, location="query")
@blp.response(200, TraceTreeOut)
def trace_tree(args: dict[str, Any], lot_id: uuid.UUID) -> Response:
    """The trace one way as a nested tree a page can draw.

    Each lot appears in full once, at its shortest distance; reached again (a diamond, a
    merge of splits, a cycle) it appears as `{"ref": <lot id>, "link": <movement>}`. Outside
    suppliers (backward) and customers (forward) are leaves. Lots beyond `max_depth` steps are
    cut off and their parent is marked `truncated`. Same access and redaction as the trace."""
    principal = authenticated()
    session = request_session()
    lot = trace_ops.readable_lot(session, principal, lot_id)
    result = trace_ops.trace(session, principal, lot.id, args["direction"])
    root = trace_ops.tree(result, args["direction"], max_depth=args["max_depth"])
    # Serialised without a recursive schema dump (see dump_tree); the shape is TraceTreeOut.
    return jsonify(
        {
            "start_lot_id": str(result.start),
            "direction": args["direction"],
            "max_depth": args["max_depth"],
            "redacted": result.redacted,
            "root": dump_tree(root),
        }
    )


@blp.get("/<uuid:lot_id>/trace/export")
@blp.arguments(ExportQuery, location="query")
@blp.response(
    200,
    content_type=trace_ops.XLSX,
    description="The XLSX workbook, or CSV (text/csv, UTF-8 with BOM) with `format=csv`",
)
def trace_export(args: dict[str, Any], lot_id: uuid.UUID) -> Response:
    """The trace as a spreadsheet (XLSX or CSV): the file a regulator asks for within 24 hours.

    One row per movement, with the Circular 17/2021 key data elements (Art. 4 and 6) —
    direction, step, time (Việt Nam time, dd/mm/yyyy HH:MM), kind, the handing-over and the
    receiving party (name, address, code, product, lot code), quantity, unit, place —
    including the rows to and from parties outside the system. XLSX adds a sheet of the lots;
    its columns have filters and real dates, so they sort. No cell can run as a formula. Same
    access and redaction as the trace."""
    principal = authenticated()
    session = request_session()
    lot = trace_ops.readable_lot(session, principal, lot_id)
    result = trace_ops.trace(session, principal, lot.id, args["direction"])
    buffer = io.BytesIO()
    trace_ops.write_export(result, buffer, args["format"])
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype=trace_ops.XLSX if args["format"] == "xlsx" else "text/csv; charset=utf-8",
        as_attachment=True,
        download_name=trace_ops.export_filename(result, args["format"]),
    )
