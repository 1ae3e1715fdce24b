"""Who sees which units' reports: the administrator every unit; an agency officer their own
unit and its sub-units (over the directory copy's paths); establishments and the public
nothing (reports are the agencies' work). A unit outside the scope is 404, not 403, so its
existence is not confirmed."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reports.domain.directory import COPY
from services.reports.models import DirectoryUnit
from shared.auth import Principal
from shared.errors import Forbidden, NotFound


def require_officer(principal: Principal) -> None:
    if not (principal.is_admin or principal.role == "agency"):
        raise Forbidden()


def unit_ids(session: Session, principal: Principal, settings: Any) -> set[str] | None:
    """The ids of the units the principal may read; None for every unit."""
    require_officer(principal)
    if principal.is_admin:
        return None
    path = COPY.unit_path(session, principal.unit_id, settings=settings)
    if path is None:
        return set()
    rows = session.scalars(
        select(DirectoryUnit.id).where(DirectoryUnit.path.startswith(path, autoescape=True))
    )
    return {str(u) for u in rows}


def require_unit(
    session: Session, principal: Principal, unit_id: uuid.UUID | str, settings: Any
) -> None:
    allowed = unit_ids(session, principal, settings)
    if allowed is not None and str(unit_id) not in allowed:
        raise NotFound()
    if session.get(DirectoryUnit, uuid.UUID(str(unit_id))) is None:
        raise NotFound()


def default_unit(session: Session, principal: Principal) -> uuid.UUID | None:
    """The unit a report is about when none is named: the officer's own; the whole province
    (None) for the administrator."""
    require_officer(principal)
    return None if principal.is_admin else principal.unit_id


def require_own_unit(principal: Principal, unit_id: uuid.UUID) -> None:
    """Only the unit's own officers (or the administrator) write its narrative."""
    require_officer(principal)
    if not principal.is_admin and principal.unit_id != unit_id:
        raise Forbidden()
