"""The lot's edit and split pages: who reaches them, the links on the lot page, the success
paths (stored, audited, flashed) and every error path (422, the message beside its field, the
typed values kept, nothing changed in the database)."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from services.products.models import AuditEvent, Lot, LotLink
from shared.clock import LOCAL_TZ
from shared.db import utcnow
from tests.products.conftest import PWorld
from tests.products.factories import LotFactory
from tests.products.test_pages_common import Pages, build_pages, text

CODE_A = "CHE-2026-001"
ROLE_ANSWERS = {
    "anonymous": 302,
    "admin": 403,
    "agency_a": 403,
    "agency_b": 403,
    "owner_a": 200,
    "owner_a2": 404,
    "owner_b": 404,
}


@pytest.fixture
def pages(products_app: Any, psession: Any, pworld: PWorld) -> Pages:
    return build_pages(products_app, psession, pworld)


def _local(moment: Any) -> str:
    return str(moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M"))


def _lot(pages: Pages, lot_id: uuid.UUID | None = None) -> Lot:
    pages.session.expire_all()
    found = pages.session.get(Lot, lot_id or pages.lot_a.id)
    assert found is not None
    return found


def _audits(pages: Pages, action: str) -> list[AuditEvent]:
    pages.session.expire_all()
    return list(pages.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _lot_count(pages: Pages) -> int:
    pages.session.expire_all()
    return int(pages.session.scalar(select(func.count()).select_from(Lot)) or 0)


def _alert(body: str) -> str:
    found = re.search(r'<div class="alert" role="alert">(.*?)</div>\s*</div>', body, re.S)
    assert found is not None, "no form alert"
    return html.unescape(found.group(1))


def _beside(body: str, field: str) -> str:
    """The messages shown under a field (the macros' `<div class="error" id="…-error">`)."""
    found = re.findall(rf'<div class="error" id="{re.escape(field)}-error">(.*?)</div>', body)
    assert found, f"no message beside {field}"
    return html.unescape(" ".join(found))


# --- the edit page ------------------------------------------------------------------------------


def _edit_url(pages: Pages, lot: Lot | None = None) -> str:
    return f"/lots/{(lot or pages.lot_a).id}/edit"


def _edit_form(pages: Pages, **changes: Any) -> dict[str, Any]:
    lot = pages.lot_a
    form = {
        "code": lot.code,
        "production_date": lot.production_date.isoformat() if lot.production_date else "",
        "expiry_date": lot.expiry_date.isoformat() if lot.expiry_date else "",
        "quantity": "100",
        "unit": "kg",
        "version": str(lot.version),
    }
    form.update(changes)
    return form


def test_edit_page_roles(pages: Pages) -> None:
    got = pages.expect(_edit_url(pages), ROLE_ANSWERS)
    body = text(got["owner_a"])
    assert f'value="{CODE_A}"' in body
    assert f'name="version" value="{pages.lot_a.version}"' in body
    assert 'id="f-quantity" name="quantity" type="text" value="100"' in body  # not 100.000
    assert f'value="{pages.lot_a.production_date.isoformat()}"' in body
    assert pages.get("owner_a", f"/lots/{uuid.uuid4()}/edit").status_code == 404
    assert pages.get("owner_a", _edit_url(pages, pages.lot_b)).status_code == 404


def test_edit_post_roles_change_nothing(pages: Pages) -> None:
    form = _edit_form(pages, code="KHAC-001")
    assert pages.post("owner_b", _edit_url(pages), form).status_code == 404
    assert pages.post("owner_a2", _edit_url(pages), form).status_code == 404
    assert pages.post("agency_a", _edit_url(pages), form).status_code == 403
    assert pages.post("admin", _edit_url(pages), form).status_code == 403
    anonymous = pages.post("anonymous", _edit_url(pages), form)
    assert anonymous.status_code == 302
    assert anonymous.headers["Location"].startswith("/accounts/login?next=")
    assert _lot(pages).code == CODE_A
    assert _audits(pages, "lot.update") == []


def test_edit_success_is_stored_audited_and_flashed(pages: Pages) -> None:
    client = pages.client("owner_a")
    before_version = pages.lot_a.version
    response = client.post(
        _edit_url(pages),
        data={
            "_csrf": "test-csrf-token",
            **_edit_form(
                pages,
                code="CHE-2026-001B",
                production_date="2026-03-01",
                expiry_date="2027-03-01",
                quantity="85.5",
                unit="hộp",
            ),
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/lots/{pages.lot_a.id}")
    lot = _lot(pages)
    assert lot.code == "CHE-2026-001B"
    assert lot.production_date.isoformat() == "2026-03-01"
    assert lot.expiry_date.isoformat() == "2027-03-01"
    assert lot.quantity == Decimal("85.5")
    assert lot.unit == "hộp"
    assert lot.version == before_version + 1  # one save, one new version
    assert lot.retain_until is not None
    assert lot.retain_until.isoformat() == "2028-03-01"  # 12 months past the new expiry
    (audit,) = _audits(pages, "lot.update")
    assert audit.entity_id == pages.lot_a.id
    assert audit.data["before"]["code"] == CODE_A
    assert audit.data["after"]["code"] == "CHE-2026-001B"
    assert audit.actor_role == "establishment"
    detail = text(client.get(f"/lots/{pages.lot_a.id}"))
    assert "Đã lưu lô CHE-2026-001B." in detail


def test_edit_clears_the_optional_fields(pages: Pages) -> None:
    form = _edit_form(pages, production_date="", expiry_date="", quantity="", unit="")
    assert pages.post("owner_a", _edit_url(pages), form).status_code == 303
    lot = _lot(pages)
    assert (lot.production_date, lot.expiry_date, lot.quantity, lot.unit) == (
        None,
        None,
        None,
        None,
    )
    assert lot.code == CODE_A


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"production_date": "2026-02-30"}, "production_date", "Không phải là ngày hợp lệ."),
        ({"expiry_date": "01/05/2027"}, "expiry_date", "Không phải là ngày hợp lệ."),
        (
            {"production_date": "2026-05-02", "expiry_date": "2026-05-01"},
            "expiry_date",
            "Hạn sử dụng phải sau ngày sản xuất.",
        ),
        ({"quantity": "-5"}, "quantity", ""),
        ({"quantity": "1000000000000000"}, "quantity", ""),
        ({"quantity": "nhiều"}, "quantity", ""),
        ({"code": ""}, "code", ""),
        ({"code": "LÔ MỚI"}, "code", ""),
    ],
)
def test_edit_invalid_fields(
    pages: Pages, changes: dict[str, str], field: str, message: str
) -> None:
    form = _edit_form(pages, unit="thùng", **changes)
    response = pages.post("owner_a", _edit_url(pages), form)
    assert response.status_code == 422
    body = text(response)
    beside = _beside(body, field)
    assert message in beside
    assert 'aria-invalid="true"' in body
    for name, value in changes.items():
        if value:
            assert f'name="{name}" type="' in body
            assert f'value="{html.escape(value)}"' in body  # what was typed is kept
    assert 'value="thùng"' in body
    assert f"Sửa lô {CODE_A}" in body
    assert "Mở lại với dữ liệu mới nhất" not in body
    lot = _lot(pages)
    assert lot.code == CODE_A
    assert lot.unit == "kg"
    assert lot.quantity == Decimal("100")
    assert lot.version == pages.lot_a.version
    assert _audits(pages, "lot.update") == []


def test_edit_invalid_date_message_is_vietnamese_beside_the_field(pages: Pages) -> None:
    response = pages.post(
        "owner_a",
        _edit_url(pages),
        _edit_form(pages, production_date="2026-05-02", expiry_date="2026-05-01"),
    )
    assert response.status_code == 422
    assert "Hạn sử dụng phải sau ngày sản xuất." in _beside(text(response), "expiry_date")


def test_edit_duplicate_code(pages: Pages) -> None:
    LotFactory(product=pages.product_a, code="CHE-2026-002")
    pages.session.commit()
    response = pages.post(
        "owner_a", _edit_url(pages), _edit_form(pages, code="CHE-2026-002", unit="thùng")
    )
    assert response.status_code == 422
    body = text(response)
    assert "Số lô đã dùng." in _beside(body, "code")
    assert "Sản phẩm đã có lô với số lô này." in _alert(body)
    assert 'value="CHE-2026-002"' in body
    assert 'value="thùng"' in body
    assert _lot(pages).code == CODE_A
    assert _lot(pages).unit == "kg"
    assert _audits(pages, "lot.update") == []
    # the same code on another product (another establishment's) is no clash
    LotFactory(product=pages.product_b, code="CHE-2026-009")
    pages.session.commit()
    ok = pages.post("owner_a", _edit_url(pages), _edit_form(pages, code="CHE-2026-009"))
    assert ok.status_code == 303


def test_edit_stale_version_is_refused(pages: Pages) -> None:
    old_form = _edit_form(pages, quantity="70")
    # someone else saves first (the same account in another tab)
    first = pages.post("owner_a", _edit_url(pages), _edit_form(pages, quantity="90"))
    assert first.status_code == 303
    saved = _lot(pages)
    assert saved.quantity == Decimal("90")
    stale = pages.post("owner_a", _edit_url(pages), old_form)
    assert stale.status_code == 422
    body = text(stale)
    assert "Dữ liệu đã được người khác thay đổi" in _alert(body)
    assert "Mở lại với dữ liệu mới nhất của lô" in body
    assert f'href="/lots/{pages.lot_a.id}/edit"' in body  # the latest version, to redo
    assert 'id="f-quantity" name="quantity" type="text" value="70"' in body  # kept
    after = _lot(pages)
    assert after.quantity == Decimal("90")
    assert after.version == saved.version
    assert len(_audits(pages, "lot.update")) == 1
    # in English too
    english = pages.post("owner_a", f"{_edit_url(pages)}?lang=en", old_form)
    assert english.status_code == 422
    assert "Someone else changed this record" in _alert(text(english))


def test_edit_without_version_is_refused(pages: Pages) -> None:
    form = _edit_form(pages, quantity="70")
    del form["version"]
    response = pages.post("owner_a", _edit_url(pages), form)
    assert response.status_code == 422
    assert "Cần gửi phiên bản đang sửa" in _alert(text(response))
    assert _lot(pages).quantity == Decimal("100")
    bogus = pages.post("owner_a", _edit_url(pages), {**form, "version": "abc"})
    assert bogus.status_code == 422
    assert _lot(pages).quantity == Decimal("100")


def test_edit_a_recalled_lot_follows_the_domain(pages: Pages) -> None:
    """The domain lets an establishment correct a recalled or destroyed lot's data."""
    recalled = LotFactory(product=pages.product_a, code="CHE-THU-HOI", status="recalled")
    pages.session.commit()
    url = _edit_url(pages, recalled)
    assert pages.get("owner_a", url).status_code == 200
    form = {
        "code": "CHE-THU-HOI",
        "production_date": "",
        "expiry_date": "",
        "quantity": "12",
        "unit": "kg",
        "version": str(recalled.version),
    }
    assert pages.post("owner_a", url, form).status_code == 303
    after = _lot(pages, recalled.id)
    assert after.quantity == Decimal("12")
    assert after.status == "recalled"


# --- the split page -----------------------------------------------------------------------------


def _split_url(pages: Pages, lot: Lot | None = None) -> str:
    return f"/lots/{(lot or pages.lot_a).id}/split"


def _split_form(*parts: tuple[str, str, str], confirm: bool = True, **extra: str) -> dict[str, str]:
    form: dict[str, str] = {"part_rows": str(max(4, len(parts)))}
    for i, (code, quantity, unit) in enumerate(parts):
        form[f"parts-{i}-code"] = code
        form[f"parts-{i}-quantity"] = quantity
        form[f"parts-{i}-unit"] = unit
    if confirm:
        form["confirm"] = "1"
    form.update(extra)
    return form


def _nothing_split(pages: Pages) -> None:
    assert _lot_count(pages) == 2  # lot_a and lot_b only
    assert pages.session.scalar(select(func.count()).select_from(LotLink)) == 0
    assert _audits(pages, "lot.split") == []
    lot = _lot(pages)
    assert lot.quantity == Decimal("100")
    assert lot.version == pages.lot_a.version


def test_split_page_roles(pages: Pages) -> None:
    got = pages.expect(_split_url(pages), ROLE_ANSWERS)
    body = text(got["owner_a"])
    assert body.count('name="parts-') == 4 * 3
    assert 'name="confirm"' in body
    assert 'name="part_rows" value="4"' in body
    more = text(pages.get("owner_a", f"{_split_url(pages)}?rows=6"))
    assert 'name="parts-5-code"' in more
    assert 'name="part_rows" value="6"' in more
    assert pages.get("owner_a", _split_url(pages, pages.lot_b)).status_code == 404


def test_split_post_roles_change_nothing(pages: Pages) -> None:
    form = _split_form(("CHE-A", "10", ""), ("CHE-B", "10", ""))
    assert pages.post("owner_b", _split_url(pages), form).status_code == 404
    assert pages.post("owner_a2", _split_url(pages), form).status_code == 404
    assert pages.post("agency_a", _split_url(pages), form).status_code == 403
    assert pages.post("admin", _split_url(pages), form).status_code == 403
    assert pages.post("anonymous", _split_url(pages), form).status_code == 302
    _nothing_split(pages)


def test_split_success_creates_linked_lots_and_flashes_them(pages: Pages) -> None:
    client = pages.client("owner_a")
    form = _split_form(
        ("CHE-2026-001-A", "40", ""),
        ("", "", ""),  # an empty row in between is skipped
        ("CHE-2026-001-B", "35.5", "túi"),
        occurred_at=_local(utcnow() - timedelta(hours=1)),
    )
    response = client.post(_split_url(pages), data={"_csrf": "test-csrf-token", **form})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/lots/{pages.lot_a.id}")
    pages.session.expire_all()
    made = {
        lot.code: lot for lot in pages.session.scalars(select(Lot).where(Lot.origin == "split"))
    }
    assert set(made) == {"CHE-2026-001-A", "CHE-2026-001-B"}
    part_a, part_b = made["CHE-2026-001-A"], made["CHE-2026-001-B"]
    assert part_a.quantity == Decimal("40")
    assert part_a.unit == "kg"  # the lot's own unit when left blank
    assert part_b.quantity == Decimal("35.5")
    assert part_b.unit == "túi"
    assert part_a.product_id == pages.product_a.id
    assert part_a.establishment_id == pages.world.est_a.id
    assert part_a.expiry_date == pages.lot_a.expiry_date
    links = list(pages.session.scalars(select(LotLink).where(LotLink.kind == "split")))
    assert {link.target_lot_id for link in links} == {part_a.id, part_b.id}
    assert all(link.source_lot_id == pages.lot_a.id for link in links)
    (audit,) = _audits(pages, "lot.split")
    assert audit.entity_id == pages.lot_a.id
    assert {p["code"] for p in audit.data["parts"]} == set(made)
    detail = text(client.get(f"/lots/{pages.lot_a.id}"))
    assert f"Đã tách lô {CODE_A} thành: CHE-2026-001-A, CHE-2026-001-B." in detail
    assert "CHE-2026-001-A" in detail  # the outputs, one step forward


def test_split_needs_the_confirmation(pages: Pages) -> None:
    form = _split_form(("CHE-A", "10", "thùng"), ("CHE-B", "20", ""), confirm=False)
    response = pages.post("owner_a", _split_url(pages), form)
    assert response.status_code == 422
    body = text(response)
    assert "Hãy đánh dấu xác nhận tách lô." in _beside(body, "confirm")
    assert 'value="CHE-A"' in body
    assert 'value="CHE-B"' in body
    assert 'value="thùng"' in body
    assert 'value="20"' in body
    _nothing_split(pages)


def test_split_more_than_the_lot(pages: Pages) -> None:
    form = _split_form(("CHE-A", "60", ""), ("CHE-B", "50", ""))
    response = pages.post("owner_a", _split_url(pages), form)
    assert response.status_code == 422
    body = text(response)
    assert "Tổng khối lượng các phần lớn hơn khối lượng của lô." in _beside(body, "parts")
    assert 'value="60"' in body
    assert 'value="50"' in body
    assert 'name="confirm" value="1" required checked' in body
    _nothing_split(pages)


def test_split_code_already_used_is_shown_on_its_row(pages: Pages) -> None:
    LotFactory(product=pages.product_a, code="CHE-DA-CO")
    pages.session.commit()
    form = _split_form(("CHE-MOI", "10", ""), ("", "", ""), ("CHE-DA-CO", "10", ""))
    response = pages.post("owner_a", _split_url(pages), form)
    assert response.status_code == 422
    body = text(response)
    assert "Số lô đã dùng." in _beside(body, "parts-2-code")  # the row it was typed in
    assert "Sản phẩm đã có lô với số lô này." in _alert(body)
    assert 'value="CHE-DA-CO"' in body
    pages.session.expire_all()
    assert pages.session.scalar(select(Lot).where(Lot.code == "CHE-MOI")) is None
    assert _audits(pages, "lot.split") == []
    assert pages.session.scalar(select(func.count()).select_from(LotLink)) == 0


@pytest.mark.parametrize(
    ("parts", "extra", "field", "message"),
    [
        ((("CHE-A", "10", ""),), {}, "parts", "Cần ít nhất hai lô mới."),
        ((("CHE-A", "10", ""), ("CHE-A", "10", "")), {}, "parts", "Các số lô bị trùng."),
        ((("CHE-A", "-1", ""), ("CHE-B", "10", "")), {}, "parts-0-quantity", ""),
        ((("CHE-A", "10", ""), ("CHE-B", "1e20", "")), {}, "parts-1-quantity", ""),
        ((("CHE-A", "10", ""), ("LÔ B", "10", "")), {}, "parts-1-code", ""),
        ((("CHE-A", "10", ""), ("", "10", "")), {}, "parts-1-code", ""),
        (
            (("CHE-A", "10", ""), ("CHE-B", "10", "")),
            {"occurred_at": "2099-01-01T08:00"},
            "occurred_at",
            "Thời điểm không được ở tương lai.",
        ),
        (
            (("CHE-A", "10", ""), ("CHE-B", "10", "")),
            {"occurred_at": "hôm qua"},
            "occurred_at",
            "",
        ),
    ],
)
def test_split_invalid(
    pages: Pages,
    parts: tuple[tuple[str, str, str], ...],
    extra: dict[str, str],
    field: str,
    message: str,
) -> None:
    response = pages.post("owner_a", _split_url(pages), _split_form(*parts, **extra))
    assert response.status_code == 422
    body = text(response)
    assert message in _beside(body, field)
    for code, quantity, _unit in parts:
        if code:
            assert f'value="{html.escape(code)}"' in body
        if quantity:
            assert f'value="{quantity}"' in body
    for name, value in extra.items():
        assert f'value="{html.escape(value)}"' in body
        assert name == "occurred_at"
    _nothing_split(pages)


def test_split_a_recalled_lot_shows_the_domain_message(pages: Pages) -> None:
    recalled = LotFactory(product=pages.product_a, code="CHE-THU-HOI", status="recalled")
    pages.session.commit()
    form = _split_form(("CHE-A", "10", ""), ("CHE-B", "10", ""))
    response = pages.post("owner_a", _split_url(pages, recalled), form)
    assert response.status_code == 422
    assert "Lô đang bị thu hồi hoặc đã tiêu huỷ." in _alert(text(response))
    pages.session.expire_all()
    assert pages.session.scalar(select(Lot).where(Lot.code == "CHE-A")) is None


# --- the links on the lot page ------------------------------------------------------------------


def test_lot_page_links_for_the_owner_only(pages: Pages) -> None:
    own = text(pages.get("owner_a", f"/lots/{pages.lot_a.id}"))
    assert f'href="/lots/{pages.lot_a.id}/edit"' in own
    assert f'href="/lots/{pages.lot_a.id}/split"' in own
    assert "Sửa lô" in own
    assert "Tách lô" in own
    agency = text(pages.get("agency_a", f"/lots/{pages.lot_a.id}"))
    assert "/edit" not in agency
    assert f"/lots/{pages.lot_a.id}/split" not in agency
    english = text(pages.get("owner_a", f"/lots/{pages.lot_a.id}?lang=en"))
    assert "Edit lot" in english
    assert "Split" in english


def test_lot_page_links_follow_the_status(pages: Pages) -> None:
    held = LotFactory(product=pages.product_a, code="CHE-TAM-GIU", status="on_hold")
    recalled = LotFactory(product=pages.product_a, code="CHE-THU-HOI", status="recalled")
    destroyed = LotFactory(product=pages.product_a, code="CHE-HUY", status="destroyed")
    pages.session.commit()
    held_page = text(pages.get("owner_a", f"/lots/{held.id}"))
    assert f"/lots/{held.id}/split" in held_page
    for lot in (recalled, destroyed):
        body = text(pages.get("owner_a", f"/lots/{lot.id}"))
        assert f"/lots/{lot.id}/split" not in body  # the domain refuses to split it
        assert f"/lots/{lot.id}/edit" in body  # its data may still be corrected
