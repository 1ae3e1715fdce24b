"""The unit tree for agency officers (their own subtree) and the administrator (the province),
with the number of establishments each unit manages; the administrator creates, renames and
retires units (with a reason). The same domain functions and schemas as the API."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from services.accounts.domain import queries, scope
from services.accounts.domain import units as unit_ops
from services.accounts.models import UNIT_LEVELS, AuditEvent, Unit
from services.accounts.schemas import RetireIn, UnitIn, UnitPatch
from services.accounts.web import blp
from services.accounts.web.common import labels, unit_options, units_for
from shared.db import request_session
from shared.errors import DomainError
from shared.web import _, form_errors, page, render_form, user

CREATE_FIELDS = ("code", "name", "level", "parent_id", "login_prefix")


def _tree_page(
    values: dict[str, Any] | None = None, errors: dict[str, list[str]] | None = None
) -> Any:
    session = request_session()
    principal = user()
    tree = queries.unit_tree(session, principal)
    # Establishments of a unit and of every unit below it (the paths nest).
    totals = {
        unit.id: sum(n for other, _depth, n in tree if other.path.startswith(unit.path))
        for unit, _depth, _n in tree
    }
    context = {
        "tree": tree,
        "totals": totals,
        "values": values or {"level": "commune"},
        "levels": [(code, labels()["UNIT_LEVEL"][code]) for code in UNIT_LEVELS],
        "unit_choices": unit_options(units_for(session, principal)) if principal.is_admin else [],
        **labels(),
    }
    if errors:
        return render_form("accounts/units.html", errors=errors, **context)
    return render_template("accounts/units.html", errors={}, **context)


@blp.get("/units")
@page("admin", "agency")
def units() -> Any:
    return _tree_page()


@blp.post("/units")
@page("admin")
def create_unit() -> Any:
    values = {k: request.form.get(k, "").strip() for k in CREATE_FIELDS}
    try:
        body = UnitIn().load(
            {k: (v or None) if k in ("parent_id", "login_prefix") else v for k, v in values.items()}
        )
        unit = unit_ops.create_unit(request_session(), actor=user(), **body)
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status not in (409, 422):
            raise
        return _tree_page(values, form_errors(exc))
    flash(_("Đã tạo đơn vị %(name)s.", name=unit.name))
    return redirect(url_for("accounts_web.unit", unit_id=unit.id), 303)


def _detail(
    unit: Unit,
    *,
    errors: dict[str, list[str]] | None = None,
    failed: str = "",
    values: dict[str, Any] | None = None,
) -> str:
    session = request_session()
    principal = user()
    subtree = [
        row for row in queries.unit_tree(session, principal) if row[0].path.startswith(unit.path)
    ]
    history = list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "unit", AuditEvent.target_id == str(unit.id))
            .order_by(AuditEvent.id.desc())
            .limit(100)
        )
    )
    return render_template(
        "accounts/unit.html",
        unit=unit,
        parent=session.get(Unit, unit.parent_id) if unit.parent_id else None,
        children=[row for row in subtree if row[0].parent_id == unit.id],
        direct=next((n for u, _d, n in subtree if u.id == unit.id), 0),
        total=sum(n for _u, _d, n in subtree),
        history=history,
        errors=errors or {},
        failed=failed,
        values=values or {"name": unit.name},
        **labels(),
    )


@blp.get("/units/<uuid:unit_id>")
@page("admin", "agency")
def unit(unit_id: uuid.UUID) -> Any:
    return _detail(scope.get_unit_for(request_session(), user(), unit_id))


def _version(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@blp.post("/units/<uuid:unit_id>/rename")
@page("admin")
def rename_unit(unit_id: uuid.UUID) -> Any:
    found = scope.get_unit_for(request_session(), user(), unit_id)
    values = {k: request.form.get(k, "").strip() for k in ("name", "reason", "version")}
    try:
        body = UnitPatch().load({"name": values["name"], "reason": values["reason"] or None})
        reason = body.pop("reason", None)
        unit_ops.update_unit(
            request_session(),
            actor=user(),
            unit=found,
            changes=body,
            reason=reason,
            expected_version=_version(values["version"]),
        )
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status == 412:
            errors = {"_form": [_("Đơn vị vừa được người khác sửa; hãy xem lại rồi thử lại.")]}
            return _detail(found, errors=errors, failed="rename", values=values), 412
        if isinstance(exc, DomainError) and exc.status not in (409, 422):
            raise
        return _detail(found, errors=form_errors(exc), failed="rename", values=values), 422
    flash(_("Đã đổi tên đơn vị."))
    return redirect(url_for("accounts_web.unit", unit_id=found.id), 303)


@blp.post("/units/<uuid:unit_id>/retire")
@page("admin")
def retire_unit(unit_id: uuid.UUID) -> Any:
    found = scope.get_unit_for(request_session(), user(), unit_id)
    version = _version(request.form.get("version"))
    try:
        body = RetireIn().load({"reason": request.form.get("reason", "").strip()})
        unit_ops.retire_unit(
            request_session(),
            actor=user(),
            unit=found,
            reason=body["reason"],
            expected_version=version,
        )
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status == 412:
            errors = {"_form": [_("Đơn vị vừa được người khác sửa; hãy xem lại rồi thử lại.")]}
            return _detail(found, errors=errors, failed="retire"), 412
        if isinstance(exc, DomainError) and exc.status not in (409, 422):
            raise
        return _detail(found, errors=form_errors(exc), failed="retire"), 422
    flash(_("Đơn vị đã ngừng hoạt động."))
    return redirect(url_for("accounts_web.unit", unit_id=found.id), 303)
