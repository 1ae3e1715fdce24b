"""Indicator arithmetic: roll-ups are sums of children plus the unit's own, rates are each
row's own numerator over denominator (never summed), an empty denominator has no rate."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from services.reports.domain import indicators
from services.reports.domain.periods import Period
from services.reports.domain.sources import Snapshot

pytestmark = pytest.mark.smoke


def test_fields_and_rates_are_well_formed() -> None:
    assert len(set(indicators.FIELDS)) == len(indicators.FIELDS)
    for name, numerator, denominator, vi, en in indicators.RATES:
        assert name == f"{numerator}/{denominator}"
        assert {numerator, denominator} <= set(indicators.FIELDS)
        assert vi
        assert en


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(1, 3, 33.33), (2, 3, 66.67), (0, 5, 0.0), (5, 0, None), (102, 2117, 4.82)],
)
def test_rate(numerator: int, denominator: int, expected: float | None) -> None:
    assert indicators.rate(numerator, denominator) == expected


def test_a_parent_with_its_own_establishments_adds_them_to_its_children(
    rsession: Any, rworld: Any
) -> None:
    snapshot = Snapshot(as_of=date(2024, 6, 30), start=date(2024, 1, 1), end=date(2024, 6, 30))
    a, a1, b = str(rworld.unit_a.id), str(rworld.unit_a1.id), str(rworld.unit_b.id)
    base = dict.fromkeys(("establishments", "certificate_subject", "with_account"), 0)
    snapshot.establishments = {
        a: {**base, "establishments": 2, "certificate_subject": 2, "with_account": 1},
        a1: {**base, "establishments": 3, "certificate_subject": 1, "with_account": 1},
        b: {**base, "establishments": 5, "certificate_subject": 0, "with_account": 0},
    }
    snapshot.grants = {a1: {"2024-05": 2}}
    figures = indicators.compute(rsession, snapshot, Period.of("quarterly", 2024, 2), None)
    units = {u["code"]: u for u in figures["units"]}
    assert units["DIST-A"]["own"]["establishments"] == 2
    assert units["DIST-A"]["total"]["establishments"] == 5
    assert units["ROOT"]["total"]["establishments"] == 10
    # Rates per row: A is 2 of 5 → 40 %, not the mean of its children's rates.
    assert units["DIST-A"]["rates"]["with_account/establishments"] == 40.0
    assert units["DIST-A"]["rates"]["with_account/certificate_subject"] == pytest.approx(66.67)
    assert units["DIST-B"]["rates"]["with_account/certificate_subject"] is None
    assert figures["months"] == ["2024-04", "2024-05", "2024-06"]
    assert units["DIST-A"]["months"]["2024-05"] == {"plan": 0, "actual": 2}
    assert figures["total"]["counts"]["granted_accounts"] == 2


def test_figures_of_an_unknown_unit_are_refused(rsession: Any, rworld: Any) -> None:
    snapshot = Snapshot(as_of=date(2024, 6, 30), start=date(2024, 1, 1), end=date(2024, 6, 30))
    snapshot.establishments = {"00000000-0000-0000-0000-000000000001": {"establishments": 1}}
    with pytest.raises(indicators.UnknownUnit):
        indicators.compute(rsession, snapshot, Period.of("annual", 2024), None)
