"""The counts the reports service compiles the products indicators from: per unit (no
roll-up), as of the end of a local day and over local days, through the internal API with a
service token."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.products.models import Recall, RecallStep
from shared.auth import mint_service_token
from shared.clock import local_today
from tests.products.conftest import PWorld
from tests.products.factories import (
    EstablishmentFactory,
    LotFactory,
    ProductFactory,
    StageFactory,
    auth,
)

pytestmark = pytest.mark.smoke

URL = "/api/v1/internal/indicators"
PERIOD = {"as_of": "2026-01-31", "from": "2026-01-01", "to": "2026-01-31"}
# Asia/Ho_Chi_Minh is UTC+7: local 1 January 00:00 is 31 December 17:00 UTC.
FIRST_INSTANT = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
LAST_INSTANT = datetime(2026, 1, 31, 16, 59, 59, 999999, tzinfo=UTC)
AFTER = LAST_INSTANT + timedelta(microseconds=1)
BEFORE = FIRST_INSTANT - timedelta(microseconds=1)
LONG_AGO = datetime(2025, 6, 1, tzinfo=UTC)


def service_headers(products_app: Any) -> dict[str, str]:
    return auth(mint_service_token(products_app.config["SETTINGS"].service_secret, "reports"))


def get(pclient: Any, products_app: Any, **query: str) -> Any:
    return pclient.get(URL, query_string=query, headers=service_headers(products_app))


def _by_unit(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["unit_id"]: row for row in body["units"]}


def _recall(psession: Any, lot: Any, opened_at: datetime, **kw: Any) -> Recall:
    recall = Recall(
        number=f"TH-T-{uuid.uuid4().hex[:8]}",
        lot_id=lot.id,
        establishment_id=lot.establishment_id,
        unit_id=kw.pop("unit_id", None),
        kind="voluntary",
        reason="Nhiễm khuẩn",
        found_at=opened_at,
        opened_at=opened_at,
        decision_due_at=opened_at + timedelta(hours=24),
        status=kw.pop("status", "requested"),
        **kw,
    )
    psession.add(recall)
    psession.flush()
    return recall


@pytest.fixture
def iworld(pworld: PWorld, psession: Any) -> PWorld:
    """Products, lots, diary entries and recalls of units A1 (est_a, est_a2) and B (est_b),
    with times on both sides of the local day edges of January 2026."""
    est_a, est_a2, est_b = pworld.est_a.id, pworld.est_a2.id, pworld.est_b.id

    def product(establishment_id: uuid.UUID, **kw: Any) -> Any:
        return ProductFactory(establishment_id=establishment_id, created_at=LONG_AGO, **kw)

    # Unit A1: an OCOP key packaged product with a diary, traceable.
    traced = product(
        est_a,
        ocop_stars=4,
        ocop_decision_date=date(2025, 5, 1),
        ocop_expires_on=date(2028, 5, 1),
        is_key_product=True,
        is_packaged_processed=True,
    )
    lot = LotFactory(product=traced, created_at=LONG_AGO)
    StageFactory(lot_id=lot.id, establishment_id=est_a, created_at=LONG_AGO)
    # Packaged, whose only diary entry was voided before the end of the day: not traceable.
    voided = product(est_a, is_packaged_processed=True)
    voided_lot = LotFactory(product=voided, created_at=LONG_AGO)
    StageFactory(
        lot_id=voided_lot.id,
        establishment_id=est_a,
        created_at=LONG_AGO,
        voided_at=LAST_INSTANT,
        voided_reason="Ghi nhầm",
    )
    # Packaged, whose first diary entry came just after the day: traceable from 1 February.
    late = product(est_a2, is_packaged_processed=True)
    late_lot = LotFactory(product=late, created_at=LONG_AGO)
    StageFactory(lot_id=late_lot.id, establishment_id=est_a2, created_at=AFTER)
    # Voided only after the day: still traceable on 31 January.
    voided_later = product(est_a2, is_packaged_processed=True)
    voided_later_lot = LotFactory(product=voided_later, created_at=LONG_AGO)
    StageFactory(
        lot_id=voided_later_lot.id,
        establishment_id=est_a2,
        created_at=LONG_AGO,
        voided_at=AFTER,
        voided_reason="Ghi nhầm",
    )
    # Not counted: discontinued; created after the day.
    product(est_a, status="discontinued", ocop_stars=3, is_key_product=True)
    ProductFactory(establishment_id=est_a, created_at=AFTER, is_key_product=True)
    # Created in the day's last instant: counted.
    ProductFactory(establishment_id=est_a2, created_at=LAST_INSTANT)
    # Unit B: a key product; an OCOP rating expired before the day, one decided after it.
    key_b = product(est_b, is_key_product=True)
    product(est_b, ocop_stars=3, ocop_expires_on=date(2026, 1, 30))
    product(est_b, ocop_stars=5, ocop_decision_date=date(2026, 2, 1))
    still_valid = product(est_b, ocop_stars=3, ocop_expires_on=date(2026, 1, 31))
    # Of an establishment that has closed: not counted (its lots made in the period are).
    closed: Any = EstablishmentFactory(unit=pworld.unit_b, status="closed")
    closed_product = product(closed.id, is_key_product=True, is_packaged_processed=True)
    LotFactory(product=closed_product, created_at=LAST_INSTANT)
    # Not in the directory copy: not counted anywhere.
    ProductFactory(establishment_id=uuid.uuid4(), created_at=LONG_AGO, is_key_product=True)

    # Lots created on both sides of the period's edges.
    for when in (BEFORE, FIRST_INSTANT, LAST_INSTANT, AFTER):
        LotFactory(product=traced, created_at=when)
    LotFactory(product=key_b, created_at=FIRST_INSTANT + timedelta(days=3))

    # Recalls of A1's lot.
    _recall(psession, lot, datetime(2025, 12, 20, tzinfo=UTC))  # still open
    _recall(  # opened and closed in the period
        psession,
        lot,
        FIRST_INSTANT,
        status="closed",
        closed_at=LAST_INSTANT,
    )
    cancelled = _recall(psession, lot, datetime(2026, 1, 10, tzinfo=UTC), status="cancelled")
    psession.add(
        RecallStep(recall_id=cancelled.id, step="cancelled", at=datetime(2026, 1, 15, tzinfo=UTC))
    )
    _recall(  # opened in the period, closed after it: open at the end of 31 January
        psession, lot, LAST_INSTANT, status="closed", closed_at=AFTER
    )
    _recall(psession, lot, AFTER)  # after the period: nowhere
    _recall(  # closed just before the period
        psession, lot, datetime(2025, 11, 1, tzinfo=UTC), status="closed", closed_at=BEFORE
    )
    # Unit B's, and one whose establishment left the copy: counted in the unit it was opened in.
    b_lot = LotFactory(product=key_b, created_at=LONG_AGO)
    _recall(psession, b_lot, datetime(2026, 1, 2, tzinfo=UTC))
    gone = ProductFactory(establishment_id=uuid.uuid4(), created_at=LONG_AGO)
    _recall(
        psession,
        LotFactory(product=gone, created_at=LONG_AGO),
        datetime(2026, 1, 3, tzinfo=UTC),
        unit_id=pworld.unit_b.id,
    )
    psession.commit()
    pworld.extras.update(traced=traced, key_b=key_b, still_valid=still_valid, late=late)
    return pworld


def test_counts_per_unit(pclient: Any, products_app: Any, iworld: PWorld) -> None:
    response = get(pclient, products_app, **PERIOD)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["as_of"], body["from"], body["to"]) == ("2026-01-31", "2026-01-01", "2026-01-31")
    units = _by_unit(body)
    a1, b = str(iworld.unit_a1.id), str(iworld.unit_b.id)
    # No roll-up: the district and the province manage no establishment directly.
    assert set(units) == {a1, b}
    assert units[a1] == {
        "unit_id": a1,
        "products": 5,
        "ocop_products": 1,
        "key_products": 1,
        "packaged_processed": 4,
        "packaged_processed_traceable": 2,  # the one with a diary, the one voided later
        "lots_created": 2,  # local 1 January 00:00 and 31 January 23:59:59.999999
        "recalls_opened": 3,
        "recalls_closed": 1,
        "recalls_open": 2,
    }
    assert units[b] == {
        "unit_id": b,
        "products": 4,
        "ocop_products": 1,  # expiring on the day itself still counts
        "key_products": 1,
        "packaged_processed": 0,
        "packaged_processed_traceable": 0,
        "lots_created": 2,
        "recalls_opened": 2,
        "recalls_closed": 0,
        "recalls_open": 2,
    }
    targets = {(t["id"], t["unit_id"]) for t in body["target_products"]}
    assert targets == {
        (str(iworld.extras["traced"].id), a1),
        (str(iworld.extras["key_b"].id), b),
        (str(iworld.extras["still_valid"].id), b),
    }


def test_the_next_day(pclient: Any, products_app: Any, iworld: PWorld) -> None:
    """One day later: the late diary entry makes its product traceable, the entry voided
    then no longer counts, the product created after the day now exists, and the recall closed
    that day is no longer open; the period (1 February) has the lot and recall made then."""
    response = get(
        pclient, products_app, as_of="2026-02-01", **{"from": "2026-02-01"}, to="2026-02-01"
    )
    assert response.status_code == 200, response.get_json()
    units = _by_unit(response.get_json())
    a1 = units[str(iworld.unit_a1.id)]
    assert a1["products"] == 6
    assert a1["key_products"] == 2
    assert a1["packaged_processed_traceable"] == 2  # the late one in, the one voided then out
    assert (a1["lots_created"], a1["recalls_opened"], a1["recalls_closed"]) == (1, 1, 1)
    assert a1["recalls_open"] == 2  # the oldest one and the one opened at 00:00 local
    # The OCOP rating expiring on 31 January has lapsed; the one decided on 1 February counts.
    assert units[str(iworld.unit_b.id)]["ocop_products"] == 1


def test_as_of_defaults_to_today_and_empty_units_are_left_out(
    pclient: Any, products_app: Any, pworld: PWorld
) -> None:
    ProductFactory(establishment_id=pworld.est_b.id)
    response = get(pclient, products_app, **{"from": "2020-01-01"}, to="2020-01-31")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["as_of"] == local_today().isoformat()
    assert [row["unit_id"] for row in body["units"]] == [str(pworld.unit_b.id)]
    assert body["target_products"] == []


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-02-01", "to": "2026-01-31"},
        {"from": "2026-01-01"},
        {"to": "2026-01-01"},
        {"from": "x", "to": "2026-01-01"},
        {"from": "2000-01-01", "to": "2026-01-01"},
        {"from": "2026-01-01", "to": "2026-01-31", "as_of": "2026-13-01"},
    ],
)
def test_bad_periods_are_refused(
    pclient: Any, products_app: Any, pworld: PWorld, query: dict[str, str]
) -> None:
    response = get(pclient, products_app, **query)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    if query.get("from") in {"2026-02-01", "2000-01-01"}:
        (message,) = response.get_json()["errors"]["to"]
        assert "10 năm" in message["vi"]
        assert "10 years" in message["en"]


def test_a_ten_year_period_is_allowed(pclient: Any, products_app: Any, pworld: PWorld) -> None:
    response = get(pclient, products_app, **{"from": "2016-01-01"}, to="2025-12-31")
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("who", ["admin", "agency_a", "owner_a"])
def test_people_cannot_read_indicators(pclient: Any, pworld: PWorld, who: str) -> None:
    query = {"from": "2026-01-01", "to": "2026-01-31"}
    assert pclient.get(URL, query_string=query).status_code == 401
    response = pclient.get(URL, query_string=query, headers=pworld.headers(who))
    assert response.status_code == 403
