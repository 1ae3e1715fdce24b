"""Product-level and lot-level codes: issued once, GS1 Digital Link with a GTIN, images."""

from __future__ import annotations

from typing import Any

import pytest

from tests.products.factories import LotFactory, ProductFactory

pytestmark = pytest.mark.smoke


def test_codes(lclient: Any, lworld: Any, psession: Any) -> None:
    gtin_product = ProductFactory(establishment_id=lworld.est_a.id, gtin="08936081120011")
    plain = ProductFactory(establishment_id=lworld.est_a.id)
    lot = LotFactory(product=gtin_product, code="CM-1")
    psession.commit()
    headers = lworld.headers("owner_a")
    first = lclient.post("/api/v1/codes/", json={"product_id": str(plain.id)}, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["url"].endswith(f"/q/{first.json['code']}")
    again = lclient.post("/api/v1/codes/", json={"product_id": str(plain.id)}, headers=headers)
    assert again.status_code == 200
    assert again.json["id"] == first.json["id"]
    lot_code = lclient.post(
        "/api/v1/codes/",
        json={"product_id": str(gtin_product.id), "lot_id": str(lot.id)},
        headers=headers,
    )
    assert lot_code.json["url"].endswith("/01/08936081120011/10/CM-1")
    svg = lclient.get(lot_code.json["image_url"], headers=headers)
    assert svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data
    png = lclient.get(lot_code.json["image_url"].replace(".svg", ".png"), headers=headers)
    assert png.data.startswith(b"\x89PNG")
    stranger = lworld.headers("owner_b")
    assert lclient.get(lot_code.json["image_url"], headers=stranger).status_code == 404
    refused = lclient.post("/api/v1/codes/", json={"product_id": str(plain.id)}, headers=stranger)
    assert refused.status_code == 422
    listed = lclient.get("/api/v1/codes/", headers=lworld.headers("agency_a")).json
    assert len(listed) == 2
