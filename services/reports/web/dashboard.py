"""`/` — the officer's dashboard: the year's five targets with progress, the month's and the
year's plan against the accounts granted, the sub-units' roll-up, labels, scans and recalls.

Cost: one reading of the sources per view, as the indicators API does — the unit tree from
the accounts service, then one aggregate call each to accounts (establishments, grants),
products and labels (every unit's counts for the year, the roll-up done here over the tree).
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request

from services.reports.domain.periods import Period
from services.reports.web import blp
from services.reports.web.common import (
    OFFICERS,
    chosen_unit,
    figures_now,
    unit_name,
    unit_options,
    units_in_scope,
)
from shared.clock import local_today
from shared.db import request_session
from shared.web import page, user

ACTIVITY = (
    "labels_issued",
    "scans",
    "counterfeit_alerts",
    "recalls_opened",
    "recalls_closed",
    "recalls_open",
)


@blp.route("/")
@page(*OFFICERS)
def dashboard() -> Any:
    session = request_session()
    principal = user()
    units = units_in_scope(session, principal)
    unit_id = chosen_unit(session, principal, request.args.get("unit_id"))
    today = local_today()
    period = Period("annual", today.year)
    figures, problem = figures_now(session, period, unit_id)
    month_key = f"{today.year:04d}-{today.month:02d}"
    context: dict[str, Any] = {
        "units": unit_options(units),
        "unit_id": str(unit_id) if unit_id else "",
        "unit_name": unit_name(units, unit_id),
        "is_admin": principal.is_admin,
        "period": period,
        "today": today,
        "month": today.month,
        "figures": figures,
        "problem": problem,
    }
    if figures is not None:
        total = figures["total"]
        context.update(
            month_figures=total["months"].get(month_key, {"plan": 0, "actual": 0}),
            year_plan=total["counts"]["planned_accounts"],
            year_granted=total["counts"]["granted_accounts"],
            year_rate=total["rates"]["granted_accounts/planned_accounts"],
            counts=total["counts"],
            activity=ACTIVITY,
            rows=[u for u in figures["units"] if u["depth"] <= 1],
        )
    return render_template("reports/dashboard.html", **context)
