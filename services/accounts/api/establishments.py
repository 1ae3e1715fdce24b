"""The establishment registry: list and search, detail, edit, move, history, export."""

from __future__ import annotations

import io
import uuid
from typing import Any

from flask import Response, request, send_file
from flask_smorest import Blueprint

from services.accounts.domain import establishments as establishment_ops
from services.accounts.domain import exports, queries, scope
from services.accounts.domain.search import establishment_query, rows_with_flags, search_page
from services.accounts.models import (
    Establishment,
)
from services.accounts.schemas import (
    EstablishmentHistoryOut,
    EstablishmentIn,
    EstablishmentOut,
    EstablishmentPatch,
    EstablishmentQuery,
    MoveIn,
)
from shared.auth import authenticated
from shared.db import request_session
from shared.pagination import count, if_match_version

PREFIX = "establishments"
blp = Blueprint("establishments", __name__, description="Establishments (cơ sở)")


def _with_flag(establishment: Establishment) -> Any:
    from services.accounts.domain.accounts import count_active_for_establishment

    establishment.has_account = (  # type: ignore[attr-defined]
        count_active_for_establishment(request_session(), establishment.id) > 0
    )
    return establishment, 200, {"ETag": f'"{establishment.version}"'}


@blp.get("/")
@blp.arguments(EstablishmentQuery, location="query")
@blp.response(200, EstablishmentOut(many=True))
@blp.paginate()
def list_establishments(args: dict[str, Any], pagination_parameters: Any) -> list[Any]:
    """Establishments in the caller's scope, filtered; diacritic-insensitive search with `q`.
    An establishment sees only itself."""
    principal = authenticated()
    session = request_session()
    stmt = establishment_query(session, principal, args)
    if args.get("q"):
        rows, total = search_page(
            session,
            stmt,
            offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return rows
    total = count(session, stmt)
    pagination_parameters.item_count = total
    return rows_with_flags(
        session,
        stmt,
        offset=pagination_parameters.first_item,
        limit=pagination_parameters.page_size,
        matches=total,
    )


@blp.post("/")
@blp.arguments(EstablishmentIn)
@blp.response(201, EstablishmentOut)
def create_establishment(body: dict[str, Any]) -> Any:
    """Register an establishment under a unit of the caller's scope."""
    establishment = establishment_ops.create(request_session(), actor=authenticated(), **body)
    return _with_flag(establishment)[0], 201, {"ETag": f'"{establishment.version}"'}


@blp.get("/<uuid:establishment_id>")
@blp.response(200, EstablishmentOut)
def get_establishment(establishment_id: uuid.UUID) -> Any:
    establishment = scope.get_establishment_for(
        request_session(), authenticated(), establishment_id
    )
    return _with_flag(establishment)


@blp.patch("/<uuid:establishment_id>")
@blp.arguments(EstablishmentPatch)
@blp.response(200, EstablishmentOut)
def update_establishment(body: dict[str, Any], establishment_id: uuid.UUID) -> Any:
    """Edit an establishment. `If-Match` with the version you read is required: when another
    officer saved first, the answer is 412 instead of overwriting their change."""
    principal = authenticated()
    session = request_session()
    scope.require_manager(principal)
    establishment = scope.get_establishment_for(session, principal, establishment_id)
    reason = body.pop("reason", None)
    establishment_ops.update_fields(
        session,
        actor=principal,
        establishment=establishment,
        changes=body,
        reason=reason,
        expected_version=if_match_version(request.headers.get("If-Match")),
    )
    return _with_flag(establishment)


@blp.post("/<uuid:establishment_id>/move")
@blp.arguments(MoveIn)
@blp.response(200, EstablishmentOut)
def move_establishment(body: dict[str, Any], establishment_id: uuid.UUID) -> Any:
    """Hand the establishment to another unit (both in the caller's scope); history is kept.
    Requires `If-Match`."""
    principal = authenticated()
    session = request_session()
    scope.require_manager(principal)
    establishment = scope.get_establishment_for(session, principal, establishment_id)
    establishment_ops.move(
        session,
        actor=principal,
        establishment=establishment,
        unit_id=body["unit_id"],
        reason=body["reason"],
        expected_version=if_match_version(request.headers.get("If-Match")),
    )
    return _with_flag(establishment)


@blp.get("/<uuid:establishment_id>/history")
@blp.response(200, EstablishmentHistoryOut)
def establishment_history(establishment_id: uuid.UUID) -> dict[str, Any]:
    """Which unit managed it when, every change with before/after, and what imports changed,
    oldest first."""
    principal = authenticated()
    session = request_session()
    scope.require_manager(principal)
    establishment = scope.get_establishment_for(session, principal, establishment_id)
    return queries.establishment_history(session, establishment)


@blp.get("/export.xlsx")
@blp.arguments(EstablishmentQuery, location="query")
@blp.response(200, content_type=exports.XLSX)
def export_xlsx(args: dict[str, Any]) -> Response:
    """The filtered list as an Excel file (same filters as the list). Text never becomes a
    formula."""
    principal = authenticated()
    scope.require_manager(principal)
    buffer = io.BytesIO()
    exports.write_establishments_xlsx(request_session(), principal, args, buffer)
    buffer.seek(0)
    return send_file(
        buffer, mimetype=exports.XLSX, as_attachment=True, download_name=exports.filename("xlsx")
    )


@blp.get("/export.csv")
@blp.arguments(EstablishmentQuery, location="query")
@blp.response(200, content_type="text/csv")
def export_csv(args: dict[str, Any]) -> Response:
    """The filtered list as CSV (UTF-8 with BOM; cells that could run as formulas are quoted)."""
    principal = authenticated()
    scope.require_manager(principal)
    buffer = io.BytesIO()
    exports.write_establishments_csv(request_session(), principal, args, buffer)
    buffer.seek(0)
    return send_file(
        buffer,
        mimetype="text/csv; charset=utf-8",
        as_attachment=True,
        download_name=exports.filename("csv"),
    )
