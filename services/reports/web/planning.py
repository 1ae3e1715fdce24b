"""`/targets` — the year's five percentage targets (the administrator edits, agencies read);
`/plans` — Appendix 02: planned accounts per unit and month with the accounts actually
granted, and the plan's Excel/CSV import (a dry run first, then the import, confirmed);
`/published` — a published Appendix 01 against what the system computes, cell by cell.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from services.reports.api.common import settings
from services.reports.domain import indicators, plans, published, scope, sources, targets
from services.reports.domain.directory import COPY
from services.reports.domain.periods import Period
from services.reports.models import PublishedTable, Report
from services.reports.schemas import PublishedForm, TargetsIn
from services.reports.web import blp
from services.reports.web.common import (
    OFFICERS,
    chosen_unit,
    figures_now,
    parse_uuid,
    unit_name,
    unit_options,
    units_in_scope,
)
from shared.clock import local_today
from shared.db import request_session
from shared.errors import DomainError, Forbidden, InvalidInput, PreconditionFailed
from shared.web import _, form_errors, message_text, page, render_form, user

MONTHS = tuple(range(1, 13))


def _year() -> int:
    try:
        year = int(request.args.get("year") or local_today().year)
    except ValueError:
        abort(404)
    if not 2000 <= year <= 2100:
        abort(404)
    return year


# --- targets ----------------------------------------------------------------------------------


def _targets_context(year: int, values: dict[str, Any] | None = None) -> dict[str, Any]:
    goals = targets.for_year(request_session(), year)
    if values is None:
        values = {key: f"{float(getattr(goals, key)):g}" for key in targets.KEYS}
        values["version"] = goals.version
    return {
        "year": year,
        "goals": goals,
        "rows": goals.as_dict()["targets"],
        "values": values,
        "errors": {},
        "is_admin": user().is_admin,
    }


@blp.route("/targets", methods=["GET", "POST"])
@page(*OFFICERS)
def targets_page() -> Any:
    year = _year()
    if request.method == "GET":
        return render_template("reports/targets.html", **_targets_context(year))
    principal = user()
    if not principal.is_admin:
        raise Forbidden()
    values: dict[str, Any] = {
        key: request.form.get(key, "").strip().replace(",", ".") for key in targets.KEYS
    }
    values["version"] = request.form.get("version", "")
    try:
        body = TargetsIn().load({key: values[key] for key in targets.KEYS})
        try:
            expected: int | None = int(values["version"])
        except ValueError:
            expected = None
        targets.update(
            request_session(), year, body, actor=principal.account_id, expected_version=expected
        )
    except (ValidationError, DomainError) as exc:
        errors = form_errors(exc)
        if isinstance(exc, PreconditionFailed):
            errors["_form"] = [
                _("Chỉ tiêu vừa được người khác sửa; hãy tải lại trang rồi sửa lại.")
            ]
        return render_form(
            "reports/targets.html", **{**_targets_context(year, values), "errors": errors}
        )
    flash(_("Đã lưu chỉ tiêu năm %(year)s.", year=year))
    return redirect(url_for("reports_web.targets_page", year=year), 303)


# --- plans ------------------------------------------------------------------------------------


def _plan_rows(year: int, unit_id: uuid.UUID | None) -> tuple[list[dict[str, Any]], dict[int, int]]:
    """The plan of a unit's sub-tree (the province for None) as the plans API reads it: every
    unit with its planned accounts per month, a parent the sum of its children."""
    table, grand = plans.plan_table(request_session(), year, unit_id)
    rows = [
        {
            "id": row.node.id,
            "code": row.node.code,
            "name": row.node.name,
            "depth": row.depth,
            "leaf": row.leaf,
            "plan": row.months,
            "actual": {},
        }
        for row in table
    ]
    return rows, grand


def _plans_context(year: int, result: dict[str, Any] | None = None) -> dict[str, Any]:
    session = request_session()
    principal = user()
    units = units_in_scope(session, principal)
    unit_id = chosen_unit(session, principal, request.args.get("unit_id"))
    rows, grand = _plan_rows(year, unit_id)
    actual_total: dict[int, int] = {}
    problem = None
    if year <= local_today().year:
        figures, problem = figures_now(session, Period("annual", year), unit_id)
        if figures is not None:
            last = 12 if year < local_today().year else local_today().month

            def actuals(months: dict[str, dict[str, int]]) -> dict[int, int]:
                return {int(k[5:]): v["actual"] for k, v in months.items() if int(k[5:]) <= last}

            by_id = {u["id"]: u["months"] for u in figures["units"]}
            for row in rows:
                row["actual"] = actuals(by_id.get(row["id"], {}))
            actual_total = actuals(figures["total"]["months"])
    return {
        "year": year,
        "units": unit_options(units),
        "unit_id": str(unit_id) if unit_id else "",
        "unit_name": unit_name(units, unit_id),
        "is_admin": principal.is_admin,
        "rows": rows,
        "grand": grand,
        "actual_total": actual_total,
        "has_actuals": bool(actual_total) or (problem is None and year <= local_today().year),
        "problem": problem,
        "months": MONTHS,
        "result": result,
        "errors": {},
        "template_url": url_for("plans.plan_template", year=year),
    }


@blp.route("/plans")
@page(*OFFICERS)
def plans_page() -> Any:
    return render_template("reports/plans.html", **_plans_context(_year()))


@blp.route("/plans/import", methods=["POST"])
@page(*OFFICERS)
def plans_import() -> Any:
    """The plan's import: `dry_run` checks and shows the result, storing nothing; the import
    (confirmed) replaces the year's entries of the units in the file, all or nothing."""
    year = _year()
    session = request_session()
    principal = user()
    dry_run = request.form.get("dry_run") == "1"
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise InvalidInput.field(
                "file", "Hãy chọn tệp .xlsx hoặc .csv.", "Choose an .xlsx or .csv file."
            )
        result = plans.import_plan(
            session,
            upload.read(),
            upload.filename,
            year=year,
            actor=principal.account_id,
            dry_run=dry_run,
            allowed_units=scope.unit_ids(session, principal, settings()),
        )
    except DomainError as exc:
        errors = form_errors(exc)
        if "file" not in errors:
            errors["file"] = errors.get("_form", [])[:1]
        return render_form("reports/plans.html", **{**_plans_context(year), "errors": errors})
    if dry_run:
        return render_template(
            "reports/plans.html",
            **_plans_context(year, {**result.as_dict(), "file": upload.filename}),
        )
    flash(
        _(
            "Đã nhập kế hoạch năm %(year)s: %(units)s đơn vị, %(cells)s ô.",
            year=year,
            units=result.units,
            cells=result.stored,
        )
    )
    if result.subtotal_differences:
        flash(
            _(
                "%(n)s ô tổng trong tệp khác tổng các đơn vị con; hệ thống dùng tổng tính được.",
                n=len(result.subtotal_differences),
            ),
            "warning",
        )
    return redirect(url_for("reports_web.plans_page", year=year), 303)


# --- published tables ---------------------------------------------------------------------------


@blp.route("/published", methods=["GET", "POST"])
@page(*OFFICERS)
def published_page() -> Any:
    session = request_session()
    principal = user()
    scope.require_officer(principal)
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        if not principal.is_admin:
            raise Forbidden()
        values = {k: request.form.get(k, "").strip() for k in ("title", "as_of")}
        upload = request.files.get("file")
        try:
            form = PublishedForm().load(values)
            if upload is None or not upload.filename:
                raise InvalidInput.field(
                    "file", "Hãy chọn tệp .xlsx hoặc .csv.", "Choose an .xlsx or .csv file."
                )
            table = published.import_table(
                session,
                upload.read(),
                upload.filename,
                title=form["title"],
                as_of=form["as_of"],
                actor=principal.account_id,
            )
        except (ValidationError, DomainError) as exc:
            errors = form_errors(exc)
            return render_form(
                "reports/published.html", **_published_context(None, values), errors=errors
            )
        flash(_("Đã nhập bảng đã công bố."))
        return redirect(url_for("reports_web.published_page", table_id=table.id), 303)
    table_id = parse_uuid(request.args.get("table_id"))
    return render_template(
        "reports/published.html", **_published_context(table_id, values), errors=errors
    )


def _published_context(table_id: uuid.UUID | None, values: dict[str, Any]) -> dict[str, Any]:
    session = request_session()
    principal = user()
    tables = list(
        session.scalars(
            select(PublishedTable).order_by(PublishedTable.imported_at.desc()).limit(50)
        )
    )
    allowed = scope.unit_ids(session, principal, settings())
    stmt = (
        select(Report)
        .where(Report.kind == "annual")
        .order_by(Report.compiled_at.desc(), Report.version.desc())
        .limit(50)
    )
    if allowed is not None:
        stmt = stmt.where(Report.unit_id.in_([uuid.UUID(u) for u in allowed]))
    reports = list(session.scalars(stmt))
    context: dict[str, Any] = {
        "tables": tables,
        "reports": reports,
        "is_admin": principal.is_admin,
        "values": values,
        "table": None,
        "comparison": None,
        "problem": None,
        "report_id": request.args.get("report_id", ""),
        "columns": published.COLUMNS,
    }
    if table_id is None:
        return context
    table = published.get_table(session, table_id)
    context["table"] = table
    report_id = parse_uuid(request.args.get("report_id"))
    try:
        if report_id is not None:
            report = session.get(Report, report_id)
            if report is None:
                abort(404)
            scope.require_unit(session, principal, report.unit_id, settings())
            figures = report.figures
        elif principal.is_admin:
            period = Period("annual", table.as_of.year)
            COPY.sync_units(session, settings())
            snapshot = sources.read(settings(), table.as_of, period.start, table.as_of)
            figures = indicators.compute(session, snapshot, period, None)
        else:
            return context  # an officer compares with a compiled report of their scope
    except DomainError as exc:
        if exc.status == 404:
            raise
        context["problem"] = message_text(exc.message)
        return context
    comparison = published.compare(session, table_id, figures)
    rows: dict[int, dict[str, Any]] = {}
    for cell in comparison["cells"]:
        row = rows.setdefault(
            cell["row"], {"code": cell["code"], "name": cell["name"], "cells": {}, "rate": None}
        )
        if cell["column"] == "rate":
            row["rate"] = cell
        else:
            row["cells"][cell["column"]] = cell
    context["comparison"] = comparison
    context["rows"] = [rows[k] for k in sorted(rows)]
    return context
