"""The products pages' test ground (used by the other test_pages_* files) and the
establishment's home page.

`pages` builds on the products `pworld`: one product and one lot for est_a (HTX Chè Đường Hoa,
managed by commune A1 under district A) and for est_b (Bình Liêu, district B). Each role gets
its own test client logged in by the `trace_access` cookie, with a known CSRF token."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, cast

import pytest

from services.products.models import Lot, Product
from tests.products.conftest import PWorld
from tests.products.factories import LotFactory, ProductFactory

ROLES = ("anonymous", "admin", "agency_a", "agency_b", "owner_a", "owner_b")
CSRF = "test-csrf-token"


@dataclass
class Pages:
    app: Any
    world: PWorld
    session: Any
    product_a: Product
    product_b: Product
    lot_a: Lot
    lot_b: Lot

    def client(self, who: str) -> Any:
        client = self.app.test_client()
        if who != "anonymous":
            client.set_cookie("trace_access", self.world.tokens[who])
        with client.session_transaction() as stored:
            stored["_csrf"] = CSRF
        return client

    def get(self, who: str, url: str) -> Any:
        return self.client(who).get(url)

    def fetch(self, who: str, url: str) -> tuple[int, bytes]:
        """GET a file: (status, body), the response closed."""
        with self.client(who).get(url) as response:
            return response.status_code, response.get_data()

    def post(self, who: str, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        return self.client(who).post(url, data={"_csrf": CSRF, **(data or {})}, **kw)

    def expect(self, url: str, answers: dict[str, int]) -> dict[str, Any]:
        """GET `url` as each role; assert the status codes; return the responses."""
        got = {}
        for who, status in answers.items():
            response = self.get(who, url)
            assert response.status_code == status, (who, url, response.status_code)
            if status == 302 and who == "anonymous":
                assert response.headers["Location"].startswith("/accounts/login?next=")
            got[who] = response
        return got


def build_pages(products_app: Any, psession: Any, pworld: PWorld) -> Pages:
    """The ground of every test_pages_* file (each has a `pages` fixture calling this)."""
    product_a = cast(
        Product,
        ProductFactory(
            establishment_id=pworld.est_a.id,
            name="Chè xanh Đường Hoa loại đặc biệt",
            code="CHE-01",
        ),
    )
    product_b = cast(
        Product,
        ProductFactory(
            establishment_id=pworld.est_b.id, name="Miến dong Bình Liêu túi 500g", code="MIEN-01"
        ),
    )
    lot_a = cast(Lot, LotFactory(product=product_a, code="CHE-2026-001"))
    lot_b = cast(Lot, LotFactory(product=product_b, code="MIEN-2026-777"))
    psession.commit()
    return Pages(products_app, pworld, psession, product_a, product_b, lot_a, lot_b)


@pytest.fixture
def pages(products_app: Any, psession: Any, pworld: PWorld) -> Pages:
    return build_pages(products_app, psession, pworld)


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 80)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


# --- the establishment's home page ------------------------------------------------------------


def test_home_only_for_establishments(pages: Pages) -> None:
    got = pages.expect(
        "/",
        {"anonymous": 302, "admin": 403, "agency_a": 403, "owner_a": 200, "owner_b": 200},
    )
    page_a = text(got["owner_a"])
    assert "HTX Chè Đường Hoa" in page_a
    assert "Cơ sở Miến dong Bình Liêu" not in page_a
    assert "Cơ sở Miến dong Bình Liêu" in text(got["owner_b"])
    assert "HTX Chè Đường Hoa" not in text(got["owner_b"])


def test_home_warns_of_expiring_certificates_and_lists_incoming(pages: Pages) -> None:
    import uuid
    from datetime import timedelta

    from services.products.models import Certification, Shipment
    from shared.clock import local_today
    from shared.db import utcnow

    pages.session.add(
        Certification(
            id=uuid.uuid4(),
            establishment_id=pages.world.est_a.id,
            kind="vietgap",
            number="VG-EXP-1",
            issuer="Trung tâm chứng nhận",
            valid_to=local_today() - timedelta(days=3),
        )
    )
    pages.session.add(
        Certification(
            id=uuid.uuid4(),
            establishment_id=pages.world.est_a.id,
            kind="haccp",
            number="HACCP-SOON",
            issuer="Trung tâm chứng nhận",
            valid_to=local_today() + timedelta(days=30),
        )
    )
    pages.session.add(
        Shipment(
            id=uuid.uuid4(),
            lot_id=pages.lot_b.id,
            establishment_id=pages.world.est_b.id,
            recipient_establishment_id=pages.world.est_a.id,
            recipient_name="HTX Chè Đường Hoa",
            quantity=5,
            unit="kg",
            shipped_at=utcnow(),
            status="sent",
        )
    )
    pages.session.commit()
    page_a = text(pages.get("owner_a", "/"))
    assert "VG-EXP-1" in page_a
    assert "đã hết hạn" in page_a
    assert "HACCP-SOON" in page_a
    assert "sẽ hết hạn" in page_a
    assert "MIEN-2026-777" in page_a  # the incoming shipment, to receive
    assert "VG-EXP-1" not in text(pages.get("owner_b", "/"))


def test_home_in_english(pages: Pages) -> None:
    response = pages.get("owner_a", "/?lang=en")
    assert response.status_code == 200
    assert "Lots on hold" in text(response)
