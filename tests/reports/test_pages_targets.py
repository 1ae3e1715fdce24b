"""The planning pages: `/reports/targets` (the administrator edits the year's five targets,
agencies read them), `/reports/plans` (Appendix 02 with the accounts granted, the Excel/CSV
import with a dry run) and `/reports/published` (a published Appendix 01 against the system,
cell by cell) — who may open and change what, errors next to the fields, success."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest

from services.reports.models import PlanEntry, PublishedTable, YearTargets
from shared.clock import local_today
from tests.products.factories import mint_token

pytestmark = pytest.mark.smoke

YEAR = local_today().year
TARGETS = {
    "certificate_accounts": "100",
    "commitment_accounts": "12,5",
    "ocop_accounts": "90",
    "qr_key_products": "100",
    "traceable_packaged": "80",
}
PUBLISHED = (
    "code,parent_code,level,name,total_establishments,certificate_subject,commitment_subject,"
    "ocop_in_system,with_account,rate_percent_as_published\n"
    "DIST-A,,district,Huyện Đầm Hà,5,1,0,0,1,20\n"
    "COMM-A1,DIST-A,commune,Xã Quảng Tân,3,1,0,0,1,33.33\n"
    "DIST-B,,district,Huyện Bình Liêu,1,0,1,0,0,0\n"
).encode()


def login(client: Any, rworld: Any, who: str) -> None:
    if who == "owner_b":
        settings = client.application.config["SETTINGS"]
        token = mint_token(settings, role="establishment", establishment_id=rworld.est_b.id)
    else:
        token = rworld.tokens[who]
    client.set_cookie("trace_access", token)


def csrf(client: Any) -> str:
    with client.session_transaction() as session:
        session["_csrf"] = "test-csrf"
    return "test-csrf"


def upload(client: Any, path: str, data: bytes, name: str, **form: str) -> Any:
    return client.post(
        path,
        data={"_csrf": csrf(client), "file": (io.BytesIO(data), name), **form},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("path", ["/targets", "/plans", "/published"])
def test_anonymous_goes_to_the_login_page(rclient: Any, rworld: Any, path: str) -> None:
    response = rclient.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/accounts/login?next={path}")


@pytest.mark.parametrize("who", ["owner_a", "owner_b"])
@pytest.mark.parametrize("path", ["/targets", "/plans", "/published"])
def test_establishments_are_refused(rclient: Any, rworld: Any, who: str, path: str) -> None:
    login(rclient, rworld, who)
    assert rclient.get(path).status_code == 403
    token = csrf(rclient)
    assert rclient.post(path, data={"_csrf": token}).status_code in (403, 405)


# --- targets ---------------------------------------------------------------------------------


def test_the_administrator_sets_the_years_targets(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "admin")
    page = rclient.get(f"/targets?year={YEAR}")
    assert page.status_code == 200
    assert "certificate_with_account/certificate_subject" in page.text
    assert 'name="commitment_accounts"' in page.text
    assert 'value="10"' in page.text
    token = csrf(rclient)
    response = rclient.post(
        f"/targets?year={YEAR}", data={"_csrf": token, "version": "0", **TARGETS}
    )
    assert response.status_code == 303
    row = rworld.sessions["reports"].get(YearTargets, YEAR)
    assert row is not None
    assert row.commitment_accounts == Decimal("12.5")
    assert row.ocop_accounts == Decimal(90)
    assert "Đã lưu chỉ tiêu năm" in rclient.get(response.headers["Location"]).text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ocop_accounts", "120", "từ 0 đến 100"),
        ("qr_key_products", "abc", ""),
        ("traceable_packaged", "", ""),
    ],
)
def test_a_wrong_target_is_shown_next_to_its_field(
    rclient: Any, rworld: Any, field: str, value: str, message: str
) -> None:
    login(rclient, rworld, "admin")
    token = csrf(rclient)
    response = rclient.post(
        f"/targets?year={YEAR}", data={"_csrf": token, "version": "0", **TARGETS, field: value}
    )
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert 'value="12,5"' not in response.text
    assert 'value="12.5"' in response.text
    assert rworld.sessions["reports"].get(YearTargets, YEAR) is None


def test_a_stale_version_is_refused(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "admin")
    token = csrf(rclient)
    rclient.post(f"/targets?year={YEAR}", data={"_csrf": token, "version": "0", **TARGETS})
    stale = rclient.post(f"/targets?year={YEAR}", data={"_csrf": token, "version": "0", **TARGETS})
    assert stale.status_code == 422
    assert "vừa được người khác sửa" in stale.text


def test_agencies_read_the_targets_but_cannot_change_them(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_b")
    page = rclient.get("/targets")
    assert page.status_code == 200
    assert "Chỉ quản trị viên sửa được chỉ tiêu." in page.text
    assert '<form method="post"' not in page.text.split("<main")[1]
    token = csrf(rclient)
    response = rclient.post("/targets", data={"_csrf": token, "version": "0", **TARGETS})
    assert response.status_code == 403
    assert rclient.get("/targets?year=abc").status_code == 404


# --- plans -----------------------------------------------------------------------------------


def test_the_plan_with_the_accounts_granted(rclient: Any, rworld: Any) -> None:
    session = rworld.sessions["reports"]
    session.add(PlanEntry(unit_id=rworld.unit_a1.id, year=YEAR, month=1, accounts=7))
    session.add(PlanEntry(unit_id=rworld.unit_b.id, year=YEAR, month=1, accounts=9))
    session.commit()
    login(rclient, rworld, "agency_a")
    page = rclient.get(f"/plans?year={YEAR}")
    assert page.status_code == 200
    assert "Huyện Đầm Hà" in page.text
    assert "Xã Quảng Tân" in page.text
    assert "Huyện Bình Liêu" not in page.text
    assert ">7<" in page.text
    assert ">9<" not in page.text
    assert f"/api/v1/plans/{YEAR}/template.xlsx" in page.text
    assert rclient.get(f"/plans?unit_id={rworld.unit_b.id}").status_code == 404
    login(rclient, rworld, "admin")
    page = rclient.get(f"/plans?year={YEAR}").text
    assert "Huyện Bình Liêu" in page
    assert ">16<" in page


def test_a_dry_run_then_the_import(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a")
    data = b"code,name,m04,m05,total\nDIST-A,Huyen Dam Ha,3,5,8\nCOMM-A1,Xa Quang Tan,3,4,7\n"
    dry = upload(rclient, "/plans/import?year=2024", data, "plan.csv", dry_run="1")
    assert dry.status_code == 200
    assert "Kết quả kiểm tra tệp plan.csv" in dry.text
    assert "khác tổng các đơn vị con" in dry.text  # DIST-A says 5 in May, its commune 4
    assert rworld.sessions["reports"].query(PlanEntry).count() == 0

    done = upload(rclient, "/plans/import?year=2024", data, "plan.csv", dry_run="0")
    assert done.status_code == 303
    assert rworld.sessions["reports"].query(PlanEntry).count() == 2
    after = rclient.get(done.headers["Location"]).text
    assert "Đã nhập kế hoạch năm 2024: 1 đơn vị, 2 ô." in after


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"code,m04\nDIST-B,3\n", "ngoài phạm vi quản lý"),
        (b"code,m04\nNOWHERE,3\n", "Không nhận ra đơn vị"),
        (b"foo,bar\n1,2\n", "Không tìm thấy dòng tiêu đề"),
        (None, "Hãy chọn tệp"),
    ],
)
def test_a_bad_plan_file_is_refused_next_to_the_field(
    rclient: Any, rworld: Any, content: bytes | None, message: str
) -> None:
    login(rclient, rworld, "agency_a")
    if content is None:
        response = rclient.post(
            "/plans/import?year=2024", data={"_csrf": csrf(rclient), "dry_run": "0"}
        )
    else:
        response = upload(rclient, "/plans/import?year=2024", content, "plan.csv", dry_run="0")
    assert response.status_code == 422
    assert 'id="file-error"' in response.text
    assert message in response.text
    assert rworld.sessions["reports"].query(PlanEntry).count() == 0


# --- published tables ------------------------------------------------------------------------


def test_the_administrator_imports_and_compares_a_published_table(
    rclient: Any, rworld: Any
) -> None:
    login(rclient, rworld, "admin")
    page = rclient.get("/published")
    assert page.status_code == 200
    assert "Nhập bảng đã công bố" in page.text
    response = upload(
        rclient,
        "/published",
        PUBLISHED,
        "pl01.csv",
        title="Phụ lục 01 năm 2023",
        as_of="2023-12-31",
    )
    assert response.status_code == 303, response.text
    table = rworld.sessions["reports"].query(PublishedTable).one()
    compared = rclient.get(response.headers["Location"])
    assert compared.status_code == 200
    text = compared.text
    assert "Phụ lục 01 năm 2023" in text
    assert "Đã nhập bảng đã công bố." in text
    assert 'class="num diff' in text  # Xã Quảng Tân: 3 published, 1 in the system
    assert "inconsistent" in text  # Huyện Đầm Hà: 5 published, its commune 3
    assert "with_account/establishments" in text  # the formula the published rate used
    assert str(table.id) in text


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"title": "", "as_of": "2023-12-31"}, "title"),
        ({"title": "PL01", "as_of": "31/12/2023"}, "as_of"),
    ],
)
def test_a_wrong_published_form_is_refused(
    rclient: Any, rworld: Any, form: dict[str, str], field: str
) -> None:
    login(rclient, rworld, "admin")
    response = upload(rclient, "/published", PUBLISHED, "pl01.csv", **form)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert rworld.sessions["reports"].query(PublishedTable).count() == 0


def test_a_bad_published_file_is_refused(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "admin")
    response = upload(
        rclient, "/published", b"foo,bar\n1,2\n", "x.csv", title="X", as_of="2023-12-31"
    )
    assert response.status_code == 422
    assert rworld.sessions["reports"].query(PublishedTable).count() == 0


def test_agencies_read_but_do_not_import(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "admin")
    upload(rclient, "/published", PUBLISHED, "pl01.csv", title="PL01", as_of="2023-12-31")
    table = rworld.sessions["reports"].query(PublishedTable).one()
    login(rclient, rworld, "agency_a")
    page = rclient.get(f"/published?table_id={table.id}")
    assert page.status_code == 200
    assert "Chọn một báo cáo năm đã lập" in page.text
    assert "Nhập bảng đã công bố" not in page.text
    response = upload(rclient, "/published", PUBLISHED, "pl01.csv", title="X", as_of="2023-12-31")
    assert response.status_code == 403
    assert (
        rclient.get("/published?table_id=00000000-0000-0000-0000-000000000000").status_code == 404
    )
