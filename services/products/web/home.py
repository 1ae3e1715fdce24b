"""The establishment's home page: its figures, warnings, recalls and shipments to receive."""

from __future__ import annotations

from typing import Any

from flask import render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.products.api.shipments import present as present_shipments
from services.products.domain import certifications as certification_ops
from services.products.domain import lots as lot_ops
from services.products.domain import products as product_ops
from services.products.domain import recalls
from services.products.domain import shipments as shipment_ops
from services.products.models import DirectoryEstablishment, Recall
from services.products.web import blp
from shared.db import request_session, utcnow
from shared.pagination import count
from shared.web import page, user

LIST_LIMIT = 10


@blp.get("/")
@page("establishment")
def home() -> Any:
    """Tổng quan của cơ sở."""
    principal = user()
    session = request_session()
    establishment = session.scalar(
        select(DirectoryEstablishment).where(
            DirectoryEstablishment.id == principal.establishment_id
        )
    )
    products = count(session, product_ops.product_query(session, principal, {}))
    lots = {
        status: count(session, lot_ops.lot_query(session, principal, {"status": status}))
        for status in ("active", "on_hold", "recalled")
    }
    certificates = {
        state: list(
            session.scalars(
                certification_ops.query(session, principal, {"state": state}).limit(LIST_LIMIT)
            )
        )
        for state in ("expired", "expiring")
    }
    rows = session.execute(
        recalls.list_query(session, principal, {"open": True})
        .options(selectinload(Recall.steps))
        .limit(LIST_LIMIT)
    ).all()
    now = utcnow()
    open_recalls = [
        recalls.summary(r, code, pid, pname, ename, now) for r, code, pid, pname, ename in rows
    ]
    incoming = present_shipments(
        list(
            session.scalars(
                shipment_ops.query(
                    session, principal, {"direction": "incoming", "status": "sent"}
                ).limit(LIST_LIMIT)
            )
        )
    )
    return render_template(
        "products/home.html",
        establishment=establishment,
        products=products,
        lots=lots,
        certificates=certificates,
        recalls=open_recalls,
        incoming=incoming,
    )
