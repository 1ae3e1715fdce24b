"""Shipments between establishments (one step forward) and their receipt (one step back)."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from services.products.api.common import etag
from services.products.api.lots import present_one
from services.products.domain import shipments as ops
from services.products.models import DirectoryEstablishment, Lot, Product, Shipment
from services.products.schemas.lots import (
    CancelIn,
    LotOut,
    ReceiveIn,
    ShipmentIn,
    ShipmentOut,
    ShipmentQuery,
)
from shared.auth import authenticated
from shared.db import request_session
from shared.pagination import paginate

PREFIX = "shipments"
blp = Blueprint("shipments", __name__, description="Shipments (giao hàng) and receipts")


def present(rows: list[Shipment]) -> list[Shipment]:
    if not rows:
        return rows
    session = request_session()
    lots = {
        lot.id: (lot, product)
        for lot, product in session.execute(
            select(Lot, Product)
            .join(Product, Product.id == Lot.product_id)
            .where(Lot.id.in_({s.lot_id for s in rows}))
        ).all()
    }
    names = dict(
        session.execute(
            select(DirectoryEstablishment.id, DirectoryEstablishment.name).where(
                DirectoryEstablishment.id.in_({s.establishment_id for s in rows})
            )
        ).all()
    )
    for shipment in rows:
        lot, product = lots[shipment.lot_id]
        shipment.lot_code = lot.code  # type: ignore[attr-defined]
        shipment.lot_status = lot.status  # type: ignore[attr-defined]
        shipment.product_name = product.name  # type: ignore[attr-defined]
        shipment.establishment_name = names.get(shipment.establishment_id)  # type: ignore[attr-defined]
    return rows


@blp.get("/")
@blp.arguments(ShipmentQuery, location="query")
@blp.response(200, ShipmentOut(many=True))
@blp.paginate()
def list_shipments(args: dict[str, Any], pagination_parameters: Any) -> list[Shipment]:
    """Shipments sent by or to establishments in scope; `direction=incoming` is what others
    sent to you (to receive), `outgoing` what you sent."""
    principal = authenticated()
    session = request_session()
    return present(paginate(session, ops.query(session, principal, args), pagination_parameters))


@blp.post("/")
@blp.arguments(ShipmentIn)
@blp.response(201, ShipmentOut)
def send_shipment(body: dict[str, Any]) -> Any:
    """Ship part of a lot to an establishment in the system (it then receives it) or to a
    named customer outside it. A shipping entry is added to the lot's diary."""
    principal = authenticated()
    shipment = ops.send(request_session(), actor=principal, data=body)
    return etag(present([shipment])[0], 201)


@blp.get("/<uuid:shipment_id>")
@blp.response(200, ShipmentOut)
def get_shipment(shipment_id: uuid.UUID) -> Any:
    principal = authenticated()
    return etag(present([ops.get_for(request_session(), principal, shipment_id)])[0])


@blp.post("/<uuid:shipment_id>/receive")
@blp.arguments(ReceiveIn)
@blp.response(201, LotOut)
def receive_shipment(body: dict[str, Any], shipment_id: uuid.UUID) -> Any:
    """The recipient receives the shipment into a new lot of one of its products (or an
    existing lot of its own); both sides of the chain are linked. If the shipped lot is under
    recall, the received lot joins the recall."""
    principal = authenticated()
    session = request_session()
    shipment = ops.get_for(session, principal, shipment_id)
    lot = ops.receive(session, actor=principal, shipment=shipment, data=body)
    return present_one(lot, 201)


@blp.post("/<uuid:shipment_id>/cancel")
@blp.arguments(CancelIn)
@blp.response(200, ShipmentOut)
def cancel_shipment(body: dict[str, Any], shipment_id: uuid.UUID) -> Any:
    """Withdraw a shipment not yet received (reason required)."""
    principal = authenticated()
    session = request_session()
    shipment = ops.get_for(session, principal, shipment_id)
    ops.cancel(session, actor=principal, shipment=shipment, reason=body["reason"])
    return etag(present([shipment])[0])
