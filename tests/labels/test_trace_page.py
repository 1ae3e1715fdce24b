"""The public trace page: content for normal, recalled, suspended, expired, unknown, forged and
void codes; Circular 02/2024's minimum data; warnings first and in red; nothing private; every
user-provided field escaped; a clear page (never a stack trace) for bad codes and outages;
view and report budgets; the report form with and without CSRF [RELIABILITY 14, 21, 22]."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.labels.domain import cards, codes
from services.labels.models import LabelBatch, ProblemReport, PublicCard, QrCode
from services.products.models import Certification, Recall, RecallLot
from shared.clock import local_today
from tests.products.factories import LotFactory, ProductFactory, StageFactory

pytestmark = pytest.mark.smoke

XSS = '<script>alert("x")</script>'


# --- shared by the labels public-side tests -------------------------------------------------


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    """The in-process caches outlive a test's rolled-back data: start and end empty."""
    cards.clear_memory()
    yield
    cards.clear_memory()


def signing_key(labels_app: Any) -> str:
    return str(labels_app.config["SETTINGS"].serial_signing_key)


_next_serial = [1_000]


def add_batch(
    lsession: Any,
    product: Any,
    lot: Any = None,
    *,
    quantity: int = 50,
    voided: bool = False,
    gtin: str | None = None,
) -> LabelBatch:
    start = _next_serial[0]
    _next_serial[0] += quantity + 7
    batch = LabelBatch(
        id=uuid.uuid4(),
        number=f"TEM-T-{start}",
        establishment_id=product.establishment_id,
        product_id=product.id,
        lot_id=lot.id if lot is not None else None,
        gtin=gtin if gtin is not None else product.gtin,
        lot_code=lot.code if lot is not None else None,
        quantity=quantity,
        serial_start=start,
        serial_end=start + quantity - 1,
        template={},
        content={},
        voided_at=datetime.now(UTC) if voided else None,
        voided_reason="Mất tem" if voided else None,
    )
    lsession.add(batch)
    lsession.commit()
    return batch


def add_code(
    lsession: Any, product: Any, lot: Any = None, *, status: str = "active", code: str | None = None
) -> QrCode:
    row = QrCode(
        id=uuid.uuid4(),
        code=code or codes.new_short_code(),
        level="lot" if lot is not None else "product",
        establishment_id=product.establishment_id,
        product_id=product.id,
        lot_id=lot.id if lot is not None else None,
        gtin=product.gtin,
        lot_code=lot.code if lot is not None else None,
        status=status,
    )
    lsession.add(row)
    lsession.commit()
    return row


def item_path(labels_app: Any, batch: LabelBatch, offset: int = 0) -> str:
    return f"/q/{codes.serial_code(signing_key(labels_app), batch.serial_start + offset)}"


@dataclass
class Goods:
    product: Any
    lot: Any
    batch: LabelBatch
    world: Any


@pytest.fixture
def goods(lworld: Any, psession: Any, lsession: Any) -> Goods:
    return make_goods(lworld, psession, lsession)


def make_goods(lworld: Any, psession: Any, lsession: Any) -> Goods:
    """A tea of est_a with a GTIN, a lot with two stages, a VietGAP certificate, and a batch
    of 50 labels for the lot."""
    product = ProductFactory(
        establishment_id=lworld.est_a.id,
        name="Chè xanh Đường Hoa",
        description="Chè búp tươi sao khô",
        origin="Đầm Hà, Quảng Ninh",
        packaging="Túi 200 g",
        shelf_life_days=365,
        gtin="08936081120011",
        standards=["TCVN 12850:2019", "VietGAP"],
    )
    lot = LotFactory(product=product, code="CX-2612")
    StageFactory(
        lot_id=lot.id,
        establishment_id=lworld.est_a.id,
        kind="production",
        place="Đồi chè thôn 2",
        place_code="QN-DH-02",
        occurred_at=datetime(2026, 11, 20, 1, 30, tzinfo=UTC),
        quantity=4321,
        unit="kg",
    )
    StageFactory(
        lot_id=lot.id,
        establishment_id=lworld.est_a.id,
        kind="packing",
        place="Xưởng đóng gói",
        occurred_at=datetime(2026, 11, 25, 3, 0, tzinfo=UTC),
    )
    psession.add(
        Certification(
            id=uuid.uuid4(),
            establishment_id=lworld.est_a.id,
            kind="vietgap",
            number="VG-0042",
            issuer="Trung tâm chứng nhận",
            valid_from=local_today() - timedelta(days=100),
            valid_to=local_today() + timedelta(days=600),
        )
    )
    psession.commit()
    batch = add_batch(lsession, product, lot)
    return Goods(product, lot, batch, lworld)


def recall(psession: Any, lot: Any, *, reason: str = "Nhiễm vi sinh vượt ngưỡng") -> Recall:
    now = datetime.now(UTC)
    row = Recall(
        id=uuid.uuid4(),
        number=f"TH-{uuid.uuid4().hex[:8]}",
        lot_id=lot.id,
        establishment_id=lot.establishment_id,
        kind="compulsory",
        reason=reason,
        found_at=now,
        opened_at=now,
        decision_due_at=now + timedelta(hours=24),
        status="requested",
    )
    psession.add(row)
    psession.flush()
    psession.add(
        RecallLot(
            recall_id=row.id,
            lot_id=lot.id,
            establishment_id=lot.establishment_id,
            depth=0,
            status_before=lot.status,
        )
    )
    lot.status = "recalled"
    psession.commit()
    return row


def warnings(html: str) -> list[str]:
    return re.findall(r'data-warning="([a-z_]+)"', html)


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


# --- the normal page --------------------------------------------------------------------------


def test_normal_item_page_shows_the_minimum_data(
    lclient: Any, labels_app: Any, goods: Goods
) -> None:
    response = lclient.get(item_path(labels_app, goods.batch, 3))
    assert response.status_code == 200
    html = text(response)
    assert response.mimetype == "text/html"
    assert warnings(html) == []
    assert 'lang="vi"' in html
    # Circular 02/2024: name; image (when there is one); producer name and address; stages
    # with product code, place code and time; the traceability code; the serial; shelf life;
    # standards applied.
    for expected in (
        "Chè xanh Đường Hoa",
        "Chè búp tươi sao khô",
        goods.world.est_a.name,
        goods.world.est_a.address,
        goods.world.est_a.phone,
        goods.world.est_a.representative,
        "Đồi chè thôn 2",
        "QN-DH-02",
        "20/11/2026 08:30",  # 01:30 UTC, shown in Asia/Ho_Chi_Minh
        "08936081120011",
        codes.serial_code(signing_key(labels_app), goods.batch.serial_start + 3),
        "365 ngày",
        "TCVN 12850:2019",
        "VietGAP",
        "VG-0042",
        "Còn hiệu lực",
        "CX-2612",
        "Túi 200 g",
        "Đầm Hà, Quảng Ninh",
        "Sản xuất",
        "Đóng gói",
        "Mã truy xuất hợp lệ",
    ):
        assert expected in html, expected
    assert response.headers["Cache-Control"] == "private, no-cache"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_english_switch(lclient: Any, labels_app: Any, goods: Goods) -> None:
    response = lclient.get(item_path(labels_app, goods.batch) + "?lang=en")
    html = text(response)
    assert 'lang="en"' in html
    assert "Stages of the chain" in html
    assert "365 days" in html
    assert "A valid traceability code" in html
    assert "lang=en" in response.headers.get("Set-Cookie", "")


def test_product_and_lot_codes_and_digital_links(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    product_code = add_code(lsession, goods.product)
    lot_code = add_code(lsession, goods.product, goods.lot)
    page = text(lclient.get(f"/q/{product_code.code.lower()}"))
    assert "Chè xanh Đường Hoa" in page
    assert "CX-2612" not in page  # a product code has no lot
    page = text(lclient.get(f"/q/{lot_code.code}"))
    assert "CX-2612" in page
    assert "Đồi chè thôn 2" in page
    for path in (
        "/01/08936081120011",
        "/01/08936081120011/10/CX-2612",
        "/01/8936081120011/10/CX-2612",  # GTIN-13 is padded
        "/01/08936081120011/10/CX-2612/21/"
        + codes.serial_code(signing_key(labels_app), goods.batch.serial_start),
    ):
        response = lclient.get(path)
        assert response.status_code == 200, path
        assert "Chè xanh Đường Hoa" in text(response)


def test_a_gs1_lot_without_a_code_row_is_found_through_the_products_service(
    lclient: Any, labels_app: Any, goods: Goods, psession: Any
) -> None:
    other = LotFactory(product=goods.product, code="CX-2701")
    psession.commit()
    response = lclient.get("/01/08936081120011/10/CX-2701")
    assert response.status_code == 200
    assert "CX-2701" in text(response)
    missing = lclient.get("/01/08936081120011/10/NO-SUCH-LOT")
    assert missing.status_code == 404
    assert warnings(text(missing)) == ["code_unknown"]
    assert other.id


# --- the warnings -----------------------------------------------------------------------------


def test_recalled_lot_shows_the_recall_first(
    lclient: Any, labels_app: Any, goods: Goods, psession: Any
) -> None:
    made = recall(psession, goods.lot)
    response = lclient.get(item_path(labels_app, goods.batch))
    html = text(response)
    assert response.status_code == 200
    assert warnings(html)[0] == "recalled"
    assert "THU HỒI" in html
    assert made.number in html
    assert "Nhiễm vi sinh vượt ngưỡng" in html
    assert "Mã truy xuất hợp lệ" not in html
    assert html.index('data-warning="recalled"') < html.index("<h1>")
    body = lclient.get("/api/v1/resolve?path=" + item_path(labels_app, goods.batch)).json
    assert body["outcome"] == "recalled"
    assert body["recall"]["number"] == made.number
    assert body["verified"] is False


def test_suspended_account_and_expired_certificate(
    lclient: Any, labels_app: Any, goods: Goods, psession: Any
) -> None:
    goods.world.est_a.account_status = "suspended"
    goods.world.est_a.certificate_expires_on = local_today() - timedelta(days=1)
    psession.commit()
    html = text(lclient.get(item_path(labels_app, goods.batch)))
    assert warnings(html) == ["account_suspended", "certificate_expired"]
    assert "tạm ngừng" in html
    assert "Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đã hết hạn" in html
    assert "Đã hết hạn" in html


def test_an_old_card_still_tells_an_expired_certificate(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    """Validity is computed with today's date, so a card cached before the expiry (or kept
    while the products service is down) still shows it expired."""
    path = item_path(labels_app, goods.batch)
    lclient.get(path)
    stored = lsession.get(PublicCard, cards.lot_key(goods.lot.id))
    card = dict(stored.card)
    card["product"] = {
        **card["product"],
        "establishment": {
            **card["product"]["establishment"],
            "certificate_expires_on": (local_today() - timedelta(days=3)).isoformat(),
            "certificate_state": "valid",
        },
    }
    stored.card = card
    lsession.commit()
    cards.clear_memory()
    assert "certificate_expired" in warnings(text(lclient.get(path)))


@pytest.mark.parametrize(
    "path",
    [
        "/q/ABCDEFGHJK",  # shaped like a short code, never issued
        "/q/hello",
        "/q/",
        "/q/%3Cscript%3E",
        "/q/" + "A" * 300,
        "/01/12345678901234",  # bad check digit
        "/01/08936081120028",  # a valid GTIN we never issued for
        "/01/",
        "/01/08936081120011/99/x",
    ],
)
def test_unknown_codes_get_a_clear_page(lclient: Any, goods: Goods, path: str) -> None:
    response = lclient.get(path)
    assert response.status_code == 404
    html = text(response)
    assert response.mimetype == "text/html"
    assert "Traceback" not in html
    assert warnings(html) == ["code_unknown"]
    assert "Không tìm thấy thông tin truy xuất" in html
    assert "<script>" not in html.split("<body>")[1].split("<script>\n(function")[0]


def test_a_genuine_serial_never_issued_is_unknown(
    lclient: Any, labels_app: Any, goods: Goods
) -> None:
    path = f"/q/{codes.serial_code(signing_key(labels_app), goods.batch.serial_end + 3)}"
    response = lclient.get(path)
    assert response.status_code == 404
    assert warnings(text(response)) == ["code_unknown"]


def test_forged_codes_are_recognised(lclient: Any, labels_app: Any, goods: Goods) -> None:
    genuine = codes.serial_code(signing_key(labels_app), goods.batch.serial_start)
    forged = genuine[:-4] + ("0000" if not genuine.endswith("0000") else "1111")
    for path in (f"/q/{forged}", f"/01/08936081120011/10/CX-2612/21/{forged}"):
        response = lclient.get(path)
        assert response.status_code == 404
        html = text(response)
        assert warnings(html) == ["code_forged"]
        assert "Chè xanh Đường Hoa" not in html  # a fake gets no borrowed credibility
    # A genuine serial printed under another GTIN or lot is a copied label.
    for path in (
        f"/01/08936081120028/21/{genuine}",
        f"/01/08936081120011/10/OTHER/21/{genuine}",
    ):
        assert warnings(text(lclient.get(path))) == ["code_forged"], path


def test_void_batch_and_void_code(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    voided = add_batch(lsession, goods.product, goods.lot, voided=True)
    response = lclient.get(item_path(labels_app, voided, 1))
    assert response.status_code == 200
    html = text(response)
    assert warnings(html) == ["code_void"]
    assert "đã bị huỷ" in html
    assert "Mã truy xuất hợp lệ" not in html
    assert "Mất tem" not in html  # the establishment's own note is not public
    code = add_code(lsession, goods.product, status="void")
    assert warnings(text(lclient.get(f"/q/{code.code}"))) == ["code_void"]


# --- privacy and escaping -------------------------------------------------------------------


def test_no_private_field_leaks(lclient: Any, labels_app: Any, goods: Goods, psession: Any) -> None:
    path = item_path(labels_app, goods.batch)
    html = text(lclient.get(path))
    body = lclient.get("/api/v1/resolve?path=" + path).get_data(as_text=True)
    est = goods.world.est_a
    for secret in (
        est.business_registration_no,
        str(est.id),
        str(est.unit_id),
        est.unit_path,
        "4321",  # the stage's quantity
        "recorded_by",
        "account_id",
        "created_by",
        "voided_by",
        "unit_path",
        "Mất tem",
        str(goods.batch.id),
    ):
        assert secret not in html, secret
        assert secret not in body, secret


def test_every_user_provided_field_is_escaped(
    lclient: Any, labels_app: Any, lworld: Any, psession: Any, lsession: Any
) -> None:
    lworld.est_a.name = XSS
    lworld.est_a.address = XSS
    lworld.est_a.representative = XSS
    product = ProductFactory(
        establishment_id=lworld.est_a.id,
        name=XSS,
        description=XSS,
        origin=XSS,
        packaging=XSS,
        capacity=XSS,
        standards=[XSS],
    )
    lot = LotFactory(product=product, code="L<b>1</b>", unit="<i>")
    StageFactory(
        lot_id=lot.id,
        establishment_id=lworld.est_a.id,
        place=XSS,
        place_code=XSS,
        actor=XSS,
        description=XSS,
    )
    psession.commit()
    recall(psession, lot, reason=XSS)
    batch = add_batch(lsession, product, lot)
    html = text(lclient.get(item_path(labels_app, batch)))
    assert XSS not in html
    assert "<b>1</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;") >= 10
    # The only script on the page is ours.
    assert html.count("<script>") == 1
    unknown = text(lclient.get("/q/%3Cscript%3Ealert(1)%3C%2Fscript%3E"))
    assert "<script>alert(1)" not in unknown


# --- outages ----------------------------------------------------------------------------------


def test_products_service_down_serves_the_stored_copy_or_a_clear_503(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = item_path(labels_app, goods.batch)
    assert lclient.get(path).status_code == 200  # the card is stored
    stored = lsession.get(PublicCard, cards.lot_key(goods.lot.id))
    stored.fetched_at = datetime(2020, 1, 1, tzinfo=UTC)  # and now stale
    lsession.commit()
    cards.clear_memory()

    def down(*_: Any, **__: Any) -> Any:
        from shared.http import ServiceCallFailed

        raise ServiceCallFailed()

    monkeypatch.setattr(cards.ServiceClient, "get", down)
    response = lclient.get(path)
    assert response.status_code == 200
    html = text(response)
    assert "Chè xanh Đường Hoa" in html
    assert warnings(html) == ["stale"]
    assert "01/01/2020" in html
    # No stored copy at all: a clear 503 page.
    other = add_batch(lsession, goods.product)
    response = lclient.get(item_path(labels_app, other))
    assert response.status_code == 503
    html = text(response)
    assert "card_unavailable" in html
    assert "Traceback" not in html
    api = lclient.get("/api/v1/resolve?path=" + item_path(labels_app, other))
    assert api.status_code == 503
    assert api.json["code"] == "card_unavailable"


def test_refresh_task_shows_a_recall_at_once(
    lclient: Any, labels_app: Any, goods: Goods, psession: Any
) -> None:
    from services.labels.tasks import refresh_cards

    path = item_path(labels_app, goods.batch)
    assert "recalled" not in warnings(text(lclient.get(path)))
    recall(psession, goods.lot)
    assert "recalled" not in warnings(text(lclient.get(path)))  # still the cached card
    result = refresh_cards.delay(lot_ids=[str(goods.lot.id)]).get()
    assert result["refreshed"] == 1
    assert warnings(text(lclient.get(path)))[0] == "recalled"
    goods.world.est_a.account_status = "revoked"
    psession.commit()
    refresh_cards.delay(establishment_ids=[str(goods.world.est_a.id)]).get()
    assert "account_suspended" in warnings(text(lclient.get(path)))


# --- budgets and the report form ------------------------------------------------------------


def test_page_views_are_rate_limited_per_address(
    lclient: Any, labels_app: Any, goods: Goods, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(labels_app.config, "TRACE_VIEWS_PER_MINUTE", 5)
    path = item_path(labels_app, goods.batch)
    statuses = [lclient.get(path).status_code for _ in range(5)]
    assert statuses == [200] * 5
    limited = lclient.get(path)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    assert "quá nhiều yêu cầu" in text(limited)
    assert lclient.get("/api/v1/resolve?path=" + path).status_code == 429
    other = lclient.get(path, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def _csrf(html: str) -> str:
    found = re.search(r'name="_csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_report_form_reaches_the_managing_agency(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    path = item_path(labels_app, goods.batch)
    form = lclient.get(path + "/report")
    assert form.status_code == 200
    token = _csrf(text(form))
    response = lclient.post(
        path + "/report",
        data={
            "_csrf": token,
            "kind": "suspected_fake",
            "message": "Bao bì khác thường\n<script>x</script>",
            "contact": "0912 000 111",
            "place_text": "Chợ Hạ Long 1",
        },
    )
    assert response.status_code == 201, text(response)
    assert "Cảm ơn" in text(response)
    report = lsession.query(ProblemReport).one()
    assert report.kind == "suspected_fake"
    assert report.establishment_id == goods.world.est_a.id
    assert report.unit_path == goods.world.est_a.unit_path
    assert report.lot_id == goods.lot.id
    assert report.code == codes.serial_code(signing_key(labels_app), goods.batch.serial_start)
    assert report.status == "new"


def test_report_form_refuses_a_post_without_csrf(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    path = item_path(labels_app, goods.batch) + "/report"
    lclient.get(path)
    response = lclient.post(path, data={"kind": "quality", "message": "x"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "bad_form" in text(response)
    assert lsession.query(ProblemReport).count() == 0


def test_report_form_validates_and_is_rate_limited(
    lclient: Any, labels_app: Any, goods: Goods, lsession: Any
) -> None:
    path = "/q/ZZZZZZZZZZ/report"  # an unknown code can be reported too
    token = _csrf(text(lclient.get(path)))
    bad = lclient.post(path, data={"_csrf": token, "kind": "nonsense", "message": ""})
    assert bad.status_code == 422
    assert 'class="error"' in text(bad)
    limit = labels_app.config["SETTINGS"].problem_reports_per_hour
    statuses = [
        lclient.post(
            path, data={"_csrf": token, "kind": "other", "message": f"Lần {i}"}
        ).status_code
        for i in range(limit)
    ]
    assert statuses == [201] * (limit - 1) + [429]  # the invalid post counted too
    assert lsession.query(ProblemReport).count() == limit - 1
    report = lsession.query(ProblemReport).first()
    assert report.establishment_id is None
    assert report.code == "ZZZZZZZZZZ"


def test_report_of_a_gs1_code(lclient: Any, labels_app: Any, goods: Goods, lsession: Any) -> None:
    path = "/01/08936081120011/10/CX-2612/report"
    token = _csrf(text(lclient.get(path)))
    response = lclient.post(path, data={"_csrf": token, "kind": "quality", "message": "Mốc"})
    assert response.status_code == 201
    report = lsession.query(ProblemReport).one()
    assert report.product_id == goods.product.id
    assert report.establishment_id == goods.world.est_a.id
