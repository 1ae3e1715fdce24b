"""The establishment registry for agency officers and the administrator: search and filter,
a paged table, the detail with its history, the edit form (with the version it was read at)
and the move to another unit. The same domain functions and schemas as the API."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from services.accounts.domain import establishments as establishment_ops
from services.accounts.domain import queries, scope
from services.accounts.domain.establishments import DATE_FIELDS, TEXT_FIELDS
from services.accounts.domain.search import establishment_query, rows_with_flags, search_page
from services.accounts.models import ACTIVITIES, SECTORS, Establishment, Unit
from services.accounts.schemas import EstablishmentPatch, EstablishmentQuery, MoveIn
from services.accounts.web import blp
from services.accounts.web.common import (
    PAGE_SIZE,
    Paged,
    labels,
    page_number,
    unit_options,
    units_for,
)
from shared.db import request_session
from shared.errors import DomainError
from shared.pagination import count
from shared.web import _, form_errors, page, user

FILTERS = (
    "q",
    "unit_id",
    "food_safety_status",
    "activity",
    "sector",
    "ocop",
    "has_account",
    "certificate",
    "status",
)


def _filters() -> tuple[dict[str, Any], dict[str, str], dict[str, list[str]]]:
    """(loaded filters, the raw values to re-fill the form, errors)."""
    raw = {k: request.args.get(k, "").strip() for k in FILTERS}
    given = {k: v for k, v in raw.items() if v}
    try:
        return EstablishmentQuery().load(given), raw, {}
    except ValidationError as exc:
        return {}, raw, form_errors(exc)


@blp.get("/establishments")
@page("admin", "agency")
def establishments() -> Any:
    """Establishments in scope: diacritic-insensitive search, filters, a paged table."""
    session = request_session()
    principal = user()
    args, raw, errors = _filters()
    result = Paged([], 0, 1, 1)
    if not errors:
        try:
            stmt = establishment_query(session, principal, args)
        except DomainError as exc:  # a unit outside the caller's scope
            errors = form_errors(exc)
        else:
            number = page_number()
            offset = (number - 1) * PAGE_SIZE
            if args.get("q"):
                rows, total = search_page(session, stmt, offset=offset, limit=PAGE_SIZE)
            else:
                total = count(session, stmt)
                rows = (
                    rows_with_flags(session, stmt, offset=offset, limit=PAGE_SIZE, matches=total)
                    if offset < total
                    else []
                )
            result = Paged(rows, total, number, max(1, -(-total // PAGE_SIZE)))
    units = units_for(session, principal, active_only=False)
    unit_names = {u.id: u.name for u in units}
    export_query = urlencode({k: v for k, v in raw.items() if v})
    body = render_template(
        "accounts/establishments.html",
        result=result,
        values=raw,
        errors=errors,
        unit_choices=unit_options(units),
        unit_names=unit_names,
        export_url=f"{request.script_root}/api/v1/establishments/export.xlsx?{export_query}",
        certificate_state=establishment_ops.certificate_state,
        activities=ACTIVITIES,
        sectors=SECTORS,
        **labels(),
    )
    return body, (422 if errors else 200)


def _load(establishment_id: uuid.UUID) -> Establishment:
    return scope.get_establishment_for(request_session(), user(), establishment_id)


def _values(establishment: Establishment) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        data[key] = getattr(establishment, key) or ""
    for key in DATE_FIELDS:
        value = getattr(establishment, key)
        data[key] = value.isoformat() if value else ""
    data["activities"] = establishment_ops.code_list(establishment.activities)
    data["sectors"] = establishment_ops.code_list(establishment.sectors)
    data["food_safety_status"] = establishment.food_safety_status
    data["ocop"] = establishment.ocop
    data["ocop_stars"] = establishment.ocop_stars or ""
    data["status"] = establishment.status
    data["version"] = establishment.version
    return data


def _submitted() -> dict[str, Any]:
    """The edit form as submitted, to re-fill it."""
    data: dict[str, Any] = {k: request.form.get(k, "").strip() for k in TEXT_FIELDS + DATE_FIELDS}
    data["activities"] = request.form.getlist("activities")
    data["sectors"] = request.form.getlist("sectors")
    for key in ("food_safety_status", "ocop_stars", "status", "reason", "version"):
        data[key] = request.form.get(key, "").strip()
    data["ocop"] = request.form.get("ocop") == "1"
    return data


def _patch_body(values: dict[str, Any]) -> dict[str, Any]:
    """Form values → the API's EstablishmentPatch input (empty optional fields → null)."""
    body: dict[str, Any] = {}
    for key in TEXT_FIELDS + DATE_FIELDS:
        value = values[key]
        body[key] = value if (value or key == "name") else None
    body["activities"] = values["activities"]
    body["sectors"] = values["sectors"]
    if values["food_safety_status"]:
        body["food_safety_status"] = values["food_safety_status"]
    if values["status"]:
        body["status"] = values["status"]
    body["ocop"] = values["ocop"]
    body["ocop_stars"] = values["ocop_stars"] or None
    body["reason"] = values["reason"] or None
    return body


def _version(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _detail(
    establishment: Establishment,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    move_values: dict[str, Any] | None = None,
    move_errors: dict[str, list[str]] | None = None,
    stale: bool = False,
) -> str:
    session = request_session()
    principal = user()
    history = queries.establishment_history(session, establishment)
    units = units_for(session, principal)
    unit_ids = {a.unit_id for a in history["assignments"]} | {establishment.unit_id}
    for event in history["events"]:
        for side in (event.before or {}, event.after or {}):
            if side.get("unit_id"):
                unit_ids.add(uuid.UUID(str(side["unit_id"])))
    for change in history["imports"]:
        pair = (change["changes"] or {}).get("unit_id") or []
        unit_ids.update(uuid.UUID(str(v)) for v in pair if v)
    unit_names = {
        str(u.id): u.name for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))
    }
    return render_template(
        "accounts/establishment.html",
        establishment=establishment,
        history=history,
        account=queries.account_for_establishment(session, establishment.id),
        state=establishment_ops.certificate_state(establishment),
        values=values or _values(establishment),
        errors=errors or {},
        move_values=move_values or {},
        move_errors=move_errors or {},
        stale=stale,
        unit_choices=unit_options(units),
        unit_names=unit_names,
        activities=ACTIVITIES,
        sectors=SECTORS,
        **labels(),
    )


@blp.get("/establishments/<uuid:establishment_id>")
@page("admin", "agency")
def establishment(establishment_id: uuid.UUID) -> Any:
    return _detail(_load(establishment_id))


@blp.post("/establishments/<uuid:establishment_id>")
@page("admin", "agency")
def edit_establishment(establishment_id: uuid.UUID) -> Any:
    """Save the edit form; the version it was read at guards against overwriting a colleague."""
    session = request_session()
    establishment = _load(establishment_id)
    values = _submitted()
    try:
        body = EstablishmentPatch().load(_patch_body(values))
        reason = body.pop("reason", None)
        establishment_ops.update_fields(
            session,
            actor=user(),
            establishment=establishment,
            changes=body,
            reason=reason,
            expected_version=_version(values["version"]),
        )
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status == 412:
            errors = {
                "_form": [
                    _(
                        "Cơ sở này vừa được người khác sửa sau khi bạn mở trang. Thay đổi của bạn "
                        "chưa được lưu: hãy xem lại thông tin mới nhất rồi sửa lại."
                    )
                ]
            }
            refreshed = {**values, "version": establishment.version}
            return _detail(establishment, values=refreshed, errors=errors, stale=True), 412
        return _detail(establishment, values=values, errors=form_errors(exc)), 422
    flash(_("Đã lưu thông tin cơ sở."))
    return redirect(url_for("accounts_web.establishment", establishment_id=establishment.id), 303)


@blp.post("/establishments/<uuid:establishment_id>/move")
@page("admin", "agency")
def move_establishment(establishment_id: uuid.UUID) -> Any:
    """Hand the establishment to another unit of the caller's scope, with a reason."""
    session = request_session()
    establishment = _load(establishment_id)
    move_values = {k: request.form.get(k, "").strip() for k in ("unit_id", "reason", "version")}
    try:
        body = MoveIn().load({k: move_values[k] for k in ("unit_id", "reason")})
        establishment_ops.move(
            session,
            actor=user(),
            establishment=establishment,
            unit_id=body["unit_id"],
            reason=body["reason"],
            expected_version=_version(move_values["version"]),
        )
    except (ValidationError, DomainError) as exc:
        fresh = establishment
        if isinstance(exc, DomainError) and exc.status == 412:
            errors = {
                "_form": [
                    _(
                        "Cơ sở này vừa được người khác sửa sau khi bạn mở trang; chưa chuyển. "
                        "Hãy xem lại rồi thử lại."
                    )
                ]
            }
            return _detail(fresh, move_values=move_values, move_errors=errors, stale=True), 412
        return _detail(fresh, move_values=move_values, move_errors=form_errors(exc)), 422
    flash(_("Đã chuyển cơ sở sang đơn vị quản lý mới."))
    return redirect(url_for("accounts_web.establishment", establishment_id=establishment.id), 303)
