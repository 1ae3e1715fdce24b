"""RELIABILITY 14 on the products pages: every value an establishment typed — product and lot
names and codes, a diary entry's place and note, a chain party — shows as text, never as markup,
on every page that shows it, for the owner and for the officers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.products.factories import LotFactory, ProductFactory, StageFactory

pytestmark = pytest.mark.smoke

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;"


@pytest.fixture
def evil_lot(pworld: Any, psession: Any) -> Any:
    product = ProductFactory(
        establishment_id=pworld.est_a.id,
        name=f"Chè {EVIL}",
        description=EVIL,
        origin=EVIL,
        packaging=EVIL,
    )
    lot = LotFactory(product=product, code="L-EVIL-1", unit="<b>kg")
    StageFactory(
        lot_id=lot.id,
        establishment_id=lot.establishment_id,
        place=EVIL,
        actor=EVIL,
        description=EVIL,
    )
    psession.commit()
    return lot


@pytest.mark.parametrize("who", ["owner_a", "agency_a", "admin"])
def test_every_typed_value_is_text(pclient: Any, pworld: Any, evil_lot: Any, who: str) -> None:
    pclient.set_cookie("trace_access", pworld.tokens[who])
    pages = [
        "/products",
        f"/products/{evil_lot.product_id}",
        f"/lots/{evil_lot.id}",
        f"/lots/{evil_lot.id}/trace",
    ]
    if who == "owner_a":
        pages += ["/", "/lots", f"/lots/{evil_lot.id}/diary", f"/lots/{evil_lot.id}/ship"]
    for path in pages:
        response = pclient.get(path)
        assert response.status_code == 200, (who, path, response.status_code)
        page = response.get_data(as_text=True)
        assert "<script>alert" not in page, (who, path)
        assert "<img src=x" not in page, (who, path)
    shown = pclient.get(f"/lots/{evil_lot.id}").get_data(as_text=True)
    assert ESCAPED in shown  # it is there, as text
