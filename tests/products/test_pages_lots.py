"""The lots pages: list, add, detail, status changes, the quick diary entry, shipping and
receiving, the trace tree — who reaches each, no leak, every form's error and success path."""

from __future__ import annotations

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.products.models import Lot, LotLink, Shipment, StageEvent
from shared.clock import LOCAL_TZ
from shared.db import utcnow
from tests.products.conftest import PWorld
from tests.products.factories import LinkFactory, LotFactory
from tests.products.test_pages_common import (
    CSRF,
    Pages,
    build_pages,
    png_bytes,
    text,
)

CODE_A = "CHE-2026-001"
CODE_B = "MIEN-2026-777"
OWN_PAGE = {"anonymous": 302, "admin": 403, "agency_a": 403, "owner_a": 200}


@pytest.fixture
def pages(products_app: Any, psession: Any, pworld: PWorld) -> Pages:
    return build_pages(products_app, psession, pworld)


def _local(moment: object) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")  # type: ignore[attr-defined]


def test_lot_list_roles_and_no_leak(pages: Pages) -> None:
    got = pages.expect("/lots", {**OWN_PAGE, "owner_b": 200})
    assert CODE_A in text(got["owner_a"])
    assert CODE_B not in text(got["owner_a"])
    assert CODE_B in text(got["owner_b"])
    assert CODE_A not in text(got["owner_b"])


def test_lot_list_filters(pages: Pages) -> None:
    assert CODE_A not in text(pages.get("owner_a", "/lots?status=on_hold"))
    assert CODE_A in text(pages.get("owner_a", "/lots?status=active"))
    assert CODE_A in text(pages.get("owner_a", f"/lots?product_id={pages.product_a.id}"))
    assert pages.get("owner_a", "/lots?status=bogus&page=999").status_code == 200


def test_new_lot_roles(pages: Pages) -> None:
    got = pages.expect("/lots/new", {**OWN_PAGE, "owner_b": 200})
    assert "Chè xanh Đường Hoa loại đặc biệt" not in text(got["owner_b"])


def test_new_lot_errors(pages: Pages) -> None:
    missing = pages.post("owner_a", "/lots/new", {"product_id": str(pages.product_a.id)})
    assert missing.status_code == 422
    assert 'id="code-error"' in text(missing)
    foreign = pages.post(
        "owner_a", "/lots/new", {"product_id": str(pages.product_b.id), "code": "X1"}
    )
    assert foreign.status_code == 422
    assert 'id="product_id-error"' in text(foreign)
    dates = pages.post(
        "owner_a",
        "/lots/new",
        {
            "product_id": str(pages.product_a.id),
            "code": "X2",
            "production_date": "2026-05-02",
            "expiry_date": "2026-05-01",
        },
    )
    assert dates.status_code == 422
    assert 'id="expiry_date-error"' in text(dates)
    assert 'value="X2"' in text(dates)


def test_new_lot_with_input_and_supplier(pages: Pages) -> None:
    response = pages.post(
        "owner_a",
        "/lots/new",
        {
            "product_id": str(pages.product_a.id),
            "code": "CHE-2026-002",
            "quantity": "50",
            "unit": "kg",
            "inputs-0-lot_id": str(pages.lot_a.id),
            "inputs-0-quantity": "20",
            "sources-0-supplier_name": "Hộ ông Lý Văn Sáng",
            "sources-0-received_at": _local(utcnow() - timedelta(hours=2)),
        },
    )
    assert response.status_code == 303
    made = pages.session.scalar(select(Lot).where(Lot.code == "CHE-2026-002"))
    assert made is not None
    assert made.establishment_id == pages.world.est_a.id
    link = pages.session.scalar(select(LotLink).where(LotLink.target_lot_id == made.id))
    assert link is not None
    assert link.source_lot_id == pages.lot_a.id
    detail = text(pages.get("owner_a", f"/lots/{made.id}"))
    assert "Hộ ông Lý Văn Sáng" in detail
    assert CODE_A in detail


def test_lot_detail_roles(pages: Pages) -> None:
    got = pages.expect(
        f"/lots/{pages.lot_a.id}",
        {
            "anonymous": 302,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 404,
            "owner_a": 200,
            "owner_b": 404,
        },
    )
    assert CODE_A in text(got["owner_a"])
    assert "Tạm giữ lô" in text(got["owner_a"])
    assert "Tạm giữ lô" not in text(got["agency_a"])  # read-only for the agency
    assert CODE_A not in text(got["owner_b"])
    assert pages.get("owner_a", f"/lots/{uuid.uuid4()}").status_code == 404


def test_lot_diary_in_time_order_with_inputs_and_outputs(pages: Pages) -> None:
    now = utcnow()
    for kind, hours, place in (
        ("packing", 1, "Xưởng đóng gói"),
        ("production", 30, "Đồi chè thôn 2"),
    ):
        pages.session.add(
            StageEvent(
                id=uuid.uuid4(),
                lot_id=pages.lot_a.id,
                establishment_id=pages.world.est_a.id,
                kind=kind,
                occurred_at=now - timedelta(hours=hours),
                place=place,
                attachments=[],
            )
        )
    later = LotFactory(product=pages.product_a, code="CHE-2026-OUT")
    LinkFactory(source_lot_id=pages.lot_a.id, target_lot_id=later.id, kind="split")
    pages.session.commit()
    body = text(pages.get("owner_a", f"/lots/{pages.lot_a.id}"))
    assert body.index("Đồi chè thôn 2") < body.index("Xưởng đóng gói")
    assert "CHE-2026-OUT" in body


def test_lot_status_hold_release_destroy(pages: Pages) -> None:
    url = f"/lots/{pages.lot_a.id}/status"
    no_reason = pages.post("owner_a", url, {"status": "on_hold"})
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in text(no_reason)
    assert pages.post("agency_a", url, {"status": "on_hold", "reason": "x"}).status_code == 403
    assert pages.post("owner_b", url, {"status": "on_hold", "reason": "x"}).status_code == 404
    held = pages.post("owner_a", url, {"status": "on_hold", "reason": "Chờ kết quả kiểm nghiệm"})
    assert held.status_code == 303
    pages.session.expire_all()
    assert pages.session.get(Lot, pages.lot_a.id).status == "on_hold"
    pages.post("owner_a", url, {"status": "destroyed", "reason": "Hỏng"})
    pages.session.expire_all()
    assert pages.session.get(Lot, pages.lot_a.id).status == "destroyed"
    again = pages.post("owner_a", url, {"status": "active", "reason": "Nhầm"})
    assert again.status_code == 422  # the domain refuses the transition, shown on the page
    assert "Không thể chuyển lô sang trạng thái này" in text(again)


def test_diary_page_roles(pages: Pages) -> None:
    url = f"/lots/{pages.lot_a.id}/diary"
    got = pages.expect(url, {**OWN_PAGE, "owner_b": 404})
    body = text(got["owner_a"])
    assert 'type="radio" name="kind"' in body
    assert 'capture="environment"' in body


def test_diary_entry_errors(pages: Pages) -> None:
    url = f"/lots/{pages.lot_a.id}/diary"
    no_kind = pages.post("owner_a", url, {"occurred_at": _local(utcnow())})
    assert no_kind.status_code == 422
    assert 'id="kind-error"' in text(no_kind)
    future = pages.post(
        "owner_a", url, {"kind": "production", "occurred_at": _local(utcnow() + timedelta(days=2))}
    )
    assert future.status_code == 422
    assert 'id="occurred_at-error"' in text(future)
    bad_photo = pages.post(
        "owner_a",
        url,
        {
            "kind": "production",
            "occurred_at": _local(utcnow()),
            "place": "Đồi chè",
            "file": (io.BytesIO(b"no image"), "a.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert bad_photo.status_code == 422
    assert 'id="file-error"' in text(bad_photo)
    assert 'value="Đồi chè"' in text(bad_photo)
    assert pages.session.scalar(select(StageEvent)) is None


def test_diary_entry_with_photo(pages: Pages) -> None:
    client = pages.client("owner_a")
    response = client.post(
        f"/lots/{pages.lot_a.id}/diary",
        data={
            "_csrf": CSRF,
            "kind": "processing",
            "occurred_at": _local(utcnow() - timedelta(minutes=5)),
            "place": "Xưởng sao chè",
            "description": "Sao lần 2",
            "file": (io.BytesIO(png_bytes()), "sao.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    event = pages.session.scalar(select(StageEvent).where(StageEvent.lot_id == pages.lot_a.id))
    assert event is not None
    assert event.kind == "processing"
    assert len(event.attachments) == 1
    detail = text(client.get(f"/lots/{pages.lot_a.id}"))
    assert "Đã ghi nhật ký" in detail
    assert "Xưởng sao chè" in detail
    name = event.attachments[0]["key"].rsplit("/", 1)[-1]
    photo = f"/lots/{pages.lot_a.id}/stages/{event.id}/attachments/{name}"
    assert pages.fetch("owner_a", photo)[0] == 200
    assert pages.fetch("owner_b", photo)[0] == 404
    # void it (reason required)
    void = f"/lots/{pages.lot_a.id}/stages/{event.id}/void"
    assert pages.post("owner_a", void, {}).status_code == 422
    assert pages.post("owner_a", void, {"reason": "Ghi nhầm lô"}).status_code == 303
    pages.session.expire_all()
    assert pages.session.get(StageEvent, event.id).voided_at is not None


def _ship(pages: Pages, who: str, **fields: str) -> Any:
    data = {"shipped_at": _local(utcnow() - timedelta(minutes=1)), "quantity": "10", **fields}
    return pages.post(who, f"/lots/{pages.lot_a.id}/ship", data)


def test_ship_roles_and_errors(pages: Pages) -> None:
    pages.expect(f"/lots/{pages.lot_a.id}/ship", {**OWN_PAGE, "owner_b": 404})
    nobody = _ship(pages, "owner_a")
    assert nobody.status_code == 422
    assert 'id="recipient_name-error"' in text(nobody)
    unknown = _ship(pages, "owner_a", recipient_registration_no="0000000000")
    assert unknown.status_code == 422
    assert 'id="recipient_registration_no-error"' in text(unknown)
    assert pages.session.scalar(select(Shipment)) is None


def test_ship_outside_and_to_an_establishment_then_receive(pages: Pages) -> None:
    outside = _ship(
        pages, "owner_a", recipient_name="Siêu thị Hạ Long", recipient_address="Hạ Long"
    )
    assert outside.status_code == 303
    inside = _ship(
        pages, "owner_a", recipient_registration_no=str(pages.world.est_b.business_registration_no)
    )
    assert inside.status_code == 303
    shipment = pages.session.scalar(
        select(Shipment).where(Shipment.recipient_establishment_id == pages.world.est_b.id)
    )
    assert shipment is not None
    assert shipment.recipient_name == "Cơ sở Miến dong Bình Liêu"
    # the recipient sees it to receive; nobody else does
    incoming = text(pages.get("owner_b", "/shipments"))
    assert CODE_A in incoming
    assert CODE_A not in text(pages.get("owner_a", "/shipments"))
    pages.expect("/shipments", {"anonymous": 302, "admin": 403, "agency_b": 403, "owner_b": 200})
    receive = f"/shipments/{shipment.id}/receive"
    pages.expect(receive, {"anonymous": 302, "agency_b": 403, "owner_b": 200})
    assert pages.get("owner_a", receive).status_code == 404  # the sender does not receive
    assert pages.get("owner_a2", receive).status_code == 404
    missing = pages.post("owner_b", receive, {"received_at": _local(utcnow())})
    assert missing.status_code == 422
    assert 'id="lot_code-error"' in text(missing)
    done = pages.post(
        "owner_b",
        receive,
        {
            "product_id": str(pages.product_b.id),
            "lot_code": "NHAN-001",
            "received_at": _local(utcnow()),
            "quantity": "10",
        },
    )
    assert done.status_code == 303
    received = pages.session.scalar(select(Lot).where(Lot.code == "NHAN-001"))
    assert received is not None
    assert received.establishment_id == pages.world.est_b.id
    # both sides linked: the sender's trace reaches the received lot
    tree = text(pages.get("owner_a", f"/lots/{pages.lot_a.id}/trace"))
    assert "NHAN-001" in tree
    assert "Siêu thị Hạ Long" in tree


def test_cancel_shipment(pages: Pages) -> None:
    _ship(pages, "owner_a", recipient_name="Chợ Đầm Hà")
    shipment = pages.session.scalar(select(Shipment))
    url = f"/shipments/{shipment.id}/cancel"
    assert pages.post("owner_b", url, {"reason": "x"}).status_code == 404
    assert pages.post("owner_a", url, {"reason": "Khách hủy đơn"}).status_code == 303
    pages.session.expire_all()
    assert pages.session.get(Shipment, shipment.id).status == "cancelled"


def test_trace_tree_roles_and_recalled_marked(pages: Pages) -> None:
    made = LotFactory(product=pages.product_a, code="CHE-THANH-PHAM", status="recalled")
    LinkFactory(source_lot_id=pages.lot_a.id, target_lot_id=made.id, kind="input")
    pages.session.commit()
    got = pages.expect(
        f"/lots/{pages.lot_a.id}/trace",
        {
            "anonymous": 302,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 404,
            "owner_a": 200,
            "owner_b": 404,
        },
    )
    body = text(got["owner_a"])
    assert '<ul class="tree">' in body
    assert 'class="recalled"' in body
    assert "CHE-THANH-PHAM" in body
    assert "/api/v1/lots/" in body
    assert "format=xlsx" in body
    assert "format=csv" in body
    back = text(pages.get("owner_a", f"/lots/{made.id}/trace"))
    assert CODE_A in back  # backward to the origin


def test_shipped_lot_is_readable_by_its_recipient_only(pages: Pages) -> None:
    shipment = Shipment(
        id=uuid.uuid4(),
        lot_id=pages.lot_a.id,
        establishment_id=pages.world.est_a.id,
        recipient_establishment_id=pages.world.est_b.id,
        recipient_name="Cơ sở Miến dong Bình Liêu",
        shipped_at=utcnow() - timedelta(hours=1),
        status="sent",
    )
    pages.session.add(shipment)
    pages.session.commit()
    url = f"/lots/{pages.lot_a.id}"
    body = text(pages.get("owner_b", url))  # one step back is the recipient's to see
    assert CODE_A in body
    assert "Tạm giữ lô" not in body  # read-only
    assert "Ghi nhật ký" not in body
    assert pages.get("owner_a2", url).status_code == 404
    assert pages.get("owner_b", f"{url}/diary").status_code == 404
    assert pages.get("owner_b", f"{url}/ship").status_code == 404


def test_agency_lot_page_has_no_establishment_actions(pages: Pages) -> None:
    body = text(pages.get("agency_a", f"/lots/{pages.lot_a.id}"))
    assert f"/lots/{pages.lot_a.id}/diary" not in body
    assert f"/lots/{pages.lot_a.id}/ship" not in body
    assert f"/recalls/new?lot_id={pages.lot_a.id}" in body  # an agency may impose a recall
