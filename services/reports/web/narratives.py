"""`/narratives` — a unit's narrative for a period (default: the officer's own unit and the
quarter due next): what was done, what was not, why, what it proposes. Saved as a draft or
submitted (with a confirmation) through the API's domain function, so the deadline's lock,
lateness and the lost-update guard are the same; the sub-units' state and the reminders sent.
Only the unit's own officers (and the administrator) write; a district reads its communes'.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.reports.api.common import settings
from services.reports.domain import narratives, scope
from services.reports.domain.periods import Period
from services.reports.models import Narrative
from services.reports.schemas import NarrativeIn
from services.reports.web import blp
from services.reports.web.common import (
    OFFICERS,
    parse_uuid,
    period_from,
    period_label,
    unit_name,
    units_in_scope,
)
from shared.db import request_session, utcnow
from shared.errors import DomainError, NotFound, PreconditionFailed
from shared.web import _, form_errors, page, render_form, user

FIELDS = narratives.TEXT_FIELDS


def _unit(units: list[Any]) -> uuid.UUID:
    """The unit asked for (in scope, else 404), or the officer's own, or the first in scope."""
    session = request_session()
    principal = user()
    unit_id = parse_uuid(request.args.get("unit_id")) or principal.unit_id
    if unit_id is None:
        if not units:
            raise NotFound()
        unit_id = uuid.UUID(units[0].id)
    scope.require_unit(session, principal, unit_id, settings())
    return unit_id


def _context(
    unit_id: uuid.UUID, period: Period, units: list[Any], values: dict[str, Any] | None = None
) -> dict[str, Any]:
    session = request_session()
    principal = user()
    now = utcnow()
    narrative: Narrative | None
    try:
        narrative = narratives.get(session, unit_id, period)
    except NotFound:
        narrative = None
    if values is None:
        values = {name: getattr(narrative, name) if narrative else "" for name in FIELDS}
        values["version"] = narrative.version if narrative else 0
    submitted = narrative is not None and narrative.status == "submitted"
    locked = submitted and now > period.due_at
    sub_units = [
        row
        for row in narratives.status(session, unit_id, period, now)
        if row["unit_id"] != str(unit_id)
    ]
    return {
        "units": units,
        "unit_id": str(unit_id),
        "unit_name": unit_name(units, unit_id),
        "period": period,
        "period_text": period_label(period, g.get("lang", "vi")),
        "narrative": narrative,
        "values": values,
        "errors": {},
        "can_write": scope_can_write(principal, unit_id) and not locked,
        "own_unit": scope_can_write(principal, unit_id),
        "locked": locked,
        "late": narratives.is_late(narrative, period, now),
        "overdue": now > period.due_at,
        "sub_units": sub_units,
        "reminders": narratives.reminders_for(session, {str(unit_id)}, limit=20),
        "action": _url(unit_id, period),
        "choice": {
            "kind": period.kind,
            "year": period.year,
            "quarter": period.quarter or "",
            "unit_id": str(unit_id),
        },
    }


def _url(unit_id: uuid.UUID, period: Period) -> str:
    args: dict[str, Any] = {"unit_id": str(unit_id), "kind": period.kind, "year": period.year}
    if period.quarter:
        args["quarter"] = period.quarter
    return url_for("reports_web.narrative", **args)


def scope_can_write(principal: Any, unit_id: uuid.UUID) -> bool:
    return bool(principal.is_admin or principal.unit_id == unit_id)


@blp.route("/narratives", methods=["GET", "POST"])
@page(*OFFICERS)
def narrative() -> Any:
    session = request_session()
    principal = user()
    units = units_in_scope(session, principal)
    unit_id = _unit(units)
    period = period_from(request.args)
    if request.method == "GET":
        return render_template("reports/narrative.html", **_context(unit_id, period, units))

    scope.require_own_unit(principal, unit_id)  # 403 for another unit's officers
    submit = request.form.get("action") == "submit"
    values: dict[str, Any] = {name: request.form.get(name, "") for name in FIELDS}
    values["version"] = request.form.get("version", "")
    try:
        body = NarrativeIn().load({name: values[name] for name in FIELDS})
        try:
            expected = int(values["version"])
        except ValueError:
            expected = None
        saved = narratives.save(
            session,
            principal,
            unit_id,
            period,
            {name: body[name] for name in FIELDS},
            submit=submit,
            expected_version=expected,
        )
    except (ValidationError, DomainError) as exc:
        errors = form_errors(exc)
        if isinstance(exc, PreconditionFailed):
            errors["_form"] = [
                _("Một đồng nghiệp vừa lưu bản thuyết minh này; hãy tải lại trang rồi sửa tiếp.")
            ]
        context = _context(unit_id, period, units, values)
        return render_form("reports/narrative.html", **{**context, "errors": errors})
    if submit:
        flash(_("Đã nộp thuyết minh."))
    elif saved.status == "submitted":
        flash(_("Đã lưu thay đổi; thuyết minh vẫn ở trạng thái đã nộp."))
    else:
        flash(_("Đã lưu bản nháp."))
    return redirect(_url(unit_id, period), 303)
