"""The establishment pages of agency officers and the administrator: who may open them, no
leak of another unit's establishments, search without diacritics, filters, paging, the edit
form (errors next to the fields, the version guard) and the move with a reason."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from services.accounts.domain.establishments import search_text
from services.accounts.models import AuditEvent, Establishment, EstablishmentAssignment
from tests.accounts.factories import EstablishmentFactory
from tests.accounts.pages import CSRF, html, login


def index(session: Any, *establishments: Any) -> None:
    """The factories leave `search_text` empty; the domain fills it on create and edit."""
    for est in establishments:
        est.search_text = search_text(est.name, est.address, est.representative)
    session.commit()


ROLES = [
    (None, 302),
    ("admin", 200),
    ("agency_a", 200),
    ("agency_b", 200),
    ("owner_a", 403),
    ("owner_b", 403),
]


@pytest.mark.parametrize(("who", "status"), ROLES)
def test_list_by_role(client: Any, world: Any, who: str | None, status: int) -> None:
    login(client, world, who)
    response = client.get("/establishments")
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/accounts/login?next=")


def test_list_shows_only_the_units_establishments(client: Any, world: Any) -> None:
    login(client, world, "agency_a")
    page = html(client.get("/establishments"))
    assert world.est_a.name in page
    assert world.est_b.name not in page
    login(client, world, "admin")
    page = html(client.get("/establishments"))
    assert world.est_a.name in page
    assert world.est_b.name in page


def test_search_ignores_diacritics_and_filters_apply(client: Any, world: Any, session: Any) -> None:
    index(session, world.est_a, world.est_b)
    login(client, world, "admin")
    page = html(client.get("/establishments?q=che duong hoa"))
    assert world.est_a.name in page
    assert world.est_b.name not in page
    page = html(client.get(f"/establishments?unit_id={world.unit_a.id}"))  # includes sub-unit A1
    assert world.est_a.name in page
    assert world.est_b.name not in page
    page = html(client.get("/establishments?has_account=false"))
    assert world.est_a.name not in page  # both have accounts
    page = html(client.get("/establishments?ocop=true&status=active&certificate=expired"))
    assert world.est_a.name not in page
    assert "export.xlsx?ocop=true" in page


def test_agency_cannot_filter_by_a_foreign_unit(client: Any, world: Any) -> None:
    login(client, world, "agency_a")
    response = client.get(f"/establishments?unit_id={world.unit_b.id}")
    assert response.status_code == 422
    assert world.est_b.name not in html(response)


def test_bad_filter_is_shown_next_to_it(client: Any, world: Any) -> None:
    login(client, world, "admin")
    response = client.get("/establishments?certificate=bogus&unit_id=not-a-uuid")
    assert response.status_code == 422
    page = html(response)
    assert 'id="certificate-error"' in page
    assert 'id="unit_id-error"' in page


def test_paging(client: Any, world: Any, session: Any) -> None:
    index(
        session,
        *[
            EstablishmentFactory(name=f"Cơ sở Phân trang {n:03d}", unit=world.unit_a1)
            for n in range(55)
        ],
    )
    login(client, world, "agency_a")
    first = html(client.get("/establishments?q=phan trang"))
    assert "Cơ sở Phân trang 000" in first
    assert "Cơ sở Phân trang 054" not in first
    assert 'rel="next"' in first
    second = html(client.get("/establishments?q=phan trang&page=2"))
    assert "Cơ sở Phân trang 054" in second
    assert "Cơ sở Phân trang 000" not in second
    assert "Cơ sở Phân trang 054" in html(client.get("/establishments?page=2"))


def test_export_link_works_with_the_cookie(client: Any, world: Any) -> None:
    login(client, world, "agency_a")
    response = client.get("/api/v1/establishments/export.xlsx?ocop=false")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


DETAIL = [
    (None, "a", 302),
    ("admin", "a", 200),
    ("admin", "b", 200),
    ("agency_a", "a", 200),
    ("agency_a", "b", 404),
    ("agency_b", "a", 404),
    ("owner_a", "a", 403),
    ("owner_b", "a", 403),
]


@pytest.mark.parametrize(("who", "which", "status"), DETAIL)
def test_detail_by_role(client: Any, world: Any, who: str | None, which: str, status: int) -> None:
    login(client, world, who)
    target = world.est_a if which == "a" else world.est_b
    response = client.get(f"/establishments/{target.id}")
    assert response.status_code == status
    if status == 200:
        page = html(response)
        assert target.name in page
        other = world.est_b if which == "a" else world.est_a
        assert other.name not in page
    if status == 404:
        assert target.name not in html(response)


def _edit_form(world: Any, **changes: Any) -> dict[str, Any]:
    est = world.est_a
    return {
        "_csrf": CSRF,
        "version": str(est.version),
        "name": est.name,
        "business_registration_no": est.business_registration_no,
        "food_safety_status": "none",
        "status": "active",
        "activities": ["production"],
        **changes,
    }


def test_edit_saves_and_records_history(client: Any, world: Any, session: Any) -> None:
    login(client, world, "agency_a")
    response = client.post(
        f"/establishments/{world.est_a.id}",
        data=_edit_form(world, address="Thôn 1, xã Quảng Tân", reason="Cập nhật địa chỉ"),
    )
    assert response.status_code == 303
    session.expire_all()
    stored = session.get(Establishment, world.est_a.id)
    assert stored.address == "Thôn 1, xã Quảng Tân"
    assert stored.activities == "|production|"
    page = html(client.get(response.headers["Location"]))
    assert "Đã lưu thông tin cơ sở." in page
    assert "Cập nhật địa chỉ" in page  # the history shows the change and its reason


def test_edit_errors_are_next_to_the_fields_and_values_kept(
    client: Any, world: Any, session: Any
) -> None:
    login(client, world, "agency_a")
    response = client.post(
        f"/establishments/{world.est_a.id}",
        data=_edit_form(
            world,
            name="",
            tax_code="12",
            address="Địa chỉ chưa lưu",
            certificate_issued_on="2025-05-01",
            certificate_expires_on="2024-01-01",
        ),
    )
    assert response.status_code == 422
    page = html(response)
    assert 'id="tax_code-error"' in page
    assert "Địa chỉ chưa lưu" in page
    response = client.post(
        f"/establishments/{world.est_a.id}",
        data=_edit_form(
            world, certificate_issued_on="2025-05-01", certificate_expires_on="2024-01-01"
        ),
    )
    assert response.status_code == 422
    assert 'id="certificate_expires_on-error"' in html(response)
    assert "Ngày hết hạn phải sau ngày cấp." in html(response)
    session.expire_all()
    assert session.get(Establishment, world.est_a.id).certificate_expires_on is None


def test_edit_with_a_stale_version_is_refused_clearly(
    client: Any, world: Any, session: Any
) -> None:
    login(client, world, "agency_a")
    stale = _edit_form(world, address="Sửa của tôi")
    assert (
        client.post(
            f"/establishments/{world.est_a.id}", data=_edit_form(world, address="Sửa trước")
        ).status_code
        == 303
    )
    response = client.post(f"/establishments/{world.est_a.id}", data=stale)
    assert response.status_code == 412
    page = html(response)
    assert "vừa được người khác sửa" in page
    assert "Sửa của tôi" in page  # nothing the officer typed is lost
    session.expire_all()
    assert session.get(Establishment, world.est_a.id).address == "Sửa trước"


def test_edit_outside_scope_and_without_csrf(client: Any, world: Any) -> None:
    login(client, world, "agency_b")
    assert (
        client.post(f"/establishments/{world.est_a.id}", data=_edit_form(world)).status_code == 404
    )
    login(client, world, "owner_a")
    assert (
        client.post(f"/establishments/{world.est_a.id}", data=_edit_form(world)).status_code == 403
    )
    login(client, world, "agency_a")
    form = _edit_form(world)
    form.pop("_csrf")
    assert client.post(f"/establishments/{world.est_a.id}", data=form).status_code == 400


def test_move_with_a_reason(client: Any, world: Any, session: Any) -> None:
    login(client, world, "agency_a")
    url = f"/establishments/{world.est_a.id}/move"
    version = str(world.est_a.version)
    response = client.post(
        url, data={"_csrf": CSRF, "unit_id": str(world.unit_a.id), "reason": "", "version": version}
    )
    assert response.status_code == 422
    assert 'id="reason-error"' in html(response)
    response = client.post(
        url,
        data={
            "_csrf": CSRF,
            "unit_id": str(world.unit_b.id),
            "reason": "Sáp nhập",
            "version": version,
        },
    )
    assert response.status_code == 422
    assert 'id="unit_id-error"' in html(response)  # unit B is not in agency A's scope
    response = client.post(
        url,
        data={
            "_csrf": CSRF,
            "unit_id": str(world.unit_a.id),
            "reason": "Sáp nhập xã",
            "version": version,
        },
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Establishment, world.est_a.id).unit_id == world.unit_a.id
    assert (
        session.scalar(select(AuditEvent).where(AuditEvent.action == "establishment.move")).reason
        == "Sáp nhập xã"
    )
    assert session.scalars(
        select(EstablishmentAssignment).where(
            EstablishmentAssignment.establishment_id == world.est_a.id
        )
    ).all()
    page = html(client.get(response.headers["Location"]))
    assert "Đã chuyển cơ sở sang đơn vị quản lý mới." in page
    assert "Sáp nhập xã" in page


def test_english_switch(client: Any, world: Any) -> None:
    login(client, world, "admin")
    page = html(client.get(f"/establishments/{world.est_a.id}?lang=en"))
    assert "Edit details" in page
    assert "History" in page
