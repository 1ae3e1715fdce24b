"""A lot's corrections by its establishment: edit its code, dates and quantity (with the
version it was read at, so a stale save is refused), and split part of it into new lots.
Both call the domain functions of `PATCH /lots/<id>` and `POST /lots/<id>/split` and load the
form with the same schemas, so scope and rules are the API's."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from services.products.api.lots import present as present_lots
from services.products.domain import lots as lot_ops
from services.products.models import Lot
from services.products.schemas.lots import LotPatch, SplitIn
from services.products.web import blp
from services.products.web.common import aware, compact, form_values, local_input
from services.products.web.lots import _managed_lot
from shared.db import request_session
from shared.errors import DomainError
from shared.web import _, form_errors, page, render_form, user

EDIT_FIELDS = ("code", "production_date", "expiry_date", "quantity", "unit")
EDIT_NULLABLE = ("production_date", "expiry_date", "quantity", "unit")
PART_FIELDS = ("code", "quantity", "unit")
SPLIT_ROWS = 4  # rows the split form shows at first
MAX_SPLIT_ROWS = 100  # as many as SplitIn accepts
_PART_KEY = re.compile(r"^parts\.(\d+)\.(\w+)$")


def _quantity_text(value: Decimal | None) -> str:
    """A stored quantity as the form shows it: 100, 12.5 (never 100.000)."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def _lot_values(lot: Lot) -> dict[str, Any]:
    return {
        "code": lot.code,
        "production_date": lot.production_date.isoformat() if lot.production_date else "",
        "expiry_date": lot.expiry_date.isoformat() if lot.expiry_date else "",
        "quantity": _quantity_text(lot.quantity),
        "unit": lot.unit or "",
        "version": lot.version,
    }


# --- edit -------------------------------------------------------------------------------------


@blp.route("/lots/<uuid:lot_id>/edit", methods=["GET", "POST"])
@page("establishment")
def edit_lot(lot_id: uuid.UUID) -> Any:
    """Correct a lot's code, production and expiry dates, quantity and unit. The form carries
    the version it was read at: a save over someone else's change is refused (412 → 422)."""
    found = _managed_lot(lot_id)
    present_lots([found])
    context = {"lot": found, "heading": found.code}  # the code as stored, whatever is typed
    if request.method == "GET":
        return render_template(
            "products/lot_edit.html", values=_lot_values(found), errors={}, **context
        )
    values: dict[str, Any] = form_values(EDIT_FIELDS)
    values["version"] = request.form.get("version", "")
    data = compact({k: values[k] for k in EDIT_NULLABLE}, nullable=EDIT_NULLABLE)
    data["code"] = values["code"]  # blank is refused, never silently kept
    try:
        body = LotPatch().load(data)
        lot_ops.update(
            request_session(),
            actor=user(),
            lot=found,
            data=body,
            expected_version=request.form.get("version", type=int),
        )
    except (ValidationError, DomainError) as exc:
        stale = isinstance(exc, DomainError) and exc.status == 412  # offer the latest data
        return render_form(
            "products/lot_edit.html", values=values, errors=form_errors(exc), stale=stale, **context
        )
    flash(_("Đã lưu lô %(code)s.", code=found.code))
    return redirect(url_for("products_web.lot", lot_id=found.id), 303)


# --- split ------------------------------------------------------------------------------------


def _rows(raw: str | None, default: int = SPLIT_ROWS) -> int:
    number = int(raw) if raw and raw.isdigit() else default
    return max(2, min(number, MAX_SPLIT_ROWS))


def _part_errors(errors: Mapping[str, list[str]], positions: list[int]) -> dict[str, list[str]]:
    """`parts.1.code` (the second part sent) → `parts-4-code` (the form's row it came from)."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        match = _PART_KEY.match(key)
        if match:
            index = int(match.group(1))
            row = positions[index] if index < len(positions) else index
            key = f"parts-{row}-{match.group(2)}"
        elif key.startswith("parts."):
            key = "parts"
        out.setdefault(key, []).extend(messages)
    return out


@blp.route("/lots/<uuid:lot_id>/split", methods=["GET", "POST"])
@page("establishment")
def split_lot(lot_id: uuid.UUID) -> Any:
    """Split part of a lot into new lots of the same product (two or more), each with its code
    and quantity; the lot's own stays as recorded. Needs the confirmation box ticked."""
    found = _managed_lot(lot_id)
    present_lots([found])
    if request.method == "GET":
        rows = _rows(request.args.get("rows"))
        values: dict[str, Any] = {"occurred_at": local_input()}
        return render_template(
            "products/lot_split.html", lot=found, values=values, errors={}, rows=rows
        )
    rows = _rows(request.form.get("part_rows"))
    values = form_values(("occurred_at",))
    values["confirm"] = request.form.get("confirm", "")
    parts: list[dict[str, Any]] = []
    positions: list[int] = []
    for i in range(rows):
        row = form_values(tuple(f"parts-{i}-{name}" for name in PART_FIELDS))
        values.update(row)
        part = compact({name: row[f"parts-{i}-{name}"] for name in PART_FIELDS})
        if part:
            parts.append(part)
            positions.append(i)
    data: dict[str, Any] = {"parts": parts}
    if values["occurred_at"]:
        data["occurred_at"] = aware(values["occurred_at"])
    context = {"lot": found, "values": values, "rows": rows}
    errors: dict[str, list[str]] = {}
    body: dict[str, Any] = {}
    try:
        body = SplitIn().load(data)
    except ValidationError as exc:
        errors = _part_errors(form_errors(exc), positions)
    if len(parts) < 2:  # the schema's "shorter than minimum length 2", said plainly
        errors["parts"] = [_("Cần ít nhất hai lô mới.")]
    if not values["confirm"]:
        errors.setdefault("confirm", []).append(_("Hãy đánh dấu xác nhận tách lô."))
    if errors:
        return render_form("products/lot_split.html", errors=errors, **context)
    try:
        created = lot_ops.split(
            request_session(),
            actor=user(),
            lot=found,
            parts=body["parts"],
            occurred_at=body["occurred_at"],
        )
    except DomainError as exc:
        return render_form(
            "products/lot_split.html", errors=_part_errors(form_errors(exc), positions), **context
        )
    flash(
        _(
            "Đã tách lô %(code)s thành: %(codes)s.",
            code=found.code,
            codes=", ".join(lot.code for lot in created),
        )
    )
    return redirect(url_for("products_web.lot", lot_id=found.id), 303)
