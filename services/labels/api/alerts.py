"""Counterfeit alerts for the agencies: serials scanned too often or in too many places,
forged, voided and never-issued codes (domain/scans.py raises them).

Scope: the administrator sees every alert (also those no establishment can be named for);
an agency those of the establishments its unit manages; an establishment its own. Outside
the scope an alert is 404. Only managers (administrator, managing agency) change a status
(403 for an establishment); each change is audited.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import Select, select

from services.labels.domain import oversight
from services.labels.domain.directory import COPY
from services.labels.models import CounterfeitAlert, DirectoryEstablishment
from services.labels.schemas.oversight import AlertOut, AlertQuery, AlertStatusIn
from shared.auth import Principal, authenticated
from shared.db import request_session
from shared.errors import Forbidden, NotFound
from shared.pagination import paginate

PREFIX = "alerts"
blp = Blueprint("alerts", __name__, description="Counterfeit alerts (cảnh báo hàng giả)")


def _settings() -> Any:
    return current_app.config["SETTINGS"]


def in_scope(principal: Principal, model: Any) -> Any:
    """The WHERE clause of what the principal may read (rows naming no establishment: the
    administrator's only)."""
    return COPY.scope_filter(request_session(), principal, model.establishment_id, _settings())


def with_names(rows: list[Any]) -> list[Any]:
    """Each row's establishment name, from the directory copy (one query)."""
    ids = {r.establishment_id for r in rows if r.establishment_id is not None}
    names = (
        dict(
            request_session()
            .execute(
                select(DirectoryEstablishment.id, DirectoryEstablishment.name).where(
                    DirectoryEstablishment.id.in_(ids)
                )
            )
            .all()
        )
        if ids
        else {}
    )
    for row in rows:
        row.establishment_name = names.get(row.establishment_id)
    return rows


def may_manage(principal: Principal, establishment_id: uuid.UUID | None) -> bool:
    if principal.is_admin:
        return True
    if principal.role != "agency" or establishment_id is None:
        return False
    return COPY.manages(request_session(), principal, establishment_id, _settings())


def _query(principal: Principal, args: dict[str, Any]) -> Select[Any]:
    stmt = select(CounterfeitAlert).where(in_scope(principal, CounterfeitAlert))
    for name in ("status", "reason", "establishment_id", "product_id"):
        if args.get(name) is not None:
            stmt = stmt.where(getattr(CounterfeitAlert, name) == args[name])
    return stmt.order_by(CounterfeitAlert.last_seen.desc(), CounterfeitAlert.id)


def _get(principal: Principal, alert_id: uuid.UUID) -> CounterfeitAlert:
    alert = request_session().scalar(
        select(CounterfeitAlert).where(
            CounterfeitAlert.id == alert_id, in_scope(principal, CounterfeitAlert)
        )
    )
    if alert is None:
        raise NotFound()
    return alert


@blp.get("/")
@blp.arguments(AlertQuery, location="query")
@blp.response(200, AlertOut(many=True))
@blp.paginate()
def list_alerts(args: dict[str, Any], pagination_parameters: Any) -> list[CounterfeitAlert]:
    """Counterfeit alerts in the caller's scope, most recently seen first."""
    principal = authenticated()
    rows = paginate(request_session(), _query(principal, args), pagination_parameters)
    return with_names(rows)


@blp.get("/<uuid:alert_id>")
@blp.response(200, AlertOut)
def get_alert(alert_id: uuid.UUID) -> CounterfeitAlert:
    principal = authenticated()
    return with_names([_get(principal, alert_id)])[0]


@blp.post("/<uuid:alert_id>/status")
@blp.arguments(AlertStatusIn)
@blp.response(200, AlertOut)
def set_alert_status(body: dict[str, Any], alert_id: uuid.UUID) -> CounterfeitAlert:
    """Dismiss or confirm an alert (or open it again), with a note. Managers only."""
    principal = authenticated()
    alert = _get(principal, alert_id)
    if not may_manage(principal, alert.establishment_id):
        raise Forbidden()
    oversight.set_status(
        request_session(), actor=principal, row=alert, status=body["status"], note=body.get("note")
    )
    return with_names([alert])[0]
