"""Compiling reports through the real services (in-process): figures from the accounts,
products and labels services rolled up over the tree, the targets' progress, plan against
accounts granted, versions, XLSX and PDF downloads with Vietnamese text, a source that is
down (retried, then a clear failure, never a partial report), the schedule firing once per
period, and scope."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pypdfium2 as pdfium
import pytest

from services.labels.models import QrCode
from services.reports.domain import compile as compiling
from services.reports.domain.periods import Period
from services.reports.models import Job, PlanEntry, Report
from shared import jobs
from shared.clock import local_today
from shared.excel.reading import read_rows
from tests.accounts.factories import AccountFactory, EstablishmentFactory
from tests.products.factories import LotFactory, ProductFactory, StageFactory, bind_factories

pytestmark = pytest.mark.smoke

YEAR = local_today().year
QUARTER = (local_today().month - 1) // 3 + 1


def _compile(rclient: Any, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    response = rclient.post(
        "/api/v1/reports/", json={"kind": "annual", "year": YEAR, **body}, headers=headers
    )
    assert response.status_code == 202, response.json
    job = rclient.get(f"/api/v1/reports/jobs/{response.json['id']}", headers=headers).json
    assert job["status"] == "done", job
    return job


@pytest.fixture
def province(rworld: Any) -> Any:
    """Establishments in A1 and B with accounts; OCOP/key and packaged products, a lot with a
    stage, a QR code; the plan for this year."""
    accounts = rworld.sessions["accounts"]
    products = rworld.sessions["products"]
    labels = rworld.sessions["labels"]
    reports = rworld.sessions["reports"]
    world = rworld.accounts
    world.est_a.food_safety_status = "certificate"
    world.est_a.ocop = True
    world.est_b.food_safety_status = "commitment"
    extra = EstablishmentFactory(unit=world.unit_b, food_safety_status="commitment")
    AccountFactory(role="establishment", establishment=extra)
    EstablishmentFactory(unit=world.unit_b, food_safety_status="certificate")
    accounts.commit()

    bind_factories(products)
    tea = ProductFactory(establishment_id=world.est_a.id, ocop_stars=4, is_packaged_processed=True)
    noodles = ProductFactory(establishment_id=world.est_b.id, is_key_product=True)
    ProductFactory(establishment_id=world.est_b.id, is_packaged_processed=True)
    lot = LotFactory(product=tea)
    StageFactory(lot_id=lot.id, establishment_id=world.est_a.id)
    products.commit()
    labels.add(
        QrCode(
            code="P0000001",
            level="product",
            establishment_id=world.est_a.id,
            product_id=tea.id,
        )
    )
    labels.commit()
    month = local_today().month
    reports.add_all(
        [
            PlanEntry(unit_id=world.unit_a1.id, year=YEAR, month=month, accounts=2),
            PlanEntry(unit_id=world.unit_b.id, year=YEAR, month=month, accounts=4),
        ]
    )
    reports.commit()
    return {"tea": tea, "noodles": noodles, "lot": lot}


def test_a_report_rolls_the_sources_up_and_exports(
    rclient: Any, rworld: Any, province: Any, rsession: Any
) -> None:
    admin = rworld.headers("admin")
    job = _compile(rclient, admin)
    report = rclient.get(f"/api/v1/reports/{job['result']['report_id']}", headers=admin).json
    assert report["version"] == 1
    assert report["trigger"] == "on_demand"
    figures = report["figures"]
    units = {u["code"]: u for u in figures["units"]}
    assert [u["code"] for u in figures["units"]] == ["ROOT", "DIST-A", "COMM-A1", "DIST-B"]
    a1, b, root = units["COMM-A1"]["total"], units["DIST-B"]["total"], units["ROOT"]["total"]
    assert (a1["establishments"], a1["certificate_subject"], a1["ocop"], a1["with_account"]) == (
        1,
        1,
        1,
        1,
    )
    assert (b["establishments"], b["commitment_subject"], b["with_account"]) == (3, 2, 2)
    # Every roll-up is the sum of its children.
    for name in figures["fields"]:
        assert units["DIST-A"]["total"][name] == units["COMM-A1"]["total"][name], (
            name,
            units["DIST-A"]["own"],
        )
        assert root[name] == units["DIST-A"]["total"][name] + b[name]
    assert (root["products"], root["ocop_or_key_products"], root["ocop_or_key_with_qr"]) == (
        3,
        2,
        1,
    )
    assert (root["packaged_processed"], root["packaged_processed_traceable"]) == (2, 1)
    assert root["planned_accounts"] == 6
    targets = {t["key"]: t for t in figures["targets"]}
    assert targets["certificate_accounts"]["numerator"] == 1
    assert targets["certificate_accounts"]["denominator"] == 2
    assert targets["certificate_accounts"]["value"] == 50.0
    assert targets["certificate_accounts"]["met"] is False
    assert targets["qr_key_products"]["value"] == 50.0
    assert targets["traceable_packaged"]["value"] == 50.0
    assert targets["commitment_accounts"]["met"] is True  # 1 of 2 ≥ 10 %

    xlsx = rclient.get(report["xlsx_url"], headers=admin)
    assert xlsx.status_code == 200, xlsx.data[:300]
    rows = read_rows(xlsx.data)
    assert "Phụ lục 01" in str(rows[0][0])
    assert [r[1] for r in rows[2:]] == ["ROOT", "DIST-A", "COMM-A1", "DIST-B"]
    assert rows[2][3] == 4  # the province's establishments
    pdf = rclient.get(report["pdf_url"], headers=admin)
    assert pdf.status_code == 200
    assert pdf.data.startswith(b"%PDF")
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(pdf.data))
    assert "Tiến độ các chỉ tiêu" in text
    assert "Huyện Bình Liêu" in text
    assert "Cấp tài khoản cho cơ sở thuộc diện cấp GCN ATTP" in text
    assert "Phiên bản 1" in text

    # Compiling again adds a version; the first one is unchanged.
    again = _compile(rclient, admin)
    assert again["result"]["version"] == 2
    listed = rclient.get("/api/v1/reports/", query_string={"year": YEAR}, headers=admin).json
    assert [r["version"] for r in listed] == [2, 1]
    assert rsession.query(Report).count() == 2


def test_scope_of_reports(rclient: Any, rworld: Any, province: Any) -> None:
    district = rworld.headers("agency_a")
    job = _compile(rclient, district)
    report = rclient.get(f"/api/v1/reports/{job['result']['report_id']}", headers=district).json
    assert [u["code"] for u in report["figures"]["units"]] == ["DIST-A", "COMM-A1"]
    assert report["unit_name"] == "Huyện Đầm Hà"
    # District B does not see it, nor its files; an establishment sees no report at all.
    for who, status in (("agency_b", 404), ("owner_a", 403), ("anonymous", 401)):
        headers = rworld.headers(who)
        assert rclient.get(f"/api/v1/reports/{report['id']}", headers=headers).status_code == status
        assert rclient.get(report["pdf_url"], headers=headers).status_code == status
    assert rclient.get("/api/v1/reports/", headers=rworld.headers("agency_b")).json == []
    # An officer cannot compile for a unit outside their scope.
    outside = rclient.post(
        "/api/v1/reports/",
        json={"kind": "annual", "year": YEAR, "unit_id": str(rworld.unit_b.id)},
        headers=district,
    )
    assert outside.status_code == 404
    assert (
        rclient.post(
            "/api/v1/reports/",
            json={"kind": "annual", "year": YEAR},
            headers=rworld.headers("owner_a"),
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "quarterly", "year": YEAR},
        {"kind": "annual", "year": YEAR, "quarter": 2},
        {"kind": "weekly", "year": YEAR},
        {"kind": "annual", "year": 1800},
        {"kind": "annual", "year": YEAR, "unit_id": "not-a-uuid"},
        {"kind": "annual", "year": YEAR, "unit_id": str(uuid.uuid4())},
        {"kind": "annual", "year": 2099},  # not started: no figures yet
        {"kind": "annual", "year": YEAR, "as_of": f"{YEAR - 1}-12-31"},  # outside the period
    ],
)
def test_bad_requests(rclient: Any, rworld: Any, rsession: Any, body: dict[str, Any]) -> None:
    response = rclient.post("/api/v1/reports/", json=body, headers=rworld.headers("admin"))
    assert response.status_code in {404, 422}, response.json
    assert rsession.query(Job).count() == 0


def test_live_indicators_for_a_quarter(rclient: Any, rworld: Any, province: Any) -> None:
    response = rclient.get(
        "/api/v1/indicators/",
        query_string={"kind": "quarterly", "year": YEAR, "quarter": QUARTER},
        headers=rworld.headers("agency_b"),
    )
    assert response.status_code == 200, response.json
    assert [u["code"] for u in response.json["units"]] == ["DIST-B"]
    assert response.json["total"]["counts"]["establishments"] == 3


def test_a_source_that_is_down_retries_then_fails_without_a_report(
    rworld: Any, province: Any, reports_app: Any, reports_db: Any
) -> None:
    import httpx

    from tests.test_jobs import FakeTask, Retry

    base = reports_app.config["SETTINGS"]
    gateway = base.extra["http_transport"]

    class Network(httpx.BaseTransport):
        """The in-process services, and the real network for anything else (here the labels
        service at a port where nothing listens: connection refused)."""

        def __init__(self) -> None:
            self.real = httpx.HTTPTransport()

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.host == "gateway":
                return gateway.handle_request(request)
            return self.real.handle_request(request)

    settings = base.with_(
        labels_url="http://127.0.0.1:9/labels",
        http_retries=0,
        extra={**base.extra, "http_transport": Network()},
    )
    store = reports_app.extensions["trace_files"]
    with reports_db.transaction() as session:
        job = compiling.request(
            session, Period.of("annual", YEAR), None, trigger="on_demand", actor=None
        )

    def body(context: Any) -> Any:
        return compiling.run(context, reports_db, settings, store)

    with reports_app.app_context(), pytest.raises(Retry):
        jobs.execute(FakeTask(retries=0), reports_db, Job, str(job.id), body)
    with reports_db.transaction() as session:
        assert session.get_one(Job, job.id).status == "queued"
        assert session.query(Report).count() == 0
    with reports_app.app_context():
        final = jobs.execute(
            FakeTask(retries=jobs.MAX_ATTEMPTS), reports_db, Job, str(job.id), body
        )
    assert final == "failed"
    with reports_db.transaction() as session:
        failed = session.get_one(Job, job.id)
        assert failed.error["code"] == "service_unavailable"
        assert failed.error["vi"]
        assert session.query(Report).count() == 0


def test_the_schedule_fires_once_per_period(
    rworld: Any, province: Any, reports_app: Any, reports_db: Any, celery_eager: Any
) -> None:
    from services.reports import tasks

    with reports_app.app_context():
        first = tasks.compile_scheduled.apply(kwargs={"kind": "annual"}).get()
        second = tasks.compile_scheduled.apply(kwargs={"kind": "annual"}).get()
    assert first is not None
    assert second is None
    with reports_db.transaction() as session:
        reports = session.query(Report).order_by(Report.unit_id).all()
        # The province (filed under the root) and each other active unit, version 1 each.
        assert sorted(r.unit_id for r in reports) == sorted(
            [rworld.root.id, rworld.unit_a.id, rworld.unit_a1.id, rworld.unit_b.id]
        )
        assert {r.version for r in reports} == {1}
        assert {r.trigger for r in reports} == {"schedule"}


def test_the_beat_entries_read_the_settings_in_local_time(reports_app: Any) -> None:
    from services.reports.tasks import beat_schedule

    settings = reports_app.config["SETTINGS"].with_(report_quarterly_cron="0 7 14 3,6,9,12 *")
    schedule = beat_schedule(settings)
    quarterly = schedule["reports.quarterly"]["schedule"]
    assert quarterly.hour == {7}
    assert quarterly.day_of_month == {14}
    assert quarterly.month_of_year == {3, 6, 9, 12}
    annual = schedule["reports.annual"]["schedule"]
    assert (annual.day_of_month, annual.month_of_year) == ({10}, {12})
    # The crontab fires at that wall-clock time in Hà Nội (Celery's timezone here).
    from shared.celery_app import _conf

    assert _conf(reports_app.config["SETTINGS"])["timezone"] == "Asia/Ho_Chi_Minh"


def test_downloads_are_what_was_stored(rclient: Any, rworld: Any, province: Any) -> None:
    admin = rworld.headers("admin")
    job = _compile(rclient, admin)
    report_id = job["result"]["report_id"]
    first = rclient.get(f"/api/v1/reports/{report_id}/report.xlsx", headers=admin).data
    second = rclient.get(f"/api/v1/reports/{report_id}/report.xlsx", headers=admin).data
    assert first == second
    assert read_rows(io.BytesIO(first).getvalue())


def test_the_quarterly_job_is_due_at_half_past_midnight_in_ha_noi(
    reports_app: Any, celery_eager: Any
) -> None:
    """[RELIABILITY 7] The default crontab fires at 00:30 local time on the 15th of the
    quarter's last month — 17:30 UTC the day before — and not at 00:30 UTC."""
    from datetime import UTC, datetime, timedelta

    from services.reports.tasks import beat_schedule

    entry = beat_schedule(reports_app.config["SETTINGS"])["reports.quarterly"]["schedule"]
    entry.app = celery_eager
    now = {"value": datetime(2024, 6, 14, 17, 31, tzinfo=UTC)}
    entry.nowfun = lambda: now["value"]
    due, _next = entry.is_due(datetime(2024, 3, 14, 17, 30, tzinfo=UTC))
    assert due is True
    now["value"] = datetime(2024, 6, 15, 0, 31, tzinfo=UTC)  # 07:31 local, already ran
    due, next_in = entry.is_due(datetime(2024, 6, 14, 17, 30, tzinfo=UTC))
    assert due is False
    # The next run is the 15 September, 00:30 local.
    assert timedelta(days=91) < timedelta(seconds=next_in) < timedelta(days=93)


def test_a_formula_in_a_narrative_is_text_in_the_xlsx(
    rclient: Any, rworld: Any, province: Any
) -> None:
    """[RELIABILITY 12] A narrative starting with = comes out of the export as text."""
    from openpyxl import load_workbook

    formula = '=HYPERLINK("http://evil.example","bấm vào đây")'
    officer = rworld.headers("agency_b")
    saved = rclient.put(
        f"/api/v1/narratives/{rworld.unit_b.id}/annual/{YEAR}/0",
        json={"done": formula, "submit": True},
        headers=officer,
    )
    assert saved.status_code == 200, saved.json
    job = _compile(rclient, officer)
    report = rclient.get(f"/api/v1/reports/{job['result']['report_id']}", headers=officer).json
    xlsx = rclient.get(report["xlsx_url"], headers=officer).data
    sheet = load_workbook(io.BytesIO(xlsx))["Thuyết minh"]
    cells = [cell for row in sheet.iter_rows() for cell in row if cell.value == formula]
    assert cells
    assert all(cell.data_type == "s" for cell in cells)
