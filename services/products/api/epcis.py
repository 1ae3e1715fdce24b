"""GS1 EPCIS 2.0 export (JSON-LD): master data and events of a lot, of an establishment over a
period, or of everything in the caller's scope over a period — the way to share data with the
ministry. Each answer is one `EPCISDocument` (`application/ld+json`) valid against GS1's EPCIS
2.0 JSON schema; see `services.products.domain.epcis` for how the data map to EPCIS."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Response
from flask_smorest import Blueprint
from sqlalchemy import false

from services.products.domain import epcis, scope
from services.products.models import DirectoryEstablishment, Lot
from services.products.schemas.epcis import EPCISDocumentOut, LotExportQuery, PeriodQuery
from shared.auth import Principal, authenticated
from shared.db import request_session
from shared.errors import NotFound

PREFIX = "epcis"
LD_JSON = "application/ld+json"
blp = Blueprint("epcis", __name__, description="GS1 EPCIS 2.0 export (JSON-LD)")


def _answer(document: dict[str, Any]) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), mimetype=LD_JSON)


def _visible(principal: Principal) -> epcis.Visible | None:
    """Whose events the caller may see: None for everything (admin, services)."""
    if principal.is_admin or principal.is_service:
        return None
    session = request_session()
    readable = set(session.scalars(scope.establishments_in_scope(session, principal)))
    return readable.__contains__


def _in_scope(principal: Principal) -> epcis.Scope:
    """A clause limiting an establishment-id column to the caller's scope."""
    session = request_session()

    def where(column: Any) -> Any:
        if principal.role == "establishment" and principal.establishment_id is None:
            return false()
        return scope.scope_filter(session, principal, column)

    return where


@blp.get("/lots/<uuid:lot_id>")
@blp.arguments(LotExportQuery, location="query")
@blp.response(200, EPCISDocumentOut, content_type=LD_JSON)
def lot_document(args: dict[str, Any], lot_id: uuid.UUID) -> Response:
    """A lot's EPCIS document: its diary, how it was made, shipped and received, and — unless
    `trace=false` — the same for every lot it came from or went into. An establishment sees
    its own events, and the shipments between it and others; the master data of every lot and
    place those events name."""
    principal = authenticated()
    session = request_session()
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound()
    scope.require_lot_read(session, principal, lot)
    document = epcis.for_lot(
        session, lot_id, include_trace=args["trace"], visible=_visible(principal)
    )
    return _answer(document)


@blp.get("/establishments/<uuid:est_id>")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, EPCISDocumentOut, content_type=LD_JSON)
def establishment_document(args: dict[str, Any], est_id: uuid.UUID) -> Response:
    """What happened at one establishment between `from` and `to` (calendar days in
    Asia/Ho_Chi_Minh, at most a year): its diary, the lots it made from others, its shipments
    and receipts, its deliveries from outside suppliers."""
    principal = authenticated()
    session = request_session()
    if not scope.can_read(session, principal, est_id):
        raise NotFound()
    if session.get(DirectoryEstablishment, est_id) is None:
        raise NotFound()
    start, end = epcis.period(args["from_"], args["to"])
    return _answer(epcis.for_establishment(session, est_id, start, end))


@blp.get("/events")
@blp.arguments(PeriodQuery, location="query")
@blp.response(200, EPCISDocumentOut, content_type=LD_JSON)
def period_document(args: dict[str, Any]) -> Response:
    """Everything that happened between `from` and `to` (calendar days in Asia/Ho_Chi_Minh, at
    most a year) at the establishments in the caller's scope — all of them for an
    administrator, those an agency manages, an establishment's own: the report to the
    ministry."""
    principal = authenticated()
    session = request_session()
    start, end = epcis.period(args["from_"], args["to"])
    return _answer(
        epcis.for_period(
            session,
            start,
            end,
            where=_in_scope(principal),
        )
    )
