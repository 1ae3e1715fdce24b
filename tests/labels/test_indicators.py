"""The counts the reports service compiles the label indicators from: labels issued, scans
and counterfeit alerts per unit (no roll-up) over local days, and the products with a QR code
as of the end of a local day, through the internal API with a service token."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.labels.models import CounterfeitAlert, LabelBatch, QrCode, Scan
from shared.auth import mint_service_token
from shared.clock import local_today
from tests.products.factories import auth

pytestmark = pytest.mark.smoke

URL = "/api/v1/internal/indicators"
PERIOD = {"as_of": "2026-01-31", "from": "2026-01-01", "to": "2026-01-31"}
# Asia/Ho_Chi_Minh is UTC+7: local 1 January 00:00 is 31 December 17:00 UTC.
FIRST_INSTANT = datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
LAST_INSTANT = datetime(2026, 1, 31, 16, 59, 59, 999999, tzinfo=UTC)
AFTER = LAST_INSTANT + timedelta(microseconds=1)
BEFORE = FIRST_INSTANT - timedelta(microseconds=1)
LONG_AGO = datetime(2025, 6, 1, tzinfo=UTC)


def service_headers(labels_app: Any) -> dict[str, str]:
    return auth(mint_service_token(labels_app.config["SETTINGS"].service_secret, "reports"))


def get(lclient: Any, labels_app: Any, **query: str) -> Any:
    return lclient.get(URL, query_string=query, headers=service_headers(labels_app))


_serials = itertools.count(1_000_000, 100_000)


def _batch(lsession: Any, est: Any, created_at: datetime, n: int, **kw: Any) -> LabelBatch:
    start = next(_serials)
    end = start + n - 1
    batch = LabelBatch(
        id=uuid.uuid4(),
        number=f"TEM-T-{uuid.uuid4().hex[:10]}",
        establishment_id=est.id if est else uuid.uuid4(),
        product_id=kw.pop("product_id", uuid.uuid4()),
        quantity=n,
        serial_start=start,
        serial_end=end,
        created_at=created_at,
        **kw,
    )
    lsession.add(batch)
    return batch


def _scan(lsession: Any, est: Any, at: datetime, **kw: Any) -> None:
    lsession.add(
        Scan(
            at=at,
            level="item",
            code=kw.pop("code", "0000001-ABCD"),
            establishment_id=est.id if est else None,
            outcome=kw.pop("outcome", "ok"),
            **kw,
        )
    )


def _alert(lsession: Any, est: Any, created_at: datetime) -> None:
    lsession.add(
        CounterfeitAlert(
            id=uuid.uuid4(),
            code=uuid.uuid4().hex[:12],
            reason="too_many_scans",
            establishment_id=est.id if est else None,
            unit_path=est.unit_path if est else None,
            created_at=created_at,
        )
    )


def _code(lsession: Any, est: Any, product_id: uuid.UUID, created_at: datetime, **kw: Any) -> None:
    lsession.add(
        QrCode(
            id=uuid.uuid4(),
            code=uuid.uuid4().hex[:10].upper(),
            level=kw.pop("level", "product"),
            establishment_id=est.id,
            product_id=product_id,
            created_at=created_at,
            **kw,
        )
    )


@pytest.fixture
def iworld(lworld: Any, lsession: Any) -> Any:
    """Batches, scans, alerts and codes of units A1 (est_a, est_a2) and B (est_b), with times on
    both sides of the local day edges of January 2026."""
    est_a, est_a2, est_b = lworld.est_a, lworld.est_a2, lworld.est_b
    names = ("coded", "lot", "late", "void", "item", "item_late", "lost", "voided_later")
    products = {name: uuid.uuid4() for name in names}
    item, item_late, lost = products["item"], products["item_late"], products["lost"]
    _batch(lsession, est_a, FIRST_INSTANT, 100, product_id=item)
    _batch(lsession, est_a2, LAST_INSTANT, 50, product_id=item)
    _batch(lsession, est_a, BEFORE, 7, product_id=item)
    _batch(lsession, est_a, AFTER, 9, product_id=item_late)
    _batch(lsession, est_a, FIRST_INSTANT, 1000, product_id=lost, voided_at=FIRST_INSTANT)
    _batch(lsession, est_b, datetime(2026, 1, 15, tzinfo=UTC), 10, product_id=item)
    # An establishment not in the copy: not counted in any unit.
    _batch(lsession, None, datetime(2026, 1, 15, tzinfo=UTC), 20, product_id=item)

    for when in (BEFORE, FIRST_INSTANT, LAST_INSTANT, AFTER):
        _scan(lsession, est_a, when)
    _scan(lsession, est_a2, FIRST_INSTANT, outcome="void")
    _scan(lsession, est_b, datetime(2026, 1, 20, tzinfo=UTC))
    _scan(lsession, None, datetime(2026, 1, 20, tzinfo=UTC), outcome="unknown")

    _alert(lsession, est_a, LAST_INSTANT)
    _alert(lsession, est_a, AFTER)
    _alert(lsession, est_b, BEFORE)
    _alert(lsession, None, FIRST_INSTANT)

    _code(lsession, est_a, products["coded"], LONG_AGO)
    _code(lsession, est_a, products["coded"], LONG_AGO, level="lot", lot_id=uuid.uuid4())
    _code(lsession, est_b, products["lot"], LAST_INSTANT, level="lot", lot_id=uuid.uuid4())
    _code(lsession, est_a, products["late"], AFTER)
    _code(lsession, est_a, products["void"], LONG_AGO, status="void")
    _batch(lsession, est_a, LONG_AGO, 5, product_id=item)
    _batch(lsession, est_a, AFTER, 5, product_id=item_late)
    _batch(lsession, est_a, LONG_AGO, 5, product_id=products["lost"], voided_at=LAST_INSTANT)
    _batch(lsession, est_a2, LONG_AGO, 5, product_id=products["voided_later"], voided_at=AFTER)
    lsession.commit()
    lworld.extras["products"] = products
    return lworld


def test_counts_per_unit(lclient: Any, labels_app: Any, iworld: Any) -> None:
    response = get(lclient, labels_app, **PERIOD)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["as_of"], body["from"], body["to"]) == ("2026-01-31", "2026-01-01", "2026-01-31")
    units = {row["unit_id"]: row for row in body["units"]}
    a1, b = str(iworld.unit_a1.id), str(iworld.unit_b.id)
    # No roll-up: the district and the province manage no establishment directly.
    assert set(units) == {a1, b}
    assert units[a1] == {
        "unit_id": a1,
        "labels_issued": 150,  # local 1 January 00:00 and 31 January 23:59:59.999999
        "batches": 2,
        "scans": 3,
        "counterfeit_alerts": 1,
    }
    assert units[b] == {
        "unit_id": b,
        "labels_issued": 10,
        "batches": 1,
        "scans": 1,
        "counterfeit_alerts": 0,
    }
    products = iworld.extras["products"]
    expected = {products[name] for name in ("coded", "lot", "item", "voided_later")}
    assert body["products_with_codes"] == sorted(str(p) for p in expected)


def test_the_next_day(lclient: Any, labels_app: Any, iworld: Any) -> None:
    response = get(
        lclient, labels_app, as_of="2026-02-01", **{"from": "2026-02-01"}, to="2026-02-01"
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    (a1,) = body["units"]
    assert a1 == {
        "unit_id": str(iworld.unit_a1.id),
        "labels_issued": 9 + 5,
        "batches": 2,
        "scans": 1,
        "counterfeit_alerts": 1,
    }
    products = iworld.extras["products"]
    found = set(body["products_with_codes"])
    assert {str(products[name]) for name in ("coded", "lot", "late", "item", "item_late")} <= found
    assert str(products["voided_later"]) not in found
    assert str(products["lost"]) not in found
    assert str(products["void"]) not in found


def test_as_of_defaults_to_today(lclient: Any, labels_app: Any, lworld: Any, lsession: Any) -> None:
    product_id = uuid.uuid4()
    _code(lsession, lworld.est_b, product_id, datetime.now(UTC))
    lsession.commit()
    response = get(lclient, labels_app, **{"from": "2020-01-01"}, to="2020-01-31")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["as_of"] == local_today().isoformat()
    assert body["units"] == []
    assert body["products_with_codes"] == [str(product_id)]


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-02-01", "to": "2026-01-31"},
        {"from": "2026-01-01"},
        {"to": "2026-01-01"},
        {"from": "x", "to": "2026-01-01"},
        {"from": "2000-01-01", "to": "2026-01-01"},
        {"from": "2026-01-01", "to": "2026-01-31", "as_of": "2026-02-30"},
    ],
)
def test_bad_periods_are_refused(
    lclient: Any, labels_app: Any, lworld: Any, query: dict[str, str]
) -> None:
    response = get(lclient, labels_app, **query)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    if query.get("from") in {"2026-02-01", "2000-01-01"}:
        (message,) = response.get_json()["errors"]["to"]
        assert "10 năm" in message["vi"]
        assert "10 years" in message["en"]


@pytest.mark.parametrize("who", ["admin", "agency_a", "owner_a"])
def test_people_cannot_read_indicators(lclient: Any, lworld: Any, who: str) -> None:
    query = {"from": "2026-01-01", "to": "2026-01-31"}
    assert lclient.get(URL, query_string=query).status_code == 401
    response = lclient.get(URL, query_string=query, headers=lworld.headers(who))
    assert response.status_code == 403
