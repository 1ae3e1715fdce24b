"""The demo province's reports data: the 2024 plan as published, this year's plan, the
published Appendix 01 matched to the units, narratives; running it twice adds nothing."""

from __future__ import annotations

from typing import Any

import pytest

from services.reports.models import Narrative, PlanEntry, PublishedRow, PublishedTable
from services.reports.seed import seed_demo
from shared.clock import local_today

pytestmark = pytest.mark.smoke


def test_the_demo_reports_data(rsession: Any, appendix_tree: dict[str, Any]) -> None:
    payload = {
        "units": [
            {
                "id": unit.id,
                "parent_id": unit.parent_id,
                "path": unit.path,
                "code": unit.code,
                "name": unit.name,
                "status": "active",
            }
            for unit in appendix_tree.values()
        ]
    }
    first = seed_demo(rsession, payload)
    assert first["plan_2024"] == 171
    assert first["published_tables"] == 1
    assert first["narratives"] == 2
    total_2024 = sum(e.accounts for e in rsession.query(PlanEntry).filter_by(year=2024))
    assert total_2024 == 5565
    this_year = sum(
        e.accounts for e in rsession.query(PlanEntry).filter_by(year=local_today().year)
    )
    assert this_year == 5565
    rows = rsession.query(PublishedRow).all()
    assert len(rows) == 23
    # Every row but the grand total is matched to its unit.
    assert [r.code for r in rows if r.unit_id is None] == ["TOTAL"]

    again = seed_demo(rsession, payload)
    assert set(again) == {"units"}
    assert rsession.query(PublishedTable).count() == 1
    assert rsession.query(Narrative).count() == 2
