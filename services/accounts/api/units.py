"""Management units: the tree, read by everyone in scope, edited by administrators."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask_smorest import Blueprint
from sqlalchemy import select

from services.accounts.domain import scope
from services.accounts.domain import units as unit_ops
from services.accounts.models import AuditEvent, Unit
from services.accounts.schemas import AuditOut, RetireIn, UnitIn, UnitOut, UnitPatch, UnitQuery
from shared.auth import authenticated
from shared.db import request_session
from shared.pagination import if_match_version
from shared.text import fold

PREFIX = "units"
blp = Blueprint("units", __name__, description="Management units (đơn vị quản lý)")


@blp.get("/")
@blp.arguments(UnitQuery, location="query")
@blp.response(200, UnitOut(many=True))
def list_units(args: dict[str, Any]) -> list[Unit]:
    """The units in the caller's scope (admin: all; agency: its subtree), in tree order."""
    principal = authenticated()
    session = request_session()
    stmt = select(Unit).where(Unit.id.in_(scope.units_in_scope(session, principal)))
    if "status" in args:
        stmt = stmt.where(Unit.status == args["status"])
    if "parent_id" in args:
        stmt = stmt.where(Unit.parent_id == args["parent_id"])
    if args.get("q"):
        stmt = stmt.where(Unit.name_folded.contains(fold(args["q"]), autoescape=True))
    return list(session.scalars(stmt.order_by(Unit.path)))


@blp.post("/")
@blp.arguments(UnitIn)
@blp.response(201, UnitOut)
def create_unit(body: dict[str, Any]) -> Unit:
    """Create a unit (administrators)."""
    return unit_ops.create_unit(request_session(), actor=authenticated(), **body)


@blp.get("/<uuid:unit_id>")
@blp.response(200, UnitOut)
def get_unit(unit_id: uuid.UUID) -> Any:
    principal = authenticated()
    unit = scope.get_unit_for(request_session(), principal, unit_id)
    return unit, 200, {"ETag": f'"{unit.version}"'}


@blp.patch("/<uuid:unit_id>")
@blp.arguments(UnitPatch)
@blp.response(200, UnitOut)
def update_unit(body: dict[str, Any], unit_id: uuid.UUID) -> Any:
    """Rename, re-code, or move a unit (administrators). Send `If-Match` with the version you
    read; a stale version is answered 412 instead of silently overwriting."""
    principal = authenticated()
    session = request_session()
    scope.require_admin(principal)
    unit = unit_ops.get_unit(session, unit_id)
    reason = body.pop("reason", None)
    unit = unit_ops.update_unit(
        session,
        actor=principal,
        unit=unit,
        changes=body,
        reason=reason,
        expected_version=if_match_version(request.headers.get("If-Match")),
    )
    return unit, 200, {"ETag": f'"{unit.version}"'}


@blp.post("/<uuid:unit_id>/retire")
@blp.arguments(RetireIn)
@blp.response(200, UnitOut)
def retire_unit(body: dict[str, Any], unit_id: uuid.UUID) -> Unit:
    """Retire a unit that manages nothing any more (administrators); it stays in history."""
    principal = authenticated()
    session = request_session()
    scope.require_admin(principal)
    unit = unit_ops.get_unit(session, unit_id)
    return unit_ops.retire_unit(
        session,
        actor=principal,
        unit=unit,
        reason=body["reason"],
        expected_version=if_match_version(request.headers.get("If-Match")),
    )


@blp.get("/<uuid:unit_id>/history")
@blp.response(200, AuditOut(many=True))
def unit_history(unit_id: uuid.UUID) -> list[AuditEvent]:
    """Every change to the unit, oldest first."""
    principal = authenticated()
    session = request_session()
    scope.require_manager(principal)
    unit = scope.get_unit_for(session, principal, unit_id)
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "unit", AuditEvent.target_id == str(unit.id))
            .order_by(AuditEvent.id)
        )
    )
