"""The officer's dashboard (`/reports/`): who may open it, the unit picker's scope, the five
targets with their formulas, plan against accounts granted as an inline SVG chart, the
sub-units' roll-up, labels, scans and recalls — and a source that is down."""

from __future__ import annotations

from typing import Any

import pytest

from services.reports.models import PlanEntry
from shared.clock import local_today
from shared.http import ServiceCallFailed
from tests.products.factories import mint_token

pytestmark = pytest.mark.smoke


def login(client: Any, rworld: Any, who: str) -> None:
    if who == "owner_b":
        settings = client.application.config["SETTINGS"]
        token = mint_token(settings, role="establishment", establishment_id=rworld.est_b.id)
    else:
        token = rworld.tokens[who]
    client.set_cookie("trace_access", token)


def test_anonymous_goes_to_the_login_page(rclient: Any, rworld: Any) -> None:
    response = rclient.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login?next=/")


@pytest.mark.parametrize("who", ["owner_a", "owner_b"])
def test_establishments_are_refused(rclient: Any, rworld: Any, who: str) -> None:
    login(rclient, rworld, who)
    response = rclient.get("/")
    assert response.status_code == 403
    assert "Huyện Đầm Hà" not in response.text


def test_the_administrator_sees_the_province(rclient: Any, rworld: Any) -> None:
    year, month = local_today().year, local_today().month
    rsession = rworld.sessions["reports"]
    rsession.add(PlanEntry(unit_id=rworld.unit_a1.id, year=year, month=month, accounts=7))
    rsession.add(PlanEntry(unit_id=rworld.unit_b.id, year=year, month=month, accounts=5))
    rsession.commit()
    login(rclient, rworld, "admin")
    response = rclient.get("/")
    assert response.status_code == 200, response.text
    page = response.text
    assert "Toàn tỉnh" in page
    # The five targets, each named by its formula.
    for formula in (
        "certificate_with_account/certificate_subject",
        "commitment_with_account/commitment_subject",
        "ocop_with_account/ocop",
        "ocop_or_key_with_qr/ocop_or_key_products",
        "packaged_processed_traceable/packaged_processed",
    ):
        assert formula in page
    assert "<svg" in page
    assert "Kế hoạch và thực hiện cấp tài khoản theo tháng" in page
    # The month's plan is the sum of the units' (7 + 5).
    assert f"Tháng {month}: kế hoạch" in page
    assert '<div class="figure">12</div>' in page
    # Sub-units of the province: both districts, linked to their own dashboards.
    assert "Huyện Đầm Hà" in page
    assert "Huyện Bình Liêu" in page
    assert f"unit_id={rworld.unit_b.id}" in page
    assert "Tem đã phát hành" in page
    assert "Thu hồi mở / đã đóng" in page


def test_the_dashboard_in_english(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a")
    response = rclient.get("/?lang=en")
    assert response.status_code == 200
    assert "Overview" in response.text
    assert "Accounts for certificate-subject establishments" in response.text
    assert "Tổng quan" not in response.text.split("<main")[1]


def test_an_officer_sees_their_unit_and_picks_a_sub_unit(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a")
    page = rclient.get("/").text
    assert "Huyện Đầm Hà" in page
    assert "Xã Quảng Tân" in page
    assert "Huyện Bình Liêu" not in page  # another district: not in the picker, not in the table
    assert "Toàn tỉnh" not in page.split("<main")[1]
    sub = rclient.get(f"/?unit_id={rworld.unit_a1.id}")
    assert sub.status_code == 200
    assert "Tổng quan — Xã Quảng Tân" in sub.text


@pytest.mark.parametrize("unit", ["unit_b", "root"])
def test_a_unit_outside_the_scope_is_not_found(rclient: Any, rworld: Any, unit: str) -> None:
    login(rclient, rworld, "agency_a")
    response = rclient.get(f"/?unit_id={getattr(rworld, unit).id}")
    assert response.status_code == 404
    assert "Huyện Bình Liêu" not in response.text


def test_a_commune_officer_cannot_see_the_district(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a1")
    assert rclient.get(f"/?unit_id={rworld.unit_a.id}").status_code == 404
    assert rclient.get("/?unit_id=not-a-uuid").status_code == 404
    page = rclient.get("/").text
    assert "Xã Quảng Tân" in page
    assert "Huyện Bình Liêu" not in page


def test_a_source_that_is_down_shows_a_clear_message(
    rclient: Any, rworld: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.reports.domain import sources

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise ServiceCallFailed()

    monkeypatch.setattr(sources, "read", down)
    login(rclient, rworld, "agency_b")
    response = rclient.get("/")
    assert response.status_code == 200
    assert "Chưa tính được số liệu" in response.text
    assert "tạm thời không trả lời" in response.text
