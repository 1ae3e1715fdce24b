"""Ordering label batches: scope, bounds, printable lots, void; serial ranges never overlap,
even with 20 orders at once on PostgreSQL and on SQLite [RELIABILITY 8]."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest

from services.labels.domain import batches, codes
from services.labels.models import AuditEvent, LabelBatch
from shared.db import Database
from tests.conftest import build_settings
from tests.products.factories import LotFactory, ProductFactory

pytestmark = pytest.mark.smoke


@pytest.fixture
def goods(lworld: Any, psession: Any) -> dict[str, Any]:
    product = ProductFactory(
        establishment_id=lworld.est_a.id, name="Chả mực Hạ Long", gtin="08936081120011"
    )
    plain = ProductFactory(establishment_id=lworld.est_a.id, name="Mực khô")
    lot = LotFactory(product=product, code="CM-261201")
    recalled = LotFactory(product=product, code="CM-261202", status="recalled")
    other = ProductFactory(establishment_id=lworld.est_b.id)
    psession.commit()
    return {"product": product, "plain": plain, "lot": lot, "recalled": recalled, "other": other}


def order(lclient: Any, lworld: Any, who: str = "owner_a", **body: Any) -> Any:
    return lclient.post("/api/v1/batches/", json=body, headers=lworld.headers(who))


def test_order_allocates_a_signed_range(
    lclient: Any, lworld: Any, goods: dict[str, Any], lsession: Any, labels_app: Any
) -> None:
    first = order(
        lclient,
        lworld,
        product_id=str(goods["product"].id),
        lot_id=str(goods["lot"].id),
        quantity=40,
        template={"preset": "40x30", "fields": ["product_name", "lot", "expiry_date", "code"]},
    )
    assert first.status_code == 201, first.json
    body = first.json
    assert body["quantity"] == 40
    assert body["serial_end"] - body["serial_start"] == 39
    assert body["lot_code"] == "CM-261201"
    assert body["content"]["product_name"] == "Chả mực Hạ Long"
    assert body["content"]["establishment_name"] == lworld.est_a.name
    assert body["number"].startswith("TEM-")
    key = labels_app.config["SETTINGS"].serial_signing_key
    assert body["first_code"] == codes.serial_code(key, body["serial_start"])
    second = order(lclient, lworld, product_id=str(goods["plain"].id), quantity=10)
    assert second.status_code == 201, second.json
    assert second.json["serial_start"] == body["serial_end"] + 1
    assert lsession.query(AuditEvent).filter_by(action="batch.order").count() == 2


@pytest.mark.parametrize(
    ("who", "product", "status", "code"),
    [
        ("owner_b", "product", 422, "product_not_in_scope"),
        ("agency_b", "product", 422, "product_not_in_scope"),
        ("agency_a", "product", 201, None),
        ("admin", "other", 201, None),
        ("anonymous", "product", 401, None),
    ],
)
def test_who_may_order(
    lclient: Any, lworld: Any, goods: dict[str, Any], who: str, product: str, status: int, code: Any
) -> None:
    response = order(lclient, lworld, who, product_id=str(goods[product].id), quantity=5)
    assert response.status_code == status, response.json
    if code:
        assert response.json["code"] == code


def test_no_labels_for_a_recalled_lot(lclient: Any, lworld: Any, goods: dict[str, Any]) -> None:
    response = order(
        lclient,
        lworld,
        product_id=str(goods["product"].id),
        lot_id=str(goods["recalled"].id),
        quantity=5,
    )
    assert response.status_code == 409
    assert response.json["code"] == "lot_not_printable"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 100_001}, "quantity"),
        ({"quantity": "many"}, "quantity"),
        ({"template": {"preset": "10x10"}}, "template"),
        ({"template": {"fields": ["password"]}}, "template"),
        ({"template": {"margin_mm": -1}}, "template"),
        ({"lot_id": str(uuid.uuid4())}, "lot_id"),
        ({"owner": "me"}, "owner"),
    ],
)
def test_bad_orders_change_nothing(
    lclient: Any,
    lworld: Any,
    goods: dict[str, Any],
    lsession: Any,
    body: dict[str, Any],
    field: str,
) -> None:
    payload = {"product_id": str(goods["product"].id), "quantity": 5, **body}
    response = order(lclient, lworld, **payload)
    assert response.status_code == 422, response.json
    assert any(name.startswith(field) for name in response.json["errors"]), response.json
    assert lsession.query(LabelBatch).count() == 0


def test_void_needs_a_reason_and_scope(lclient: Any, lworld: Any, goods: dict[str, Any]) -> None:
    batch = order(lclient, lworld, product_id=str(goods["product"].id), quantity=5).json
    url = f"/api/v1/batches/{batch['id']}/void"
    assert lclient.post(url, json={}, headers=lworld.headers("owner_a")).status_code == 422
    assert (
        lclient.post(url, json={"reason": "x"}, headers=lworld.headers("owner_b")).status_code
        == 404
    )
    voided = lclient.post(url, json={"reason": "Mất cuộn tem"}, headers=lworld.headers("owner_a"))
    assert voided.status_code == 200
    assert voided.json["status"] == "void"
    assert voided.json["pdf_url"] is None


def test_find_by_serial(lsession: Any) -> None:
    for start, end in ((1, 10), (11, 20), (31, 40)):
        lsession.add(
            LabelBatch(
                number=f"T-{start}",
                establishment_id=uuid.uuid4(),
                product_id=uuid.uuid4(),
                quantity=end - start + 1,
                serial_start=start,
                serial_end=end,
            )
        )
    lsession.flush()
    assert batches.find_by_serial(lsession, 15).number == "T-11"
    assert batches.find_by_serial(lsession, 31).number == "T-31"
    assert batches.find_by_serial(lsession, 25) is None
    assert batches.find_by_serial(lsession, 41) is None


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Separate, committed databases: concurrent transactions cannot share a test's."""
    settings = build_settings("conc", tmp_path_factory.mktemp("conc"), 1)
    database = Database(settings.database_url("labels"), service="labels")
    yield database
    database.dispose()


def test_twenty_concurrent_orders_get_disjoint_ranges(committed: Database) -> None:
    ranges: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(20)

    def place_order() -> None:
        try:
            barrier.wait()
            with committed.transaction() as session:
                start = batches.allocate(session, 50)
                session.add(
                    LabelBatch(
                        number=f"C-{uuid.uuid4().hex[:12]}",
                        establishment_id=uuid.uuid4(),
                        product_id=uuid.uuid4(),
                        quantity=50,
                        serial_start=start,
                        serial_end=start + 49,
                    )
                )
                ranges.append((start, start + 49))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=place_order) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    serials = [s for start, end in ranges for s in range(start, end + 1)]
    assert len(serials) == 1000
    assert len(set(serials)) == 1000
    with committed.transaction() as session:
        stored = sorted((b.serial_start, b.serial_end) for b in session.query(LabelBatch).all())
    assert stored == sorted(ranges)


def test_an_order_that_fails_leaves_no_gap(committed: Database) -> None:
    with committed.transaction() as session:
        before = batches.allocate(session, 1)

    def failing_order() -> None:
        with committed.transaction() as session:
            batches.allocate(session, 500)
            raise RuntimeError("the order fails after allocation")

    with pytest.raises(RuntimeError):
        failing_order()
    with committed.transaction() as session:
        assert batches.allocate(session, 1) == before + 1
