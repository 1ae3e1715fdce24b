"""What the reports pages share: the units an officer may pick, the period of a page, the
figures computed now (the same reading of the sources as the indicators API)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app
from sqlalchemy.orm import Session

from services.reports.api.common import as_of_for, settings
from services.reports.domain import indicators, live, scope
from services.reports.domain.periods import KINDS, Period
from shared.auth import Principal
from shared.clock import local_today
from shared.errors import DomainError
from shared.web import message_text

OFFICERS = ("admin", "agency")
QUARTER_NAMES = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class UnitChoice:
    id: str
    code: str
    name: str
    depth: int


def units_in_scope(session: Session, principal: Principal) -> list[UnitChoice]:
    """The units the officer may read, in tree order with their depth (for a picker)."""
    allowed = scope.unit_ids(session, principal, settings())
    nodes = indicators.load_tree(session)
    out: list[UnitChoice] = []
    for top in indicators.roots(nodes):
        for node, depth in indicators.walk(top):
            if allowed is None or node.id in allowed:
                out.append(UnitChoice(node.id, node.code, node.name, depth))
    if out:  # depths relative to the first unit an officer sees (their own)
        base = min(u.depth for u in out)
        out = [UnitChoice(u.id, u.code, u.name, u.depth - base) for u in out]
    return out


def unit_options(units: list[UnitChoice]) -> list[tuple[str, str]]:
    return [(u.id, "\u2003" * u.depth + f"{u.name} ({u.code})") for u in units]


def parse_uuid(raw: str | None) -> uuid.UUID | None:
    """A unit or record id from a query string; anything malformed is 404."""
    if not raw:
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        abort(404)


def chosen_unit(session: Session, principal: Principal, raw: str | None) -> uuid.UUID | None:
    """The unit a page is about: `raw` if in scope (else 404), or the officer's own unit; the
    province (None) for the administrator."""
    unit_id = parse_uuid(raw) or scope.default_unit(session, principal)
    if unit_id is not None:
        scope.require_unit(session, principal, unit_id, settings())
    return unit_id


def unit_name(units: list[UnitChoice], unit_id: uuid.UUID | None) -> str | None:
    if unit_id is None:
        return None
    for unit in units:
        if unit.id == str(unit_id):
            return unit.name
    return None


def period_from(args: Any, default_kind: str = "quarterly") -> Period:
    """The period named by `kind`, `year`, `quarter` in a query string (default: the period
    due next); anything invalid falls back to the default, never an error page."""
    today = local_today()
    kind = args.get("kind") if args.get("kind") in KINDS else default_kind
    try:
        year = int(args.get("year") or today.year)
        quarter = int(args.get("quarter") or ((today.month - 1) // 3 + 1))
    except ValueError:
        year, quarter = today.year, (today.month - 1) // 3 + 1
    if not 2000 <= year <= 2100:
        year = today.year
    if not 1 <= quarter <= 4:
        quarter = (today.month - 1) // 3 + 1
    return Period("annual", year) if kind == "annual" else Period("quarterly", year, quarter)


def period_label(period: Period, lang: str) -> str:
    return period.label_en if lang == "en" else period.label_vi


def figures_now(
    session: Session, period: Period, unit_id: uuid.UUID | None
) -> tuple[dict[str, Any] | None, str | None]:
    """The indicators of a period for a unit's sub-tree as of today, from the snapshot of the
    sources shared by every page (domain/live.py: at most REPORT_LIVE_SECONDS old, renewed by
    a worker; read here only when none is stored). The unit tree is the copy beat keeps in
    sync every minute. A source that does not answer gives no figures and the reason to show.
    `figures["read_at"]` is when the sources were read."""
    from services.reports.tasks import refresh_live

    try:
        as_of = as_of_for(period, None)
        snapshot, read_at = live.snapshot_for(
            settings(),
            current_app.extensions["trace_kv"],
            period,
            as_of,
            ask_refresh=lambda: refresh_live.apply_async(
                kwargs={"kind": period.kind, "year": period.year, "quarter": period.quarter},
                queue="default",
            ),
        )
        figures = indicators.compute(session, snapshot, period, unit_id)
    except DomainError as exc:
        return None, message_text(exc.message)
    figures["read_at"] = read_at
    return figures, None
