"""The label batch pages (/labels/batches…): each role and scope gets the right answer, no
page shows another establishment's batches or products, the order form's live preview, its
error paths (422 with the message next to the field, nothing ordered) and success (303, the
batch exists, a flash), the PDF's progress and download, and voiding with a reason."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from services.labels.domain import cards, printing
from services.labels.models import AuditEvent, LabelBatch
from tests.products.factories import LotFactory, ProductFactory

CSRF = "test-csrf-token"
ROLES = ("anonymous", "admin", "agency_a", "agency_b", "owner_a", "owner_a2")


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    cards.clear_memory()
    yield
    cards.clear_memory()


@dataclass
class Shop:
    world: Any
    product: Any
    lot: Any
    recalled: Any
    product_b: Any
    batch_a: LabelBatch
    batch_b: LabelBatch


_next_serial = [7_000_000]


def add_batch(lsession: Any, product: Any, name: str, *, number: str) -> LabelBatch:
    start = _next_serial[0]
    _next_serial[0] += 1_000
    batch = LabelBatch(
        id=uuid.uuid4(),
        number=number,
        establishment_id=product.establishment_id,
        unit_path=None,
        product_id=product.id,
        lot_id=None,
        quantity=40,
        serial_start=start,
        serial_end=start + 39,
        template={"preset": "40x30", "fields": ["product_name", "code"]},
        content={"product_name": name},
    )
    lsession.add(batch)
    lsession.commit()
    return batch


@pytest.fixture
def shop(lworld: Any, psession: Any, lsession: Any) -> Shop:
    product = ProductFactory(establishment_id=lworld.est_a.id, name="Chả mực Hạ Long")
    lot = LotFactory(product=product, code="CM-2612")
    recalled = LotFactory(product=product, code="CM-RECALL", status="recalled")
    product_b = ProductFactory(establishment_id=lworld.est_b.id, name="Miến dong Bình Liêu")
    psession.commit()
    batch_a = add_batch(lsession, product, "Chả mực Hạ Long", number="TEM-PG-A")
    batch_b = add_batch(lsession, product_b, "Miến dong Bình Liêu", number="TEM-PG-B")
    return Shop(lworld, product, lot, recalled, product_b, batch_a, batch_b)


def login(client: Any, world: Any, who: str) -> Any:
    client.delete_cookie("trace_access")
    if who != "anonymous":
        client.set_cookie("trace_access", world.tokens[who])
    with client.session_transaction() as session:
        session["_csrf"] = CSRF
    return client


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<div class="error" id="{name}-error">([^<]*)</div>', html)
    return found.group(1) if found else ""


# --- the list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees_a", "sees_b"),
    [
        ("admin", True, True),
        ("agency_a", True, False),
        ("agency_b", False, True),
        ("owner_a", True, False),
        ("owner_a2", False, False),
    ],
)
def test_the_list_shows_only_batches_in_scope(
    lclient: Any, shop: Shop, who: str, sees_a: bool, sees_b: bool
) -> None:
    response = login(lclient, shop.world, who).get("/batches")
    assert response.status_code == 200
    html = text(response)
    assert ("TEM-PG-A" in html) is sees_a
    assert ("Chả mực Hạ Long" in html) is sees_a
    assert ("TEM-PG-B" in html) is sees_b
    assert ("Miến dong Bình Liêu" in html) is sees_b
    if who.startswith("agency") and sees_a:
        assert shop.world.est_a.name in html  # agencies see whose batch it is
    if who == "owner_a":
        assert "batches/new?product_id=" in html  # order again


def test_anonymous_goes_to_the_login(lclient: Any, shop: Shop) -> None:
    for path in (
        "/batches",
        f"/batches/{shop.batch_a.id}",
        f"/batches/new?product_id={shop.product.id}",
        f"/batches/{shop.batch_a.id}/progress",
        f"/batches/{shop.batch_a.id}/pdf",
    ):
        response = login(lclient, shop.world, "anonymous").get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/accounts/login?next="), path


def test_the_list_filters_by_state_and_pages(lclient: Any, shop: Shop, lsession: Any) -> None:
    client = login(lclient, shop.world, "owner_a")
    assert "TEM-PG-A" not in text(client.get("/batches?state=void"))
    assert "TEM-PG-A" in text(client.get("/batches?state=active"))
    for n in range(21):
        add_batch(lsession, shop.product, "Chả mực Hạ Long", number=f"TEM-PG-X{n:02d}")
    html = text(client.get("/batches"))
    assert 'rel="next"' in html
    assert "page=2" in html
    assert text(client.get("/batches?page=2")).count("TEM-PG-") >= 2


# --- the detail -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin", 200), ("agency_a", 200), ("agency_b", 404), ("owner_a", 200), ("owner_a2", 404)],
)
def test_the_detail_by_role(lclient: Any, shop: Shop, who: str, status: int) -> None:
    response = login(lclient, shop.world, who).get(f"/batches/{shop.batch_a.id}")
    assert response.status_code == status
    html = text(response)
    if status == 404:
        assert "Chả mực Hạ Long" not in html
        assert "TEM-PG-A" not in html
    else:
        assert "TEM-PG-A" in html
        assert "Chả mực Hạ Long" in html
    progress = login(lclient, shop.world, who).get(f"/batches/{shop.batch_a.id}/progress")
    assert progress.status_code == status


def test_a_batch_being_rendered_shows_live_progress(lclient: Any, shop: Shop) -> None:
    client = login(lclient, shop.world, "owner_a")
    html = text(client.get(f"/batches/{shop.batch_a.id}"))
    # No job yet (queued): an htmx-polled progress bar, and a meta refresh without JavaScript.
    assert f'hx-get="/batches/{shop.batch_a.id}/progress"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    fragment = client.get(f"/batches/{shop.batch_a.id}/progress")
    assert fragment.status_code == 200
    assert 'hx-trigger="every 1s"' in text(fragment)
    assert "<html" not in text(fragment)
    # The PDF is not there yet: back to the page with a message, not a file.
    pdf = client.get(f"/batches/{shop.batch_a.id}/pdf")
    assert pdf.status_code == 303
    assert "Tệp PDF chưa sẵn sàng" in text(client.get(pdf.headers["Location"]))


def test_unknown_batches_are_404(lclient: Any, shop: Shop) -> None:
    client = login(lclient, shop.world, "admin")
    assert client.get(f"/batches/{uuid.uuid4()}").status_code == 404
    assert client.get("/batches/not-a-uuid").status_code == 404


# --- ordering: the form and its preview ---------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin", 200), ("agency_a", 200), ("agency_b", 404), ("owner_a", 200), ("owner_a2", 404)],
)
def test_the_order_form_by_role(lclient: Any, shop: Shop, who: str, status: int) -> None:
    path = f"/batches/new?product_id={shop.product.id}&lot_id={shop.lot.id}"
    response = login(lclient, shop.world, who).get(path)
    assert response.status_code == status
    html = text(response)
    if status == 404:
        assert "Chả mực Hạ Long" not in html
        assert "CM-2612" not in html
        return
    assert "Chả mực Hạ Long" in html
    assert "CM-2612" in html
    # The live preview: htmx on every change, and its first rendering already in the page.
    assert 'hx-get="/batches/preview"' in html
    assert 'hx-trigger="change' in html
    assert 'class="preview-label"' in html
    assert "<svg" in html
    assert 'value="preview"' in html  # the button that previews without JavaScript


def test_the_order_page_without_a_product_explains_how_to_choose(lclient: Any, shop: Shop) -> None:
    response = login(lclient, shop.world, "owner_a").get("/batches/new")
    assert response.status_code == 200
    html = text(response)
    assert "/products/products" in html
    assert f"product_id={shop.product.id}" in html  # ordered before: order again
    assert "Miến dong" not in html
    assert login(lclient, shop.world, "owner_a").get("/batches/new?product_id=x").status_code == 404


def test_the_preview_fragment_follows_the_form(lclient: Any, shop: Shop) -> None:
    client = login(lclient, shop.world, "owner_a")
    base = f"/batches/preview?product_id={shop.product.id}&lot_id={shop.lot.id}&quantity=100"
    response = client.get(f"{base}&preset=50x30&fields=product_name&fields=lot&fields=code")
    assert response.status_code == 200
    html = text(response)
    assert "<html" not in html
    assert 'data-preset="50x30"' in html
    assert "Chả mực Hạ Long" in html
    assert "Lô: CM-2612" in html
    assert "4 cột × 9 hàng = 36 tem/tờ" in html
    assert "Cần 3 tờ" in html
    # Fewer fields: the lot line is gone.
    html = text(client.get(f"{base}&preset=40x30&fields=product_name"))
    assert "Lô: CM-2612" not in html
    assert "5 cột × 8 hàng = 40 tem/tờ" in html
    # A roll prints one label per page.
    assert "Tem cuộn" in text(client.get(f"{base}&preset=roll-40x30&fields=code"))
    # A wrong value: the message instead of the label.
    bad = text(client.get(f"{base}&preset=40x30&margin_mm=99"))
    assert 'class="alert"' in bad
    assert "preview-label" not in bad
    # Another establishment's product: nothing.
    other = login(lclient, shop.world, "owner_a2").get(f"{base}&preset=40x30")
    assert other.status_code == 404
    assert "Chả mực" not in text(other)


def test_the_preview_button_works_without_javascript(
    lclient: Any, shop: Shop, lsession: Any
) -> None:
    client = login(lclient, shop.world, "owner_a")
    before = lsession.query(LabelBatch).count()
    response = client.post(
        "/batches/new",
        data={
            "_csrf": CSRF,
            "product_id": str(shop.product.id),
            "quantity": "80",
            "preset": "30x20",
            "fields": ["product_name", "code"],
            "action": "preview",
        },
    )
    assert response.status_code == 200
    html = text(response)
    assert 'data-preset="30x20"' in html
    assert "78 tem/tờ" in html
    assert 'value="80"' in html  # nothing lost
    assert lsession.query(LabelBatch).count() == before


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"quantity": "0"}, "quantity", "100000"),
        ({"quantity": "nhiều"}, "quantity", ""),
        ({"quantity": "100001"}, "quantity", "100000"),
        ({"preset": "10x10"}, "preset", ""),
        ({"margin_mm": "-1"}, "margin_mm", ""),
        ({"gap_mm": "abc"}, "gap_mm", ""),
    ],
)
def test_order_errors_are_shown_next_to_the_field(
    lclient: Any, shop: Shop, lsession: Any, form: dict[str, str], field: str, message: str
) -> None:
    client = login(lclient, shop.world, "owner_a")
    before = lsession.query(LabelBatch).count()
    data = {
        "_csrf": CSRF,
        "product_id": str(shop.product.id),
        "quantity": "10",
        "preset": "40x30",
        "fields": ["product_name", "code"],
        "action": "order",
        **form,
    }
    response = client.post("/batches/new", data=data)
    assert response.status_code == 422
    html = text(response)
    assert field_error(html, field), html
    assert message in field_error(html, field).replace(".", "")
    assert 'class="alert"' in html
    assert "Chả mực Hạ Long" in html  # the form again, values kept
    assert f'value="{data.get("quantity")}"' in html or field == "quantity"
    assert lsession.query(LabelBatch).count() == before


def test_no_labels_for_a_recalled_lot(lclient: Any, shop: Shop, lsession: Any) -> None:
    client = login(lclient, shop.world, "owner_a")
    before = lsession.query(LabelBatch).count()
    response = client.post(
        "/batches/new",
        data={
            "_csrf": CSRF,
            "product_id": str(shop.product.id),
            "lot_id": str(shop.recalled.id),
            "quantity": "10",
            "preset": "40x30",
            "fields": ["code"],
            "action": "order",
        },
    )
    assert response.status_code == 422
    assert "thu hồi" in text(response)
    assert lsession.query(LabelBatch).count() == before


def test_an_order_without_the_csrf_token_is_refused(
    lclient: Any, shop: Shop, lsession: Any
) -> None:
    client = login(lclient, shop.world, "owner_a")
    before = lsession.query(LabelBatch).count()
    response = client.post(
        "/batches/new",
        data={"product_id": str(shop.product.id), "quantity": "10", "action": "order"},
    )
    assert response.status_code == 400
    assert lsession.query(LabelBatch).count() == before


def test_ordering_renders_the_pdf_and_offers_the_download(
    lclient: Any, shop: Shop, lsession: Any
) -> None:
    client = login(lclient, shop.world, "owner_a")
    response = client.post(
        "/batches/new",
        data={
            "_csrf": CSRF,
            "product_id": str(shop.product.id),
            "lot_id": str(shop.lot.id),
            "quantity": "45",
            "preset": "40x30",
            "fields": ["product_name", "lot", "expiry_date", "code"],
            "action": "order",
        },
    )
    assert response.status_code == 303, text(response)
    location = response.headers["Location"]
    batch_id = uuid.UUID(location.rstrip("/").split("/")[-1])
    lsession.expire_all()
    batch = lsession.get(LabelBatch, batch_id)
    assert batch is not None
    assert batch.quantity == 45
    assert batch.lot_code == "CM-2612"
    assert batch.establishment_id == shop.world.est_a.id
    assert batch.template["fields"] == ["product_name", "lot", "expiry_date", "code"]
    page = client.get(location)
    html = text(page)
    assert "Đã đặt 45 tem" in html  # the flash
    assert batch.number in html
    # The eager workers rendered it at the commit: the download is offered.
    assert f"/batches/{batch_id}/pdf" in html
    assert "hx-trigger" not in html.split('id="progress"')[1].split("</div>\n<dl")[0]
    pdf = client.get(f"/batches/{batch_id}/pdf")
    assert pdf.status_code == 200
    assert pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    pdf.close()  # the file handle send_file opened
    # Another establishment gets no file.
    assert login(lclient, shop.world, "owner_a2").get(f"/batches/{batch_id}/pdf").status_code == 404


def test_an_agency_orders_for_an_establishment_of_its_unit(
    lclient: Any, shop: Shop, lsession: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(printing, "send_chunks", lambda chunks: None)  # stays "queued"
    data = {
        "_csrf": CSRF,
        "product_id": str(shop.product.id),
        "quantity": "12",
        "preset": "50x30",
        "fields": ["product_name", "code"],
        "action": "order",
    }
    refused = login(lclient, shop.world, "agency_b").post("/batches/new", data=data)
    assert refused.status_code == 404
    response = login(lclient, shop.world, "agency_a").post("/batches/new", data=data)
    assert response.status_code == 303
    batch_id = uuid.UUID(response.headers["Location"].rstrip("/").split("/")[-1])
    lsession.expire_all()
    batch = lsession.get(LabelBatch, batch_id)
    assert batch is not None
    assert batch.establishment_id == shop.world.est_a.id
    html = text(lclient.get(response.headers["Location"]))
    assert "hx-get" in html  # still rendering: the live progress


# --- voiding ---------------------------------------------------------------------------------


def test_voiding_needs_a_reason(lclient: Any, shop: Shop, lsession: Any) -> None:
    client = login(lclient, shop.world, "owner_a")
    response = client.post(f"/batches/{shop.batch_a.id}/void", data={"_csrf": CSRF, "reason": " "})
    assert response.status_code == 422
    assert field_error(text(response), "reason")
    lsession.expire_all()
    assert lsession.get(LabelBatch, shop.batch_a.id).voided_at is None


@pytest.mark.parametrize(
    ("who", "status"),
    [("agency_b", 404), ("owner_a2", 404), ("anonymous", 302)],
)
def test_only_those_in_scope_void(
    lclient: Any, shop: Shop, lsession: Any, who: str, status: int
) -> None:
    client = login(lclient, shop.world, who)
    response = client.post(
        f"/batches/{shop.batch_a.id}/void", data={"_csrf": CSRF, "reason": "Mất tem"}
    )
    assert response.status_code == status
    lsession.expire_all()
    assert lsession.get(LabelBatch, shop.batch_a.id).voided_at is None


@pytest.mark.parametrize("who", ["owner_a", "agency_a", "admin"])
def test_voiding_a_batch(lclient: Any, shop: Shop, lsession: Any, who: str) -> None:
    client = login(lclient, shop.world, who)
    page = text(client.get(f"/batches/{shop.batch_a.id}"))
    assert f'action="/batches/{shop.batch_a.id}/void"' in page
    response = client.post(
        f"/batches/{shop.batch_a.id}/void", data={"_csrf": CSRF, "reason": "Cuộn tem bị mất"}
    )
    assert response.status_code == 303
    lsession.expire_all()
    batch = lsession.get(LabelBatch, shop.batch_a.id)
    assert batch.voided_at is not None
    assert batch.voided_reason == "Cuộn tem bị mất"
    assert lsession.query(AuditEvent).filter_by(action="batch.void").count() == 1
    html = text(client.get(response.headers["Location"]))
    assert "Đã huỷ đợt tem TEM-PG-A" in html
    assert "Cuộn tem bị mất" in html
    assert f'action="/batches/{shop.batch_a.id}/void"' not in html


def test_the_pages_in_english(lclient: Any, shop: Shop) -> None:
    client = login(lclient, shop.world, "owner_a")
    html = text(client.get("/batches?lang=en"))
    assert "Label print batches" in html
    html = text(client.get(f"/batches/new?product_id={shop.product.id}&lang=en"))
    assert "Order QR labels" in html
    assert "Preview" in html
    assert "Xem trước" not in html
