"""The reports pages (`/reports/reports…`): the list in scope with the deadlines and the late
units, compiling on demand (confirmation, then the job page and its progress fragment), the
report page with its XLSX and PDF, and who may open what."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from services.reports.models import Narrative, Report
from shared.clock import local_today
from tests.products.factories import mint_token

pytestmark = pytest.mark.smoke

YEAR = local_today().year
QUARTER = (local_today().month - 1) // 3 + 1


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


def a_report(rworld: Any, unit: Any, version: int = 1) -> Report:
    """A stored report (its files are not needed by the pages' tests)."""
    session = rworld.sessions["reports"]
    report = Report(
        id=uuid.uuid4(),
        kind="annual",
        year=2099,
        quarter=0,
        unit_id=unit.id,
        version=version,
        trigger="on_demand",
        as_of=local_today(),
        compiled_at=datetime.now(UTC),
        figures={
            "targets": [],
            "months": [],
            "total": {"months": {}},
            "narratives": [],
            "unit_id": str(unit.id),
        },
    )
    session.add(report)
    session.commit()
    return report


def test_anonymous_goes_to_the_login_page(rclient: Any, rworld: Any) -> None:
    for path in ("/reports", f"/reports/{uuid.uuid4()}", f"/reports/jobs/{uuid.uuid4()}"):
        response = rclient.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/accounts/login?next=")


@pytest.mark.parametrize("who", ["owner_a", "owner_b"])
def test_establishments_are_refused(rclient: Any, rworld: Any, who: str) -> None:
    report = a_report(rworld, rworld.unit_b)
    login(rclient, rworld, who)
    assert rclient.get("/reports").status_code == 403
    assert rclient.get(f"/reports/{report.id}").status_code == 403
    token = csrf(rclient)
    response = rclient.post("/reports/compile", data={"_csrf": token, "kind": "annual"})
    assert response.status_code == 403


def test_the_list_shows_reports_in_scope_only(rclient: Any, rworld: Any) -> None:
    a_report(rworld, rworld.unit_a1)
    b = a_report(rworld, rworld.unit_b)
    login(rclient, rworld, "agency_a")
    page = rclient.get("/reports")
    assert page.status_code == 200
    assert "Xã Quảng Tân" in page.text
    assert str(b.id) not in page.text
    assert "Huyện Bình Liêu" not in page.text
    assert rclient.get(f"/reports/{b.id}").status_code == 404
    login(rclient, rworld, "admin")
    page = rclient.get("/reports?kind=annual&year=2099").text
    assert "Xã Quảng Tân" in page
    assert "Huyện Bình Liêu" in page
    assert (
        "Huyện Bình Liêu"
        not in rclient.get("/reports?kind=quarterly").text.split("Báo cáo đã lập")[1]
    )


def test_the_deadlines_name_the_late_units(rclient: Any, rworld: Any) -> None:
    session = rworld.sessions["reports"]
    session.add(
        Narrative(
            unit_id=rworld.unit_a1.id,
            kind="quarterly",
            year=YEAR,
            quarter=QUARTER,
            status="submitted",
            submitted_at=datetime.now(UTC),
            version=1,
            done="Đã làm",
        )
    )
    session.commit()
    login(rclient, rworld, "agency_a")
    page = rclient.get("/reports").text
    assert "Hạn nộp thuyết minh" in page
    assert "1 / 2 đơn vị đã nộp" in page  # A1 submitted, A has not
    assert "Huyện Bình Liêu" not in page


def test_compile_asks_for_confirmation_then_runs_the_job(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a")
    token = csrf(rclient)
    form = {"_csrf": token, "kind": "annual", "year": str(YEAR), "unit_id": str(rworld.unit_a.id)}
    confirm = rclient.post("/reports/compile", data=form)
    assert confirm.status_code == 200
    assert "Xác nhận lập báo cáo" in confirm.text
    assert rworld.sessions["reports"].query(Report).count() == 0

    done = rclient.post("/reports/compile", data={**form, "confirm": "yes"})
    assert done.status_code == 303
    job_url = done.headers["Location"]
    assert "/reports/jobs/" in job_url
    job_page = rclient.get(job_url)
    assert job_page.status_code == 200
    assert "Đã yêu cầu lập báo cáo." in job_page.text  # the flash
    assert "Đã xong" in job_page.text
    found = re.search(r'href="(/reports/[0-9a-f-]{36})"', job_page.text)
    assert found is not None
    report_url = found.group(1)
    fragment = rclient.get(job_url + "/progress")
    assert fragment.status_code == 200
    assert fragment.headers["HX-Redirect"] == report_url
    assert "<html" not in fragment.text

    report = rclient.get(report_url)
    assert report.status_code == 200
    assert "Huyện Đầm Hà" in report.text
    assert "Phiên bản" in report.text
    links = re.findall(r'href="([^"]+report\.(?:xlsx|pdf))"', report.text)
    assert len(links) == 2
    pdf = rclient.get(links[1])
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")
    assert rclient.get(links[0]).status_code == 200

    # Another district's officer sees neither the job nor the report.
    login(rclient, rworld, "agency_b")
    assert rclient.get(job_url).status_code == 404
    assert rclient.get(report_url).status_code == 404


def test_the_job_page_refreshes_while_running(rclient: Any, rworld: Any) -> None:
    from services.reports.domain import compile as compiling
    from services.reports.domain.periods import Period

    session = rworld.sessions["reports"]
    job = compiling.request(
        session, Period("annual", YEAR), rworld.unit_b.id, trigger="on_demand", actor=None
    )
    session.commit()
    login(rclient, rworld, "agency_b")
    page = rclient.get(f"/reports/jobs/{job.id}")
    assert page.status_code == 200
    assert 'http-equiv="refresh"' in page.text
    assert f'hx-get="/reports/jobs/{job.id}/progress"' in page.text
    fragment = rclient.get(f"/reports/jobs/{job.id}/progress")
    assert "HX-Redirect" not in fragment.headers
    login(rclient, rworld, "agency_a")
    assert rclient.get(f"/reports/jobs/{job.id}").status_code == 404


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"kind": "quarterly", "year": str(YEAR)}, "quarter", "Báo cáo quý cần có quý"),
        ({"kind": "annual", "year": "1999"}, "year", ""),
        ({"kind": "annual", "year": "2099"}, "year", "Kỳ báo cáo chưa bắt đầu"),
        ({"kind": "weekly", "year": str(YEAR)}, "kind", ""),
    ],
)
def test_compile_errors_are_shown_next_to_the_fields(
    rclient: Any, rworld: Any, form: dict[str, str], field: str, message: str
) -> None:
    login(rclient, rworld, "agency_a")
    token = csrf(rclient)
    response = rclient.post("/reports/compile", data={"_csrf": token, **form})
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert message in response.text
    assert f'value="{form["year"]}"' in response.text  # nothing lost


def test_compile_for_a_unit_outside_the_scope_is_refused(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a")
    token = csrf(rclient)
    response = rclient.post(
        "/reports/compile",
        data={
            "_csrf": token,
            "kind": "annual",
            "year": str(YEAR),
            "unit_id": str(rworld.unit_b.id),
        },
    )
    assert response.status_code == 422
    assert "Huyện Bình Liêu" not in response.text


def test_a_post_without_the_csrf_token_is_refused(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a")
    response = rclient.post("/reports/compile", data={"kind": "annual", "year": str(YEAR)})
    assert response.status_code == 400
