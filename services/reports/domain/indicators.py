"""Indicators: the other services' counts rolled up over the unit tree, with every rate named
by its formula, the plan against accounts actually granted, and the year's five targets.

Roll-ups are sums of their children plus what the unit manages itself — always, for every
column; nothing is copied from a published table. A rate is never summed: each row's rate is
its own numerator over its own denominator, and `None` where the denominator is 0.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.reports.domain import targets as targets_mod
from services.reports.domain.periods import Period
from services.reports.domain.sources import (
    ACCOUNTS_FIELDS,
    LABELS_FIELDS,
    PRODUCTS_FIELDS,
    Snapshot,
)
from services.reports.models import DirectoryUnit, PlanEntry
from shared.errors import DomainError, NotFound

FIELDS = (
    *ACCOUNTS_FIELDS,
    *PRODUCTS_FIELDS,
    *LABELS_FIELDS,
    "ocop_or_key_products",
    "ocop_or_key_with_qr",
    "planned_accounts",
    "granted_accounts",
)

# (name, numerator, denominator, Vietnamese, English). The name *is* the formula.
RATES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "with_account/establishments",
        "with_account",
        "establishments",
        "Tỷ lệ cơ sở có tài khoản trên tổng số cơ sở",
        "Establishments with an account, of all establishments",
    ),
    (
        "with_account/certificate_subject",
        "with_account",
        "certificate_subject",
        "Số cơ sở có tài khoản trên số cơ sở thuộc diện cấp GCN",
        "Establishments with an account over certificate-subject establishments",
    ),
    (
        "certificate_with_account/certificate_subject",
        "certificate_with_account",
        "certificate_subject",
        "Tỷ lệ cơ sở thuộc diện cấp GCN có tài khoản",
        "Certificate-subject establishments with an account",
    ),
    (
        "commitment_with_account/commitment_subject",
        "commitment_with_account",
        "commitment_subject",
        "Tỷ lệ cơ sở ký cam kết có tài khoản",
        "Commitment-subject establishments with an account",
    ),
    (
        "ocop_with_account/ocop",
        "ocop_with_account",
        "ocop",
        "Tỷ lệ cơ sở OCOP có tài khoản",
        "OCOP establishments with an account",
    ),
    (
        "ocop_or_key_with_qr/ocop_or_key_products",
        "ocop_or_key_with_qr",
        "ocop_or_key_products",
        "Tỷ lệ sản phẩm OCOP, chủ lực có mã QR",
        "OCOP and key products with QR codes",
    ),
    (
        "packaged_processed_traceable/packaged_processed",
        "packaged_processed_traceable",
        "packaged_processed",
        "Tỷ lệ sản phẩm bao gói, chế biến được truy xuất",
        "Packaged processed products traceable",
    ),
    (
        "granted_accounts/planned_accounts",
        "granted_accounts",
        "planned_accounts",
        "Tỷ lệ tài khoản cấp mới so với kế hoạch",
        "Accounts granted against the plan",
    ),
)


class UnknownUnit(DomainError):
    status = 409
    code = "unknown_unit"
    vi = "Số liệu thuộc một đơn vị chưa có trong danh mục đơn vị; hãy đồng bộ lại rồi lập lại."
    en = "Figures belong to a unit not in the unit list; sync the directory and compile again."


def rate(numerator: int, denominator: int) -> float | None:
    if not denominator:
        return None
    return float((Decimal(100 * numerator) / Decimal(denominator)).quantize(Decimal("0.01")))


@dataclass
class Node:
    id: str
    code: str
    name: str
    parent_id: str | None
    status: str
    children: list[Node] = field(default_factory=list)


def load_tree(session: Session) -> dict[str, Node]:
    nodes = {
        str(u.id): Node(
            str(u.id), u.code, u.name, str(u.parent_id) if u.parent_id else None, u.status
        )
        for u in session.scalars(select(DirectoryUnit))
    }
    for node in nodes.values():
        parent = nodes.get(node.parent_id or "")
        if parent is not None:
            parent.children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: (n.code, n.name))
    return nodes


def roots(nodes: dict[str, Node]) -> list[Node]:
    return sorted(
        (n for n in nodes.values() if n.parent_id is None or n.parent_id not in nodes),
        key=lambda n: n.code,
    )


def walk(node: Node, depth: int = 0) -> Iterator[tuple[Node, int]]:
    yield node, depth
    for child in node.children:
        yield from walk(child, depth + 1)


def _own_counts(snapshot: Snapshot, plan: dict[str, int], unit: str) -> dict[str, int]:
    own = dict.fromkeys(FIELDS, 0)
    for table in (snapshot.establishments, snapshot.products, snapshot.labels):
        for name, value in table.get(unit, {}).items():
            own[name] += value
    own["ocop_or_key_products"] = snapshot.ocop_or_key_products.get(unit, 0)
    own["ocop_or_key_with_qr"] = snapshot.ocop_or_key_with_qr.get(unit, 0)
    own["planned_accounts"] = plan.get(unit, 0)
    own["granted_accounts"] = sum(snapshot.grants.get(unit, {}).values())
    return own


def _months(period: Period) -> list[str]:
    first = period.start.month
    last = period.end.month
    return [f"{period.year:04d}-{m:02d}" for m in range(first, last + 1)]


def plan_for(session: Session, period: Period) -> dict[str, dict[str, int]]:
    """Planned accounts per unit and month (YYYY-MM) inside the period."""
    rows = session.execute(
        select(PlanEntry.unit_id, PlanEntry.month, PlanEntry.accounts).where(
            PlanEntry.year == period.year,
            PlanEntry.month >= period.start.month,
            PlanEntry.month <= period.end.month,
        )
    )
    out: dict[str, dict[str, int]] = {}
    for unit_id, month, accounts in rows:
        out.setdefault(str(unit_id), {})[f"{period.year:04d}-{month:02d}"] = accounts
    return out


def _rates(counts: dict[str, int]) -> dict[str, float | None]:
    return {name: rate(counts[num], counts[den]) for name, num, den, _vi, _en in RATES}


def compute(
    session: Session,
    snapshot: Snapshot,
    period: Period,
    unit_id: uuid.UUID | str | None,
) -> dict[str, Any]:
    """The figures of a report for `unit_id`'s sub-tree (the whole province when None)."""
    nodes = load_tree(session)
    unknown = sorted(snapshot.units() - set(nodes))
    plan = plan_for(session, period)
    unknown += sorted(set(plan) - set(nodes) - set(unknown))
    if unknown:
        raise UnknownUnit(extra={"unit_ids": unknown[:20]})
    if unit_id is None:
        tops = roots(nodes)
    else:
        top = nodes.get(str(unit_id))
        if top is None:
            raise NotFound(extra={"unit_id": str(unit_id)})
        tops = [top]
    plan_totals = {unit: sum(months.values()) for unit, months in plan.items()}
    months = _months(period)

    rows: list[dict[str, Any]] = []
    totals: dict[str, dict[str, int]] = {}
    monthly: dict[str, dict[str, dict[str, int]]] = {}

    def fold(node: Node) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        own = _own_counts(snapshot, plan_totals, node.id)
        total = dict(own)
        by_month = {
            m: {
                "plan": plan.get(node.id, {}).get(m, 0),
                "actual": snapshot.grants.get(node.id, {}).get(m, 0),
            }
            for m in months
        }
        for child in node.children:
            child_total, child_months = fold(child)
            for name in FIELDS:
                total[name] += child_total[name]
            for m in months:
                by_month[m]["plan"] += child_months[m]["plan"]
                by_month[m]["actual"] += child_months[m]["actual"]
        totals[node.id] = total
        monthly[node.id] = by_month
        return total, by_month

    for top in tops:
        fold(top)
        for node, depth in walk(top):
            total = totals[node.id]
            rows.append(
                {
                    "id": node.id,
                    "code": node.code,
                    "name": node.name,
                    "parent_id": node.parent_id,
                    "depth": depth,
                    "status": node.status,
                    "leaf": not node.children,
                    "own": _own_counts(snapshot, plan_totals, node.id),
                    "total": total,
                    "rates": _rates(total),
                    "months": monthly[node.id],
                }
            )
    grand = dict.fromkeys(FIELDS, 0)
    grand_months = {m: {"plan": 0, "actual": 0} for m in months}
    for top in tops:
        for name in FIELDS:
            grand[name] += totals[top.id][name]
        for m in months:
            grand_months[m]["plan"] += monthly[top.id][m]["plan"]
            grand_months[m]["actual"] += monthly[top.id][m]["actual"]
    goals = targets_mod.for_year(session, period.year)
    return {
        "schema": 1,
        "period": period.as_dict(),
        "as_of": snapshot.as_of.isoformat(),
        "unit_id": str(unit_id) if unit_id else None,
        "fields": list(FIELDS),
        "rates": [
            {"name": name, "numerator": num, "denominator": den, "vi": vi, "en": en}
            for name, num, den, vi, en in RATES
        ],
        "units": rows,
        "total": {"counts": grand, "rates": _rates(grand), "months": grand_months},
        "months": months,
        "targets": targets_progress(goals, grand),
        "notes": {
            "vi": (
                "Mọi dòng tổng là tổng của các đơn vị con cộng cơ sở đơn vị trực tiếp quản lý. "
                "Đơn vị của cơ sở lấy theo lịch sử phân công tại ngày số liệu; tình trạng "
                "GCN/cam kết và OCOP là hiện trạng."
            ),
            "en": (
                "Every subtotal is the sum of its children plus the establishments the unit "
                "manages itself. An establishment counts in the unit it had on the as-of day; "
                "certificate/commitment and OCOP status are current."
            ),
        },
    }


def targets_progress(goals: targets_mod.Goals, counts: dict[str, int]) -> list[dict[str, Any]]:
    out = []
    for target in targets_mod.TARGETS:
        numerator = counts[target.numerator]
        denominator = counts[target.denominator]
        value = rate(numerator, denominator)
        goal = float(getattr(goals, target.key))
        out.append(
            {
                "key": target.key,
                "formula": f"{target.numerator}/{target.denominator}",
                "vi": target.vi,
                "en": target.en,
                "target": goal,
                "numerator": numerator,
                "denominator": denominator,
                "value": value,
                "met": value is not None and value >= goal,
            }
        )
    return out


def month_range(start: date, end: date) -> Iterable[str]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield f"{year:04d}-{month:02d}"
        month += 1
        if month == 13:
            year, month = year + 1, 1
