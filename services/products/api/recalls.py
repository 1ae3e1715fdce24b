"""Recalls (thu hồi sản phẩm): open one on a lot, follow the Circular's steps with their
deadlines, cancel one found unnecessary, and see every lot and recipient it reaches."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request, url_for
from flask_smorest import Blueprint
from sqlalchemy.orm import Session, selectinload

from services.products.domain import recalls
from services.products.models import Recall
from services.products.schemas.recalls import (
    RecallCancelIn,
    RecallDetailOut,
    RecallLotOut,
    RecallOpenIn,
    RecallOut,
    RecallQuery,
    RecallStepIn,
    RefreshOut,
)
from shared.auth import Principal, authenticated
from shared.db import request_session, utcnow
from shared.pagination import count, if_match_version, paginate_rows

PREFIX = "recalls"
blp = Blueprint(
    "recalls",
    __name__,
    description="Recalls (thu hồi sản phẩm), Circular 17/2021/TT-BNNPTNT Art. 8–13",
)

# The detail lists this many lots; `GET /<id>/impact` pages through all of them.
DETAIL_LOTS = 200


def _etag(recall: Recall) -> dict[str, str]:
    return {"ETag": f'"{recall.version}"'}


def _detail(session: Session, principal: Principal, recall: Recall) -> dict[str, Any]:
    body = recalls.describe(session, recall)
    lots = recalls.lots_query(session, principal, recall)
    body["lots_total"] = count(session, lots)
    body["lots"] = recalls.lot_rows(session.execute(lots.limit(DETAIL_LOTS)))
    body["recipients"] = recalls.recipients(session, principal, recall)
    body["steps"] = list(recall.steps)
    body["sees_everything"] = recalls.sees_everything(session, principal, recall)
    return body


@blp.get("/")
@blp.arguments(RecallQuery, location="query")
@blp.response(200, RecallOut(many=True))
@blp.paginate()
def list_recalls(args: dict[str, Any], pagination_parameters: Any) -> list[dict[str, Any]]:
    """Recalls in the caller's view, newest first: the administrator all; an agency those of
    its establishments' lots or reaching them; an establishment those of its lots or reaching
    them. Each with its two deadlines and their state now."""
    principal = authenticated()
    session = request_session()
    stmt = recalls.list_query(session, principal, args)
    rows = paginate_rows(session, stmt.options(selectinload(Recall.steps)), pagination_parameters)
    now = utcnow()
    return [
        recalls.summary(recall, code, product_id, product, establishment, now)
        for recall, code, product_id, product, establishment in rows
    ]


@blp.post("/")
@blp.arguments(RecallOpenIn)
@blp.response(201, RecallDetailOut)
def open_recall(body: dict[str, Any]) -> Any:
    """Open a recall of a lot: voluntary by the establishment owning it, compulsory when an
    agency managing it (or the administrator) imposes it. Every lot the forward trace reaches
    is marked recalled, and every establishment concerned and its managing unit is notified.
    409 when the lot already has an open recall."""
    principal = authenticated()
    session = request_session()
    lot = recalls.find_lot(session, principal, body["lot_id"])
    recall = recalls.open_recall(
        session,
        actor=principal,
        lot=lot,
        kind=body.get("kind"),
        reason=body["reason"],
        hazard=body.get("hazard"),
        found_at=body.get("found_at"),
        settings=current_app.config["SETTINGS"],
    )
    headers = _etag(recall) | {
        "Location": url_for("recalls.get_recall", recall_id=recall.id, _external=False)
    }
    return _detail(session, principal, recall), 201, headers


@blp.get("/<uuid:recall_id>")
@blp.response(200, RecallDetailOut)
def get_recall(recall_id: uuid.UUID) -> Any:
    """A recall with its steps (who, when), deadlines, the lots it reaches and the recipients
    to chase. Those who run it see all of them; a downstream establishment or its agency sees
    the ones in its scope."""
    principal = authenticated()
    session = request_session()
    recall = recalls.get_visible(session, principal, recall_id)
    return _detail(session, principal, recall), 200, _etag(recall)


@blp.post("/<uuid:recall_id>/steps")
@blp.arguments(RecallStepIn)
@blp.response(200, RecallDetailOut)
def record_step(body: dict[str, Any], recall_id: uuid.UUID) -> Any:
    """Record the next step: assessed → plan_approved → executed → handled (with `handling`)
    → reported (starts the 3-working-day clock) → closed (an authority's decision on the
    handling). `If-Match` with the version you read is optional; a stale one is answered 412."""
    principal = authenticated()
    session = request_session()
    recall = recalls.get_visible(session, principal, recall_id)
    recalls.advance(
        session,
        actor=principal,
        recall=recall,
        step=body["step"],
        note=body.get("note"),
        handling=body.get("handling"),
        if_match_version=if_match_version(request.headers.get("If-Match")),
        settings=current_app.config["SETTINGS"],
    )
    return _detail(session, principal, recall), 200, _etag(recall)


@blp.post("/<uuid:recall_id>/cancel")
@blp.arguments(RecallCancelIn)
@blp.response(200, RecallDetailOut)
def cancel_recall(body: dict[str, Any], recall_id: uuid.UUID) -> Any:
    """Cancel a recall found unnecessary, before it is carried out; its lots go back to their
    former status (unless another open recall holds them). A compulsory recall is cancelled
    by an authority only."""
    principal = authenticated()
    session = request_session()
    recall = recalls.get_visible(session, principal, recall_id)
    recalls.cancel(
        session,
        actor=principal,
        recall=recall,
        reason=body["reason"],
        if_match_version=if_match_version(request.headers.get("If-Match")),
    )
    return _detail(session, principal, recall), 200, _etag(recall)


@blp.post("/<uuid:recall_id>/refresh")
@blp.response(200, RefreshOut)
def refresh_recall(recall_id: uuid.UUID) -> Any:
    """Walk the trace again: lots made from or received from the recalled lots since the
    recall was opened join it (marked recalled, their establishments notified)."""
    principal = authenticated()
    session = request_session()
    recall = recalls.get_visible(session, principal, recall_id)
    refreshed = recalls.refresh_impact(session, actor=principal, recall=recall)
    body = {
        "added_lots": refreshed.added_lots,
        "added_recipients": refreshed.added_recipients,
        "notified_establishments": refreshed.notified_establishments,
        "recall": recalls.describe(session, recall),
    }
    return body, 200, _etag(recall)


@blp.get("/<uuid:recall_id>/impact")
@blp.response(200, RecallLotOut(many=True))
@blp.paginate()
def recall_impact(recall_id: uuid.UUID, pagination_parameters: Any) -> list[dict[str, Any]]:
    """Every lot the recall reaches (that you may see), nearest first, with its status before
    the recall and now."""
    principal = authenticated()
    session = request_session()
    recall = recalls.get_visible(session, principal, recall_id)
    stmt = recalls.lots_query(session, principal, recall)
    return recalls.lot_rows(paginate_rows(session, stmt, pagination_parameters))
