"""The recall pages: the list with its deadlines (overdue flagged), opening a recall (voluntary
by the establishment, compulsory by an agency) with reason and confirmation, and a recall's
page with its steps and the form for the next one — who reaches each, no leak, every form's
error and success path."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select

from services.products.domain import recalls
from services.products.models import Lot, Recall, Shipment
from shared.auth import Principal
from shared.db import utcnow
from tests.products.conftest import PWorld
from tests.products.factories import LinkFactory, LotFactory
from tests.products.test_pages_common import (
    CSRF,
    Pages,
    build_pages,
    text,
)

ALL_ROLES_200 = {
    "anonymous": 302,
    "admin": 200,
    "agency_a": 200,
    "agency_b": 200,
    "owner_a": 200,
    "owner_b": 200,
}


@pytest.fixture
def pages(products_app: Any, psession: Any, pworld: PWorld) -> Pages:
    return build_pages(products_app, psession, pworld)


def _open(pages: Pages, lot: Lot, *, found_at: Any = None, kind: str = "voluntary") -> Recall:
    """A recall opened through the domain, as the lot's establishment."""
    actor = Principal(
        role="establishment",
        username="owner",
        account_id=uuid.uuid4(),
        establishment_id=lot.establishment_id,
    )
    recall = recalls.open_recall(
        pages.session,
        actor=actor,
        lot=lot,
        kind=kind,
        reason="Phát hiện dư lượng thuốc bảo vệ thực vật",
        hazard=None,
        found_at=found_at,
        settings=pages.app.config["SETTINGS"],
    )
    pages.session.commit()
    return recall


def test_recall_list_roles_and_scope(pages: Pages) -> None:
    recall = _open(pages, pages.lot_a)
    got = pages.expect("/recalls", ALL_ROLES_200)
    for who in ("admin", "agency_a", "owner_a"):
        assert recall.number in text(got[who]), who
    for who in ("agency_b", "owner_b"):
        assert recall.number not in text(got[who]), who
    assert "Chè xanh Đường Hoa" not in text(got["owner_b"])


def test_recall_list_shows_deadlines_and_flags_overdue(pages: Pages) -> None:
    late = _open(pages, pages.lot_a, found_at=utcnow() - timedelta(days=2))
    other = cast(Lot, LotFactory(product=pages.product_a, code="CHE-2026-009"))
    pages.session.commit()
    fresh = _open(pages, other)
    body = text(pages.get("owner_a", "/recalls"))
    assert late.number in body
    assert fresh.number in body
    assert "Ra quyết định thu hồi trong 24 giờ" in body
    late_row = body[
        body.rindex("<tr", 0, body.index(late.number)) : body.index(
            "</tr>", body.index(late.number)
        )
    ]
    fresh_row = body[
        body.rindex("<tr", 0, body.index(fresh.number)) : body.index(
            "</tr>", body.index(fresh.number)
        )
    ]
    assert 'class="overdue"' in late_row
    assert "Quá hạn" in late_row
    assert 'class="overdue"' not in fresh_row
    assert "Đang trong hạn" in fresh_row
    finished = text(pages.get("owner_a", "/recalls?state=finished"))
    assert late.number not in finished


def test_recall_affecting_a_recipient_is_listed_for_it(pages: Pages) -> None:
    received = LotFactory(product=pages.product_b, code="MIEN-NHAN-1", origin="received")
    LinkFactory(source_lot_id=pages.lot_a.id, target_lot_id=received.id, kind="shipment")
    pages.session.commit()
    recall = _open(pages, pages.lot_a)
    assert recall.number in text(pages.get("owner_b", "/recalls"))
    page_b = text(pages.get("owner_b", f"/recalls/{recall.id}"))
    assert "MIEN-NHAN-1" in page_b
    assert "Ghi nhận bước này" not in page_b  # a downstream establishment does not run it
    assert recall.number in text(pages.get("owner_b", "/"))  # on its home page too


def test_new_recall_roles(pages: Pages) -> None:
    url = f"/recalls/new?lot_id={pages.lot_a.id}"
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
    assert 'name="kind"' in text(got["agency_a"])  # an agency chooses compulsory
    assert 'name="kind"' not in text(got["owner_a"])
    assert "CHE-2026-001" not in text(got["owner_b"])
    assert pages.get("owner_a", "/recalls/new").status_code == 404
    assert pages.get("owner_a", "/recalls/new?lot_id=nope").status_code == 404


def test_new_recall_errors(pages: Pages) -> None:
    data = {"lot_id": str(pages.lot_a.id), "reason": "Nhiễm khuẩn"}
    unconfirmed = pages.post("owner_a", "/recalls/new", data)
    assert unconfirmed.status_code == 422
    assert 'id="confirm-error"' in text(unconfirmed)
    assert "Nhiễm khuẩn" in text(unconfirmed)  # nothing lost
    no_reason = pages.post(
        "owner_a", "/recalls/new", {"lot_id": str(pages.lot_a.id), "confirm": "1"}
    )
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in text(no_reason)
    future = pages.post(
        "owner_a",
        "/recalls/new",
        {
            **data,
            "confirm": "1",
            "found_at": (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert future.status_code == 422
    assert 'id="found_at-error"' in text(future)
    foreign = pages.post("owner_b", "/recalls/new", {**data, "confirm": "1"})
    assert foreign.status_code == 404
    assert pages.session.scalar(select(Recall)) is None
    _open(pages, pages.lot_a)
    twice = pages.post("owner_a", "/recalls/new", {**data, "confirm": "1"})
    assert twice.status_code == 422
    assert "đang có đợt thu hồi" in text(twice)


def test_new_recall_voluntary_marks_lots(pages: Pages) -> None:
    client = pages.client("owner_a")
    response = client.post(
        "/recalls/new",
        data={
            "_csrf": CSRF,
            "lot_id": str(pages.lot_a.id),
            "reason": "Phát hiện nấm mốc",
            "confirm": "1",
        },
    )
    assert response.status_code == 303
    recall = pages.session.scalar(select(Recall))
    assert recall is not None
    assert recall.kind == "voluntary"
    pages.session.expire_all()
    assert pages.session.get(Lot, pages.lot_a.id).status == "recalled"
    assert "Đã mở đợt thu hồi" in text(client.get(response.headers["Location"]))


def test_agency_imposes_compulsory_recall(pages: Pages) -> None:
    response = pages.post(
        "agency_a",
        "/recalls/new",
        {
            "lot_id": str(pages.lot_a.id),
            "kind": "compulsory",
            "reason": "Kết quả kiểm nghiệm không đạt",
            "confirm": "1",
        },
    )
    assert response.status_code == 303
    recall = pages.session.scalar(select(Recall))
    assert recall is not None
    assert recall.kind == "compulsory"
    assert recall.opened_by_role == "agency"


def test_recall_detail_roles(pages: Pages) -> None:
    recall = _open(pages, pages.lot_a)
    got = pages.expect(
        f"/recalls/{recall.id}",
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
    assert "Tiếp nhận yêu cầu thu hồi" in body
    assert "Đánh giá" in body
    assert "Ghi nhận bước này" in body
    assert recall.number not in text(got["owner_b"])
    assert pages.get("owner_a", f"/recalls/{uuid.uuid4()}").status_code == 404


def test_recall_steps_through_the_page(pages: Pages) -> None:
    shipment = Shipment(
        id=uuid.uuid4(),
        lot_id=pages.lot_a.id,
        establishment_id=pages.world.est_a.id,
        recipient_name="Siêu thị Hạ Long",
        shipped_at=utcnow() - timedelta(days=1),
        status="sent",
    )
    pages.session.add(shipment)
    pages.session.commit()
    recall = _open(pages, pages.lot_a)
    url = f"/recalls/{recall.id}/step"
    assert "Siêu thị Hạ Long" in text(pages.get("owner_a", f"/recalls/{recall.id}"))
    wrong = pages.post("owner_a", url, {"step": "executed", "version": recall.version})
    assert wrong.status_code == 422
    assert "Bước tiếp theo" in text(wrong)
    assert pages.post("owner_b", url, {"step": "assessed"}).status_code == 404
    for step in ("assessed", "plan_approved", "executed"):
        pages.session.refresh(recall)
        response = pages.post("owner_a", url, {"step": step, "note": f"Đã {step}"})
        assert response.status_code == 303, step
    no_handling = pages.post("owner_a", url, {"step": "handled"})
    assert no_handling.status_code == 422
    assert 'id="handling-error"' in text(no_handling)
    handled = pages.post("owner_a", url, {"step": "handled", "handling": "destroy"})
    assert handled.status_code == 303
    assert pages.post("owner_a", url, {"step": "reported"}).status_code == 303
    # closing is the authority's: the establishment is refused, the agency needs a decision
    body = text(pages.get("owner_a", f"/recalls/{recall.id}"))
    assert "Ghi nhận bước này" not in body
    refused = pages.post("owner_a", url, {"step": "closed", "note": "x"})
    assert refused.status_code == 422
    no_decision = pages.post("agency_a", url, {"step": "closed"})
    assert no_decision.status_code == 422
    assert 'id="note-error"' in text(no_decision)
    closed = pages.post("agency_a", url, {"step": "closed", "note": "Đồng ý tiêu hủy"})
    assert closed.status_code == 303
    pages.session.expire_all()
    assert pages.session.get(Recall, recall.id).status == "closed"
    final = text(pages.get("admin", f"/recalls/{recall.id}"))
    assert "Đồng ý tiêu hủy" in final
    assert "Tiêu hủy" in final


def test_cancel_recall(pages: Pages) -> None:
    recall = _open(pages, pages.lot_a)
    url = f"/recalls/{recall.id}/cancel"
    assert "Hủy đợt thu hồi" in text(pages.get("owner_a", f"/recalls/{recall.id}"))
    no_reason = pages.post("owner_a", url, {"version": recall.version})
    assert no_reason.status_code == 422
    assert 'id="reason-error"' in text(no_reason)
    assert pages.post("owner_b", url, {"reason": "x"}).status_code == 404
    done = pages.post("owner_a", url, {"reason": "Kết quả kiểm nghiệm lại đạt"})
    assert done.status_code == 303
    pages.session.expire_all()
    assert pages.session.get(Recall, recall.id).status == "cancelled"
    assert pages.session.get(Lot, pages.lot_a.id).status == "active"


def test_refresh_recall(pages: Pages) -> None:
    recall = _open(pages, pages.lot_a)
    later = LotFactory(product=pages.product_a, code="CHE-SAU-THU-HOI")
    LinkFactory(source_lot_id=pages.lot_a.id, target_lot_id=later.id, kind="input")
    pages.session.commit()
    url = f"/recalls/{recall.id}/refresh"
    assert pages.post("owner_b", url).status_code == 404
    assert pages.post("owner_a", url).status_code == 303
    pages.session.expire_all()
    assert pages.session.get(Lot, later.id).status == "recalled"


def test_recipient_of_a_lot_cannot_open_its_recall(pages: Pages) -> None:
    pages.session.add(
        Shipment(
            id=uuid.uuid4(),
            lot_id=pages.lot_a.id,
            establishment_id=pages.world.est_a.id,
            recipient_establishment_id=pages.world.est_b.id,
            recipient_name="Cơ sở Miến dong Bình Liêu",
            shipped_at=utcnow() - timedelta(hours=1),
            status="sent",
        )
    )
    pages.session.commit()
    assert pages.get("owner_b", f"/recalls/new?lot_id={pages.lot_a.id}").status_code == 403
    refused = pages.post(
        "owner_b",
        "/recalls/new",
        {"lot_id": str(pages.lot_a.id), "reason": "x", "confirm": "1"},
    )
    assert refused.status_code == 403
    assert pages.session.scalar(select(Recall)) is None
