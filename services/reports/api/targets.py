"""The year's five percentage targets: read by every officer, set by the administrator."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from services.reports.api.common import check_year
from services.reports.domain import scope, targets
from services.reports.schemas import TargetsIn, TargetsOut
from shared.auth import authenticated
from shared.db import request_session
from shared.errors import Forbidden
from shared.pagination import if_match_version

PREFIX = "targets"
blp = Blueprint("targets", __name__, description="The year's targets (chỉ tiêu năm)")


@blp.get("/<int:year>")
@blp.response(200, TargetsOut)
def get_targets(year: int) -> dict[str, Any]:
    """The year's targets (the plan's defaults until the administrator sets them). `version`
    is the value to send in `If-Match` when changing them (0 while on the defaults)."""
    scope.require_officer(authenticated())
    return targets.for_year(request_session(), check_year(year)).as_dict()


@blp.put("/<int:year>")
@blp.arguments(TargetsIn)
@blp.response(200, TargetsOut)
def put_targets(body: dict[str, Any], year: int) -> dict[str, Any]:
    """Set the year's five targets (percentages 0–100). Administrator only; `If-Match` with
    the version read guards against overwriting someone else's change (412)."""
    principal = authenticated()
    scope.require_officer(principal)
    if not principal.is_admin:
        raise Forbidden()
    check_year(year)
    expected = if_match_version(request.headers.get("If-Match"))
    goals = targets.update(
        request_session(), year, body, actor=principal.account_id, expected_version=expected
    )
    return goals.as_dict()
