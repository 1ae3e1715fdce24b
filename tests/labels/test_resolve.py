"""Resolution of scanned codes: the GS1 path reader, GTINs, short codes read as Crockford,
forged serials recognised without a query, warm codes resolved with no query at all, and a
void shown at once through the card epoch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from services.labels.domain import cards, codes, resolve
from shared.db import get_database
from tests.labels.test_trace_page import (
    Goods,
    add_batch,
    add_code,
    item_path,
    make_goods,
    signing_key,
    warnings,
)

pytestmark = pytest.mark.smoke


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    cards.clear_memory()
    yield
    cards.clear_memory()


@pytest.fixture
def goods(lworld: Any, psession: Any, lsession: Any) -> Goods:
    return make_goods(lworld, psession, lsession)


class Queries:
    """Counts the statements the labels app sends to its database."""

    def __init__(self, labels_app: Any) -> None:
        self.engine = get_database(labels_app).engine
        self.count = 0

    def __enter__(self) -> Queries:
        event.listen(self.engine, "before_cursor_execute", self._one)
        return self

    def __exit__(self, *_: Any) -> None:
        event.remove(self.engine, "before_cursor_execute", self._one)

    def _one(self, *_: Any) -> None:
        self.count += 1


@pytest.mark.parametrize(
    ("rest", "expected"),
    [
        ("08936081120011", ("08936081120011", None, None)),
        ("08936081120011/10/CX-2612", ("08936081120011", "CX-2612", None)),
        ("08936081120011/10/A/B/21/0007K2M-9QF3", ("08936081120011", "A/B", "0007K2M-9QF3")),
        ("08936081120011/21/0007K2M-9QF3", ("08936081120011", None, "0007K2M-9QF3")),
        ("08936081120011/", ("08936081120011", None, None)),
        ("08936081120011/99/x", None),
        ("08936081120011/10/", None),
    ],
)
def test_parse_gs1(rest: str, expected: Any) -> None:
    assert resolve.parse_gs1(rest) == expected


def test_gtins() -> None:
    assert resolve.normal_gtin("08936081120011") == "08936081120011"
    assert resolve.normal_gtin("8936081120011") == "08936081120011"
    assert resolve.normal_gtin("08936081120012") is None
    assert resolve.normal_gtin("０８９３６０８１１２００１１") is None  # full-width digits
    assert resolve.normal_gtin("893608112001") is None
    assert resolve.normal_gtin("") is None


def test_short_codes_read_as_crockford(labels_app: Any, goods: Goods, lsession: Any) -> None:
    row = add_code(lsession, goods.product, code="0123456789")
    key = signing_key(labels_app)
    for text in ("0123456789", "o123456789", "O1Z3456789".replace("Z", "2")):
        found = resolve.resolve_short(lsession, text, key=key)
        assert found.outcome == "ok", text
        assert found.qr_code_id == row.id
        assert found.level == "product"
    assert resolve.resolve_short(lsession, "0I23456789", key=key).outcome == "ok"


def test_forged_serials_cost_no_query(labels_app: Any, goods: Goods, lsession: Any) -> None:
    key = signing_key(labels_app)
    genuine = codes.serial_code(key, goods.batch.serial_start)
    forged = genuine[:-4] + ("0000" if not genuine.endswith("0000") else "1111")

    def no_session() -> Any:
        raise AssertionError("a forged code must not reach the database")

    found = resolve.resolve_short(no_session, forged, key=key)
    assert found.outcome == "forged"
    assert found.detail == "bad_signature"
    assert found.card_key is None
    assert not found.shows_card


def test_a_warm_code_is_resolved_without_a_query(
    lclient: Any, labels_app: Any, goods: Goods
) -> None:
    first = item_path(labels_app, goods.batch, 0)
    assert lclient.get(first).status_code == 200  # warms the batch range and the card
    with Queries(labels_app) as queries:
        for offset in (1, 2, 3, 40):  # other serials of the same batch
            response = lclient.get(item_path(labels_app, goods.batch, offset))
            assert response.status_code == 200
            assert "Chè xanh Đường Hoa" in response.get_data(as_text=True)
    store = labels_app.extensions["trace_kv"]
    from shared.kv import RedisStore

    if isinstance(store, RedisStore):
        assert queries.count == 0  # scans go to Redis; nothing touches the database
    else:
        assert queries.count > 0  # embedded: each scan is a row written at once


def test_resolution_fields(labels_app: Any, goods: Goods, lsession: Any) -> None:
    key = signing_key(labels_app)
    found = resolve.resolve_path(lsession, item_path(labels_app, goods.batch, 4), key=key)
    assert found.outcome == "ok"
    assert found.level == "item"
    assert found.serial == goods.batch.serial_start + 4
    assert found.batch_id == goods.batch.id
    assert found.lot_id == goods.lot.id
    assert found.product_id == goods.product.id
    assert found.establishment_id == goods.world.est_a.id
    assert found.card_key == cards.lot_key(goods.lot.id)
    gs1 = resolve.resolve_path(lsession, "/01/08936081120011/10/CX-2612", key=key)
    assert gs1.lot_by_code == "CX-2612"
    assert gs1.card_key is None
    assert gs1.level == "lot"
    lot_row = add_code(lsession, goods.product, goods.lot)
    cards.clear_memory()
    gs1 = resolve.resolve_path(lsession, "/01/08936081120011/10/CX-2612", key=key)
    assert gs1.qr_code_id == lot_row.id
    assert gs1.card_key == cards.lot_key(goods.lot.id)
    odd = resolve.resolve_path(lsession, "/x/y", key=key)
    assert odd.outcome == "unknown"
    assert odd.detail == "not_a_code"


def test_voiding_a_cached_batch_shows_at_once(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    path = item_path(labels_app, goods.batch, 2)
    assert warnings(lclient.get(path).get_data(as_text=True)) == []  # cached now
    voided = lclient.post(
        f"/api/v1/batches/{goods.batch.id}/void",
        json={"reason": "Tem bị mất trộm"},
        headers=goods.world.headers("owner_a"),
    )
    assert voided.status_code == 200, voided.json
    assert warnings(lclient.get(path).get_data(as_text=True)) == ["code_void"]


def test_epoch_change_empties_the_caches(labels_app: Any, goods: Goods, lsession: Any) -> None:
    key = signing_key(labels_app)
    cards.observe_epoch("41")
    resolve.resolve_path(lsession, item_path(labels_app, goods.batch), key=key)
    assert resolve._ranges.find(goods.batch.serial_start) is not None
    cards.observe_epoch("41")
    assert resolve._ranges.find(goods.batch.serial_start) is not None
    cards.observe_epoch("42")
    assert resolve._ranges.find(goods.batch.serial_start) is None
    other = add_batch(lsession, goods.product, goods.lot, quantity=3)
    found = resolve.resolve_path(lsession, item_path(labels_app, other, 2), key=key)
    assert found.batch_id == other.id
    beyond = resolve.resolve_path(lsession, item_path(labels_app, other, 3), key=key)
    assert beyond.outcome == "unknown"
