"""Products, certifications and their files through the HTTP API."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from services.products.domain.products import gtin_check_digit, normalise_gtin
from services.products.models import AuditEvent, Product
from shared.errors import InvalidInput
from tests.products.conftest import PWorld

pytestmark = pytest.mark.smoke

TEA = {
    "name": "Chè xanh Đường Hoa",
    "code": "CHE-01",
    "gtin": "8930000000019",
    "category": "Chè",
    "origin": "Đầm Hà, Quảng Ninh",
    "packaging": "Túi 200 g",
    "shelf_life_days": 365,
    "preservation": "processed",
    "standards": ["TCVN 12850:2019", "VietGAP"],
    "ocop_stars": 4,
    "ocop_decision_no": "123/QĐ-UBND",
    "ocop_decision_date": "2024-05-01",
    "ocop_expires_on": "2029-05-01",
    "is_key_product": True,
    "is_packaged_processed": True,
    "parties": [{"role": "producer", "name": "Tổ hợp tác chè Quảng Tân"}],
}


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 0)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def create(pclient: Any, world: PWorld, who: str = "owner_a", **changes: Any) -> Any:
    return pclient.post("/api/v1/products/", json={**TEA, **changes}, headers=world.headers(who))


def test_gtin_check_digit() -> None:
    assert gtin_check_digit("893000000001") == 9
    assert normalise_gtin("8930000000019") == "08930000000019"
    assert normalise_gtin("96385074") == "00000096385074"
    for bad in ("8930000000018", "12345", "89300000000a9"):
        with pytest.raises(InvalidInput):
            normalise_gtin(bad)


def test_establishment_creates_its_product(pclient: Any, pworld: PWorld, psession: Any) -> None:
    response = create(pclient, pworld)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["establishment_id"] == str(pworld.est_a.id)
    assert body["establishment_name"] == "HTX Chè Đường Hoa"
    assert body["gtin"] == "08930000000019"
    assert body["ocop_status"] == "valid"
    assert body["parties"] == [
        {
            "role": "producer",
            "name": "Tổ hợp tác chè Quảng Tân",
            "address": None,
            "establishment_id": None,
        }
    ]
    assert response.headers["ETag"] == '"1"'
    audit = psession.query(AuditEvent).filter_by(action="product.create").one()
    assert audit.actor_role == "establishment"


def test_establishment_cannot_create_for_another(pclient: Any, pworld: PWorld) -> None:
    response = create(pclient, pworld, establishment_id=str(pworld.est_b.id))
    assert response.status_code == 403
    assert response.json["code"] == "not_own_establishment"


def test_agency_creates_for_establishment_in_scope_only(pclient: Any, pworld: PWorld) -> None:
    missing = create(pclient, pworld, "agency_a")
    assert missing.status_code == 422
    assert "establishment_id" in missing.json["errors"]
    ok = create(pclient, pworld, "agency_a", establishment_id=str(pworld.est_a.id))
    assert ok.status_code == 201
    other = create(pclient, pworld, "agency_a", establishment_id=str(pworld.est_b.id), code="X")
    assert other.status_code == 422
    assert other.json["code"] == "establishment_not_in_scope"


def test_duplicate_code_and_gtin_conflict(pclient: Any, pworld: PWorld) -> None:
    assert create(pclient, pworld).status_code == 201
    again = create(pclient, pworld, gtin=None)
    assert again.status_code == 409
    assert again.json["code"] == "duplicate_product_code"
    other = create(pclient, pworld, "owner_b", code="B-1")
    assert other.status_code == 409
    assert other.json["code"] == "duplicate_gtin"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"gtin": "8930000000018"}, "gtin"),
        ({"name": ""}, "name"),
        ({"name": "x" * 256}, "name"),
        ({"name": "a\x00b"}, "name"),
        ({"shelf_life_days": "soon"}, "shelf_life_days"),
        ({"ocop_stars": 6}, "ocop_stars"),
        ({"preservation": "dried"}, "preservation"),
        ({"price": -1}, "price"),
        ({"parties": [{"role": "packer"}]}, "parties.0.name"),
        ({"parties": [{"role": "thief", "name": "x"}]}, "parties"),
        ({"ocop_expires_on": "2020-01-01"}, "ocop_expires_on"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_product_input(
    pclient: Any, pworld: PWorld, psession: Any, changes: dict[str, Any], field: str
) -> None:
    response = create(pclient, pworld, **changes)
    assert response.status_code == 422, response.json
    assert any(name.startswith(field) for name in response.json["errors"]), response.json
    message = next(iter(response.json["errors"].values()))[0]
    assert message["vi"]
    assert message["en"]
    assert psession.query(Product).count() == 0


def test_edit_requires_current_version(pclient: Any, pworld: PWorld) -> None:
    product = create(pclient, pworld).json
    url = f"/api/v1/products/{product['id']}"
    headers = pworld.headers("owner_a")
    assert pclient.patch(url, json={"name": "Chè"}, headers=headers).status_code == 412
    first = pclient.patch(url, json={"name": "Chè búp"}, headers={**headers, "If-Match": '"1"'})
    assert first.status_code == 200
    assert first.json["name"] == "Chè búp"
    stale = pclient.patch(url, json={"name": "Chè lá"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert pclient.get(url, headers=headers).json["name"] == "Chè búp"


def test_scope_of_reading(pclient: Any, pworld: PWorld) -> None:
    product = create(pclient, pworld).json
    url = f"/api/v1/products/{product['id']}"
    for who, status in [
        ("owner_a", 200),
        ("agency_a", 200),
        ("admin", 200),
        ("owner_a2", 404),
        ("owner_b", 404),
        ("agency_b", 404),
        ("anonymous", 401),
    ]:
        assert pclient.get(url, headers=pworld.headers(who)).status_code == status, who
    listed = pclient.get("/api/v1/products/", headers=pworld.headers("owner_b")).json
    assert listed == []
    found = pclient.get("/api/v1/products/?q=che xanh", headers=pworld.headers("agency_a")).json
    assert [p["id"] for p in found] == [product["id"]]


def test_delete_only_unused_with_reason(pclient: Any, pworld: PWorld) -> None:
    product = create(pclient, pworld).json
    url = f"/api/v1/products/{product['id']}"
    headers = pworld.headers("owner_a")
    assert pclient.delete(url, headers=headers).status_code == 422
    lot = pclient.post(
        "/api/v1/lots/", json={"product_id": product["id"], "code": "L1"}, headers=headers
    )
    assert lot.status_code == 201
    refused = pclient.delete(url + "?reason=nhầm", headers=headers)
    assert refused.status_code == 409
    assert refused.json["code"] == "product_has_lots"


def test_image_upload_checked_by_content(pclient: Any, pworld: PWorld) -> None:
    product = create(pclient, pworld).json
    url = f"/api/v1/products/{product['id']}/image"
    headers = pworld.headers("owner_a")
    fake = pclient.put(
        url,
        data={"file": (io.BytesIO(b"<script>alert(1)</script>"), "photo.png")},
        headers=headers,
    )
    assert fake.status_code == 422
    assert fake.json["code"] == "bad_file"
    broken = pclient.put(
        url, data={"file": (io.BytesIO(png_bytes()[:30]), "photo.png")}, headers=headers
    )
    assert broken.status_code == 422
    ok = pclient.put(url, data={"file": (io.BytesIO(png_bytes()), "../../x.png")}, headers=headers)
    assert ok.status_code == 200, ok.json
    image_url = ok.json["image"]["url"]
    assert ".." not in ok.json["image"]["key"]
    public = pclient.get(image_url)
    assert public.status_code == 200
    assert public.mimetype == "image/png"
    assert public.data == png_bytes()
    public.close()


def test_upload_size_limit(pclient: Any, pworld: PWorld, products_app: Any) -> None:
    product = create(pclient, pworld).json
    limit = products_app.config["SETTINGS"].upload_max_mb * 1024 * 1024
    # The body is built here, in memory: the test client would spool it to a temporary file.
    boundary = "----trace-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.png"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + png_bytes()
        + b"\0" * limit
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = pclient.put(
        f"/api/v1/products/{product['id']}/image",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=pworld.headers("owner_a"),
    )
    assert response.status_code == 413
    assert response.json["code"] == "file_too_large"


def test_certification_with_document_and_state(pclient: Any, pworld: PWorld) -> None:
    headers = pworld.headers("owner_a")
    response = pclient.post(
        "/api/v1/certifications/",
        json={
            "kind": "vietgap",
            "number": "VG-2024-001",
            "issuer": "Trung tâm Chứng nhận VietGAP",
            "valid_from": "2024-01-01",
            "valid_to": "2024-12-31",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.json
    cert = response.json
    assert cert["state"] == "expired"
    url = f"/api/v1/certifications/{cert['id']}/document"
    bad = pclient.put(url, data={"file": (io.BytesIO(b"MZ\x90\0"), "scan.pdf")}, headers=headers)
    assert bad.status_code == 422
    ok = pclient.put(url, data={"file": (io.BytesIO(PDF), "Giấy chứng nhận.pdf")}, headers=headers)
    assert ok.status_code == 200, ok.json
    assert ok.json["document"]["name"] == "Giấy chứng nhận.pdf"
    download = pclient.get(url, headers=headers)
    assert download.status_code == 200
    assert download.data == PDF
    download.close()
    assert pclient.get(url, headers=pworld.headers("owner_b")).status_code == 404
    expired = pclient.get("/api/v1/certifications/?state=expired", headers=headers).json
    assert [c["id"] for c in expired] == [cert["id"]]


def test_certification_validity_order(pclient: Any, pworld: PWorld) -> None:
    response = pclient.post(
        "/api/v1/certifications/",
        json={
            "kind": "other",
            "number": "1",
            "issuer": "X",
            "valid_from": "2025-01-01",
            "valid_to": "2024-01-01",
        },
        headers=pworld.headers("owner_a"),
    )
    assert response.status_code == 422
    assert set(response.json["errors"]) & {"kind_other", "valid_to"}


def test_fields_a_role_may_not_set_are_refused(pclient: Any, pworld: PWorld) -> None:
    """[RELIABILITY 16] The owning establishment, versions and computed states are not inputs."""
    product = create(pclient, pworld).json
    headers = {**pworld.headers("owner_a"), "If-Match": '"1"'}
    url = f"/api/v1/products/{product['id']}"
    for field, value in [
        ("establishment_id", str(pworld.est_b.id)),
        ("version", 7),
        ("ocop_status", "valid"),
        ("id", product["id"]),
    ]:
        response = pclient.patch(url, json={field: value}, headers=headers)
        assert response.status_code == 422, field
        assert field in response.json["errors"]
    lot = pclient.post(
        "/api/v1/lots/",
        json={"product_id": product["id"], "code": "L1", "status": "recalled"},
        headers=pworld.headers("owner_a"),
    )
    assert lot.status_code == 422
    assert "status" in lot.json["errors"]
