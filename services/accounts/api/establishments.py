"""Establishments: the minimum the accounts need (the registry grows in its own issue)."""

from __future__ import annotations

import uuid
from typing import Any

from flask_smorest import Blueprint
from sqlalchemy import select

from services.accounts.domain import establishments as establishment_ops
from services.accounts.domain import scope
from services.accounts.models import Establishment
from services.accounts.schemas import EstablishmentIn, EstablishmentOut
from shared.auth import authenticated
from shared.db import request_session
from shared.pagination import paginate

PREFIX = "establishments"
blp = Blueprint("establishments", __name__, description="Establishments (cơ sở)")


@blp.get("/")
@blp.response(200, EstablishmentOut(many=True))
@blp.paginate()
def list_establishments(pagination_parameters: Any) -> list[Establishment]:
    principal = authenticated()
    session = request_session()
    stmt = select(Establishment)
    if principal.role == "establishment":
        stmt = stmt.where(Establishment.id == principal.establishment_id)
    else:
        scope.require_manager(principal)
        stmt = stmt.where(Establishment.unit_id.in_(scope.units_in_scope(session, principal)))
    return paginate(
        session, stmt.order_by(Establishment.name_folded, Establishment.id), pagination_parameters
    )


@blp.post("/")
@blp.arguments(EstablishmentIn)
@blp.response(201, EstablishmentOut)
def create_establishment(body: dict[str, Any]) -> Establishment:
    return establishment_ops.create(request_session(), actor=authenticated(), **body)


@blp.get("/<uuid:establishment_id>")
@blp.response(200, EstablishmentOut)
def get_establishment(establishment_id: uuid.UUID) -> Establishment:
    return scope.get_establishment_for(request_session(), authenticated(), establishment_id)
