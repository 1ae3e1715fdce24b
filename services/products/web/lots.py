"""Lots: list, add, detail (diary, one step back and forward, status changes), the quick
diary entry for a phone, shipping and receiving, and the trace drawn as a tree both ways."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.products.api.common import files, send_stored
from services.products.api.lots import present as present_lots
from services.products.api.shipments import present as present_shipments
from services.products.domain import directory, scope
from services.products.domain import lots as lot_ops
from services.products.domain import products as product_ops
from services.products.domain import shipments as shipment_ops
from services.products.domain import trace as trace_ops
from services.products.models import LOT_STATUSES, Lot
from services.products.schemas.lots import (
    DIARY_KINDS,
    LotIn,
    LotQuery,
    LotStatusIn,
    ReceiveIn,
    ShipmentIn,
    StageIn,
    VoidIn,
)
from services.products.schemas.trace import MAX_TREE_DEPTH
from services.products.web import blp
from services.products.web.common import (
    LOT_STATUS_LABELS,
    STAGE_LABELS,
    aware,
    compact,
    form_values,
    local_input,
    options,
    paged,
    query_args,
    upload_limit,
)
from shared.db import request_session
from shared.errors import DomainError, NotFound
from shared.uploads import DOCUMENT_KINDS, accept_upload
from shared.web import _, form_errors, page, render_form, user

VIEWERS = ("admin", "agency", "establishment")
INPUT_ROWS = 3
LOT_FIELDS = ("product_id", "code", "production_date", "expiry_date", "quantity", "unit")
SOURCE_FIELDS = (
    "supplier_name",
    "supplier_address",
    "supplier_code",
    "supplier_lot_code",
    "product_name",
    "quantity",
    "unit",
    "received_at",
    "place",
)


def _products(limit: int = 200) -> list[Any]:
    principal = user()
    session = request_session()
    return list(
        session.scalars(
            product_ops.product_query(session, principal, {"status": "active"}).limit(limit)
        )
    )


def _managed_lot(lot_id: uuid.UUID) -> Lot:
    principal = user()
    session = request_session()
    lot = lot_ops.get_lot_for(session, principal, lot_id)
    scope.require_manages(session, principal, lot.establishment_id)
    return lot


# --- list and add -----------------------------------------------------------------------------


@blp.get("/lots")
@page("establishment")
def lots() -> Any:
    """Lô hàng, newest first, by product and status."""
    principal = user()
    session = request_session()
    args = query_args(LotQuery(), ("product_id", "status", "code"))
    result = paged(lot_ops.lot_query(session, principal, args))
    present_lots(result.items)
    return render_template(
        "products/lots.html",
        result=result,
        args=request.args,
        products=[(str(p.id), p.name) for p in _products()],
        statuses=options(LOT_STATUS_LABELS, LOT_STATUSES),
    )


def _input_lots() -> list[tuple[str, str]]:
    principal = user()
    session = request_session()
    rows = present_lots(
        list(
            session.scalars(lot_ops.lot_query(session, principal, {"status": "active"}).limit(200))
        )
    )
    return [(str(lot.id), f"{lot.code} — {getattr(lot, 'product_name', '')}") for lot in rows]


@blp.route("/lots/new", methods=["GET", "POST"])
@page("establishment")
def new_lot() -> Any:
    """Add a lot: its product, code, dates, quantity; the lots it was made from (one step
    back in the system) and a supplier outside the system."""
    context = {
        "products": [(str(p.id), p.name) for p in _products()],
        "input_lots": _input_lots(),
        "input_rows": INPUT_ROWS,
    }
    if request.method == "GET":
        blank = {"product_id": request.args.get("product_id", "")}
        return render_template("products/lot_form.html", values=blank, errors={}, **context)
    values: dict[str, Any] = form_values(LOT_FIELDS)
    data = compact(values)
    inputs = []
    for i in range(INPUT_ROWS):
        row = form_values((f"inputs-{i}-lot_id", f"inputs-{i}-quantity", f"inputs-{i}-unit"))
        values.update(row)
        if row[f"inputs-{i}-lot_id"]:
            inputs.append(
                compact(
                    {
                        "lot_id": row[f"inputs-{i}-lot_id"],
                        "quantity": row[f"inputs-{i}-quantity"],
                        "unit": row[f"inputs-{i}-unit"],
                    }
                )
            )
    data["inputs"] = inputs
    source = form_values(tuple(f"sources-0-{f}" for f in SOURCE_FIELDS))
    values.update(source)
    source_data = compact({f: source[f"sources-0-{f}"] for f in SOURCE_FIELDS})
    if source_data:
        if "received_at" in source_data:
            source_data["received_at"] = aware(source_data["received_at"])
        data["sources"] = [source_data]
    try:
        body = LotIn().load(data)
        lot = lot_ops.create(request_session(), actor=user(), data=body)
    except (ValidationError, DomainError) as exc:
        errors = {k.replace(".", "-"): v for k, v in form_errors(exc).items()}
        return render_form("products/lot_form.html", errors=errors, values=values, **context)
    flash(_("Đã thêm lô %(code)s.", code=lot.code))
    return redirect(url_for("products_web.lot", lot_id=lot.id), 303)


# --- one lot ----------------------------------------------------------------------------------


def _lot_context(lot: Lot) -> dict[str, Any]:
    principal = user()
    session = request_session()
    present_lots([lot])
    manages = scope.manages(session, principal, lot.establishment_id)
    result = trace_ops.trace(session, principal, lot.id, "both")
    index = result.index()
    key = str(lot.id)
    inputs = [
        (edge, index.get(edge.source_lot_id))
        for edge in result.edges
        if edge.target_lot_id == key and edge.direction in ("backward", "both")
    ]
    outputs = [
        (edge, index.get(edge.target_lot_id))
        for edge in result.edges
        if edge.source_lot_id == key and edge.direction in ("forward", "both")
    ]
    suppliers = [s for s in result.suppliers if s.lot_id == key]
    recipients = [r for r in result.recipients if r.lot_id == key]
    shipments = (
        present_shipments(
            list(session.scalars(shipment_ops.query(session, principal, {"lot_id": lot.id})))
        )
        if manages
        else []
    )
    return {
        "lot": lot,
        "manages": manages,
        "diary": lot_ops.diary(session, lot),
        "inputs": inputs,
        "outputs": outputs,
        "suppliers": suppliers,
        "recipients": recipients,
        "shipments": shipments,
        "withheld": result.withheld,
    }


@blp.get("/lots/<uuid:lot_id>")
@page(*VIEWERS)
def lot(lot_id: uuid.UUID) -> Any:
    """A lot: its data, diary in time order, inputs and outputs, status changes."""
    found = lot_ops.get_lot_for(request_session(), user(), lot_id)
    return render_template("products/lot.html", errors={}, **_lot_context(found))


@blp.post("/lots/<uuid:lot_id>/status")
@page("establishment")
def lot_status(lot_id: uuid.UUID) -> Any:
    """Hold, release or record destroyed, with a reason."""
    found = _managed_lot(lot_id)
    try:
        body = LotStatusIn().load(compact(form_values(("status", "reason"))))
        lot_ops.set_status(
            request_session(),
            actor=user(),
            lot=found,
            status=body["status"],
            reason=body["reason"],
        )
    except (ValidationError, DomainError) as exc:
        return render_form("products/lot.html", errors=form_errors(exc), **_lot_context(found))
    flash(_("Đã cập nhật trạng thái lô."))
    return redirect(url_for("products_web.lot", lot_id=found.id), 303)


@blp.route("/lots/<uuid:lot_id>/diary", methods=["GET", "POST"])
@page("establishment")
def diary(lot_id: uuid.UUID) -> Any:
    """A quick production-diary entry made for a phone: stage, time, place, note, photo."""
    found = _managed_lot(lot_id)
    present_lots([found])
    context = {"lot": found, "kinds": options(STAGE_LABELS, DIARY_KINDS)}
    if request.method == "GET":
        values = {"kind": request.args.get("kind", "production"), "occurred_at": local_input()}
        return render_template("products/diary.html", values=values, errors={}, **context)
    values = form_values(("kind", "occurred_at", "place", "description"))
    data = compact(values)
    if "occurred_at" in data:
        data["occurred_at"] = aware(data["occurred_at"])
    session = request_session()
    principal = user()
    photo = request.files.get("file")
    try:
        body = StageIn().load(data)
        upload = None
        if photo is not None and photo.filename:
            try:
                upload = accept_upload(photo, kinds=DOCUMENT_KINDS, max_bytes=upload_limit())
            except DomainError as exc:
                errors = form_errors(exc)
                errors["file"] = errors.pop("_form", []) + errors.pop("file", [])
                return render_form("products/diary.html", errors=errors, values=values, **context)
        event = lot_ops.add_stage(session, actor=principal, lot=found, data=body)
        if upload is not None:
            key = upload.key("products", "diary")
            lot_ops.attach(
                session,
                actor=principal,
                event=event,
                key=key,
                name=upload.original_name,
                content_type=upload.content_type,
                size=upload.size,
            )
            files().save(key, upload.data)
    except (ValidationError, DomainError) as exc:
        return render_form("products/diary.html", errors=form_errors(exc), values=values, **context)
    flash(_("Đã ghi nhật ký: %(stage)s.", stage=STAGE_LABELS[event.kind]))
    return redirect(url_for("products_web.lot", lot_id=found.id), 303)


@blp.post("/lots/<uuid:lot_id>/stages/<uuid:stage_id>/void")
@page("establishment")
def void_stage(lot_id: uuid.UUID, stage_id: uuid.UUID) -> Any:
    """Void a wrong diary entry (kept, marked, with the reason)."""
    found = _managed_lot(lot_id)
    session = request_session()
    event = lot_ops.get_stage(session, found, stage_id)
    try:
        body = VoidIn().load(compact(form_values(("reason",))))
        lot_ops.void_stage(session, actor=user(), event=event, reason=body["reason"])
    except (ValidationError, DomainError) as exc:
        return render_form("products/lot.html", errors=form_errors(exc), **_lot_context(found))
    flash(_("Đã hủy mục nhật ký."))
    return redirect(url_for("products_web.lot", lot_id=found.id), 303)


@blp.get("/lots/<uuid:lot_id>/stages/<uuid:stage_id>/attachments/<string:name>")
@page(*VIEWERS)
def attachment(lot_id: uuid.UUID, stage_id: uuid.UUID, name: str) -> Any:
    """A photo or document of a diary entry."""
    session = request_session()
    found = lot_ops.get_lot_for(session, user(), lot_id)
    event = lot_ops.get_stage(session, found, stage_id)
    for item in event.attachments or []:
        if item["key"].rsplit("/", 1)[-1] == name:
            return send_stored(item["key"], item["content_type"], item["name"], inline=True)
    raise NotFound()


# --- shipping and receiving -------------------------------------------------------------------

SHIP_FIELDS = (
    "recipient_registration_no",
    "recipient_name",
    "recipient_address",
    "recipient_code",
    "quantity",
    "unit",
    "shipped_at",
    "place",
    "note",
)


def _recipient_by_registration(number: str) -> uuid.UUID:
    return directory.recipient_by_registration_no(request_session(), number)


@blp.route("/lots/<uuid:lot_id>/ship", methods=["GET", "POST"])
@page("establishment")
def ship(lot_id: uuid.UUID) -> Any:
    """Ship part of a lot to an establishment in the system (by its business registration
    number) or to a named party outside it."""
    found = _managed_lot(lot_id)
    present_lots([found])
    if request.method == "GET":
        values = {"shipped_at": local_input(), "unit": found.unit or ""}
        return render_template("products/ship.html", lot=found, values=values, errors={})
    values = form_values(SHIP_FIELDS)
    data = compact(values)
    registration = data.pop("recipient_registration_no", None)
    data["lot_id"] = str(found.id)
    if "shipped_at" in data:
        data["shipped_at"] = aware(data["shipped_at"])
    try:
        if registration:
            data["recipient_establishment_id"] = str(_recipient_by_registration(registration))
        body = ShipmentIn().load(data)
        shipment = shipment_ops.send(request_session(), actor=user(), data=body)
    except (ValidationError, DomainError) as exc:
        return render_form("products/ship.html", lot=found, values=values, errors=form_errors(exc))
    flash(_("Đã ghi giao hàng cho %(name)s.", name=shipment.recipient_name))
    return redirect(url_for("products_web.lot", lot_id=found.id), 303)


@blp.post("/shipments/<uuid:shipment_id>/cancel")
@page("establishment")
def cancel_shipment(shipment_id: uuid.UUID) -> Any:
    """Withdraw a shipment not yet received (reason required)."""
    session = request_session()
    principal = user()
    shipment = shipment_ops.get_for(session, principal, shipment_id)
    try:
        reason = VoidIn().load(compact(form_values(("reason",))))["reason"]
        shipment_ops.cancel(session, actor=principal, shipment=shipment, reason=reason)
    except (ValidationError, DomainError) as exc:
        flash(" ".join(m for ms in form_errors(exc).values() for m in ms), "error")
        return redirect(url_for("products_web.lot", lot_id=shipment.lot_id), 303)
    flash(_("Đã hủy lần giao hàng."))
    return redirect(url_for("products_web.lot", lot_id=shipment.lot_id), 303)


@blp.get("/shipments")
@page("establishment")
def shipments() -> Any:
    """Shipments other establishments sent to this one: those to receive, then the others."""
    principal = user()
    session = request_session()
    status = request.args.get("status", "sent")
    args: dict[str, Any] = {"direction": "incoming"}
    if status in ("sent", "received", "cancelled"):
        args["status"] = status
    result = paged(shipment_ops.query(session, principal, args))
    present_shipments(result.items)
    return render_template("products/shipments.html", result=result, status=status)


RECEIVE_FIELDS = (
    "product_id",
    "lot_code",
    "received_at",
    "quantity",
    "unit",
    "place",
    "production_date",
    "expiry_date",
)


@blp.route("/shipments/<uuid:shipment_id>/receive", methods=["GET", "POST"])
@page("establishment")
def receive(shipment_id: uuid.UUID) -> Any:
    """Receive a shipment into a new lot of one of this establishment's products."""
    principal = user()
    session = request_session()
    shipment = shipment_ops.get_for(session, principal, shipment_id)
    if shipment.recipient_establishment_id != principal.establishment_id:
        raise NotFound()
    present_shipments([shipment])
    context = {"shipment": shipment, "products": [(str(p.id), p.name) for p in _products()]}
    if request.method == "GET":
        values: dict[str, Any] = {
            "received_at": local_input(),
            "quantity": shipment.quantity if shipment.quantity is not None else "",
            "unit": shipment.unit or "",
        }
        return render_template("products/receive.html", values=values, errors={}, **context)
    values = dict(form_values(RECEIVE_FIELDS))
    data = compact(values)
    if "received_at" in data:
        data["received_at"] = aware(data["received_at"])
    try:
        body = ReceiveIn().load(data)
        received = shipment_ops.receive(session, actor=principal, shipment=shipment, data=body)
    except (ValidationError, DomainError) as exc:
        return render_form(
            "products/receive.html", values=values, errors=form_errors(exc), **context
        )
    flash(_("Đã nhận hàng vào lô %(code)s.", code=received.code))
    return redirect(url_for("products_web.lot", lot_id=received.id), 303)


# --- the trace --------------------------------------------------------------------------------


@blp.get("/lots/<uuid:lot_id>/trace")
@page(*VIEWERS)
def trace(lot_id: uuid.UUID) -> Any:
    """The trace as two trees: back to every origin, forward to every recipient."""
    principal = user()
    session = request_session()
    found = trace_ops.readable_lot(session, principal, lot_id)
    depth = min(max(1, request.args.get("depth", 50, type=int) or 50), MAX_TREE_DEPTH)
    result = trace_ops.trace(session, principal, found.id, "both")
    backward = trace_ops.tree(result, "backward", max_depth=depth)
    forward = trace_ops.tree(result, "forward", max_depth=depth)
    index = result.index()
    api = f"{request.script_root}/api/v1/lots/{found.id}/trace/export"
    return render_template(
        "products/trace.html",
        lot=found,
        start=result.start_node,
        backward=backward,
        forward=forward,
        index=index,
        counts=trace_ops.counts(result),
        withheld=result.withheld,
        redacted=result.redacted,
        export_xlsx=f"{api}?format=xlsx",
        export_csv=f"{api}?format=csv",
        max_depth=depth,
    )
