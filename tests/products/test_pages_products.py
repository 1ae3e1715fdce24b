"""The products and certifications pages: who reaches each, no leak of another establishment's
products, every form's error path (422, message next to the field) and its success path."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from services.products.models import Certification, Product
from tests.products.conftest import PWorld
from tests.products.test_pages_common import CSRF, PDF, Pages, build_pages, png_bytes, text

NAME_A = "Chè xanh Đường Hoa loại đặc biệt"
NAME_B = "Miến dong Bình Liêu túi 500g"


@pytest.fixture
def pages(products_app: Any, psession: Any, pworld: PWorld) -> Pages:
    return build_pages(products_app, psession, pworld)


def test_product_list_by_role_without_leaks(pages: Pages) -> None:
    got = pages.expect(
        "/products",
        {
            "anonymous": 302,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 200,
            "owner_a": 200,
            "owner_b": 200,
        },
    )
    assert NAME_A in text(got["owner_a"])
    assert NAME_B not in text(got["owner_a"])
    assert NAME_B in text(got["owner_b"])
    assert NAME_A not in text(got["owner_b"])
    assert NAME_A in text(got["agency_a"])
    assert NAME_B not in text(got["agency_a"])
    assert NAME_B in text(got["agency_b"])
    assert NAME_A not in text(got["agency_b"])
    assert NAME_A in text(got["admin"])
    assert NAME_B in text(got["admin"])


def test_product_list_search_is_diacritic_insensitive(pages: Pages) -> None:
    response = pages.get("owner_a", "/products?q=duong+hoa")
    assert NAME_A in text(response)
    assert NAME_A not in text(pages.get("owner_a", "/products?q=khong+co"))


def test_product_detail_by_role(pages: Pages) -> None:
    url = f"/products/{pages.product_a.id}"
    got = pages.expect(
        url,
        {
            "anonymous": 302,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 404,
            "owner_a": 200,
            "owner_b": 404,
        },
    )
    assert 'name="gtin"' in text(got["owner_a"])  # the edit form
    assert 'name="gtin"' not in text(got["agency_a"])  # read-only for the agency
    assert NAME_A in text(got["agency_a"])
    assert NAME_A not in text(got["owner_b"])
    assert pages.get("owner_a", f"/products/{uuid.uuid4()}").status_code == 404


def test_new_product_form_roles(pages: Pages) -> None:
    pages.expect("/products/new", {"anonymous": 302, "admin": 403, "agency_a": 403, "owner_a": 200})


def test_new_product_wrong_gtin_check_digit_shown_next_to_field(pages: Pages) -> None:
    response = pages.post(
        "owner_a",
        "/products/new",
        {"name": "Nấm hương rừng", "code": "NAM-01", "gtin": "8934567890124", "party_rows": "3"},
    )
    assert response.status_code == 422
    body = text(response)
    assert 'id="gtin-error"' in body
    assert "Số kiểm tra của GTIN không đúng." in body
    assert 'value="Nấm hương rừng"' in body  # nothing lost
    assert pages.session.scalar(select(Product).where(Product.code == "NAM-01")) is None


def test_new_product_missing_name(pages: Pages) -> None:
    response = pages.post("owner_a", "/products/new", {"code": "X-1", "party_rows": "3"})
    assert response.status_code == 422
    assert 'id="name-error"' in text(response)


def test_new_product_without_csrf_is_refused(pages: Pages) -> None:
    client = pages.client("owner_a")
    response = client.post("/products/new", data={"name": "A", "code": "B"})
    assert response.status_code == 400


def test_new_product_success(pages: Pages) -> None:
    client = pages.client("owner_a")
    response = client.post(
        "/products/new",
        data={
            "_csrf": CSRF,
            "name": "Nấm hương rừng Đầm Hà",
            "code": "NAM-02",
            "gtin": "8934567890120",
            "preservation": "processed",
            "shelf_life_days": "365",
            "price": "120000",
            "standards": "TCVN 1\nTCVN 2",
            "ocop_stars": "4",
            "ocop_decision_no": "123/QĐ-UBND",
            "is_key_product": "1",
            "party_rows": "3",
            "parties-0-role": "packer",
            "parties-0-name": "Tổ đóng gói Quảng Tân",
        },
    )
    assert response.status_code == 303
    made = pages.session.scalar(select(Product).where(Product.code == "NAM-02"))
    assert made is not None
    assert made.establishment_id == pages.world.est_a.id
    assert made.gtin == "08934567890120"
    assert made.ocop_stars == 4
    assert made.is_key_product
    assert made.standards == ["TCVN 1", "TCVN 2"]
    assert [p.name for p in made.parties] == ["Tổ đóng gói Quảng Tân"]
    follow = client.get(response.headers["Location"])
    assert "Đã thêm sản phẩm" in text(follow)


def _edit(pages: Pages, who: str, **changes: str) -> Any:
    product = pages.product_a
    data = {
        "name": product.name,
        "code": product.code,
        "preservation": product.preservation,
        "status": "active",
        "party_rows": "3",
        "version": str(product.version),
        **changes,
    }
    return pages.post(who, f"/products/{product.id}", data)


def test_edit_product(pages: Pages) -> None:
    response = _edit(pages, "owner_a", name="Chè xanh Đường Hoa hộp quà")
    assert response.status_code == 303
    pages.session.expire_all()
    assert pages.session.get(Product, pages.product_a.id).name == "Chè xanh Đường Hoa hộp quà"


def test_edit_product_errors_and_stale_version(pages: Pages) -> None:
    response = _edit(pages, "owner_a", ocop_decision_no="5/QĐ")
    assert response.status_code == 422
    assert 'id="ocop_stars-error"' in text(response)
    stale = _edit(pages, "owner_a", name="Khác", version="99")
    assert stale.status_code == 422
    pages.session.expire_all()
    assert pages.session.get(Product, pages.product_a.id).name == "Chè xanh Đường Hoa loại đặc biệt"


def test_edit_product_refused_to_agencies_and_others(pages: Pages) -> None:
    assert _edit(pages, "agency_a", name="Agency edit").status_code == 403
    assert _edit(pages, "owner_b", name="Foreign edit").status_code == 404
    assert _edit(pages, "admin", name="Admin edit").status_code == 403


def test_product_image_upload(pages: Pages) -> None:
    url = f"/products/{pages.product_a.id}/image"
    bad = pages.post(
        "owner_a",
        url,
        {"file": (io.BytesIO(b"not an image"), "x.png")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert 'id="file-error"' in text(bad)
    good = pages.post(
        "owner_a",
        url,
        {"file": (io.BytesIO(png_bytes()), "che.png")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 303
    pages.session.expire_all()
    assert pages.session.get(Product, pages.product_a.id).image_key
    foreign = pages.post(
        "owner_b",
        url,
        {"file": (io.BytesIO(png_bytes()), "x.png")},
        content_type="multipart/form-data",
    )
    assert foreign.status_code == 404


def test_delete_product(pages: Pages) -> None:
    with_lots = pages.post("owner_a", f"/products/{pages.product_a.id}/delete", {"reason": "nhầm"})
    assert with_lots.status_code == 303  # refused: it has lots (flashed)
    assert pages.session.get(Product, pages.product_a.id) is not None
    spare = Product(
        id=uuid.uuid4(),
        establishment_id=pages.world.est_a.id,
        name="Nhập nhầm",
        name_folded="nhap nham",
        code="NHAM",
        standards=[],
    )
    pages.session.add(spare)
    pages.session.commit()
    assert pages.post("owner_b", f"/products/{spare.id}/delete", {"reason": "x"}).status_code == 404
    done = pages.post("owner_a", f"/products/{spare.id}/delete", {"reason": "Nhập nhầm"})
    assert done.status_code == 303
    assert pages.session.scalar(select(Product.id).where(Product.id == spare.id)) is None


# --- certifications ---------------------------------------------------------------------------


def test_certification_pages_roles(pages: Pages) -> None:
    answers = {"anonymous": 302, "admin": 403, "agency_a": 403, "owner_a": 200, "owner_b": 200}
    pages.expect("/certifications", answers)
    pages.expect("/certifications/new", answers)


def _certify(pages: Pages, who: str, **fields: object) -> Any:
    data = {"kind": "vietgap", "number": "VG-2026-01", "issuer": "Trung tâm chứng nhận", **fields}
    return pages.post(who, "/certifications/new", data, content_type="multipart/form-data")


def test_new_certification_errors(pages: Pages) -> None:
    missing = _certify(pages, "owner_a", number="")
    assert missing.status_code == 422
    assert 'id="number-error"' in text(missing)
    dates = _certify(pages, "owner_a", valid_from="2026-05-01", valid_to="2026-01-01")
    assert dates.status_code == 422
    assert 'id="valid_to-error"' in text(dates)
    bad_file = _certify(pages, "owner_a", file=(io.BytesIO(b"hello"), "scan.txt"))
    assert bad_file.status_code == 422
    assert 'id="file-error"' in text(bad_file)
    assert 'value="VG-2026-01"' in text(bad_file)
    assert pages.session.scalar(select(Certification)) is None  # rolled back


def test_new_certification_with_document(pages: Pages) -> None:
    response = _certify(
        pages, "owner_a", valid_to="2030-01-01", file=(io.BytesIO(PDF), "vietgap.pdf")
    )
    assert response.status_code == 303
    made = pages.session.scalar(select(Certification).where(Certification.number == "VG-2026-01"))
    assert made is not None
    assert made.document_key
    assert made.establishment_id == pages.world.est_a.id
    listing = text(pages.get("owner_a", "/certifications"))
    assert "VG-2026-01" in listing
    assert "Còn hiệu lực" in listing
    assert "VG-2026-01" not in text(pages.get("owner_b", "/certifications"))
    url = f"/certifications/{made.id}/document"
    status, data = pages.fetch("owner_a", url)
    assert status == 200
    assert data.startswith(b"%PDF")
    assert pages.fetch("owner_b", url)[0] == 404
    assert pages.fetch("agency_a", url)[0] == 200
    assert pages.fetch("agency_b", url)[0] == 404
    assert pages.fetch("anonymous", url)[0] == 302


def test_product_list_by_establishment_for_the_administrator(pages: Pages) -> None:
    body = text(pages.get("admin", f"/products?establishment_id={pages.world.est_b.id}"))
    assert NAME_B in body
    assert NAME_A not in body
    # an agency asking for an establishment outside its units sees nothing of it
    assert NAME_B not in text(
        pages.get("agency_a", f"/products?establishment_id={pages.world.est_b.id}")
    )
