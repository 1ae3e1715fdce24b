"""Every reports endpoint × every caller [ASVS 8; RELIABILITY 15].

Targets belong to district A (report, compile job) and commune A1 (narrative, plan cell).
"agency_a" is district A's officer (A and A1 in scope), "agency_a1" the commune's (A1 only),
"agency_b" another district's; "owner_a" an establishment (reports are the agencies' work:
403 everywhere). Outside one's scope the answer is 404; a role without the capability, 403.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from services.reports.models import Job, Narrative, PublishedRow, PublishedTable, Report
from shared.clock import local_today
from shared.db import utcnow

pytestmark = pytest.mark.smoke

CALLERS = ("anonymous", "admin", "agency_a", "agency_a1", "agency_b", "owner_a")
YEAR = local_today().year


def officers(ok: int) -> dict[str, int]:
    """Every officer may; establishments may not."""
    return {
        "anonymous": 401,
        "admin": ok,
        "agency_a": ok,
        "agency_a1": ok,
        "agency_b": ok,
        "owner_a": 403,
    }


def unit_a(ok: int) -> dict[str, int]:
    """About district A: its officers and the administrator."""
    return {
        "anonymous": 401,
        "admin": ok,
        "agency_a": ok,
        "agency_a1": 404,
        "agency_b": 404,
        "owner_a": 403,
    }


def unit_a1(ok: int, *, parent: int | None = None) -> dict[str, int]:
    """About commune A1: its officers, its district's, the administrator."""
    return {
        "anonymous": 401,
        "admin": ok,
        "agency_a": ok if parent is None else parent,
        "agency_a1": ok,
        "agency_b": 404,
        "owner_a": 403,
    }


def admin_only(ok: int) -> dict[str, int]:
    return {
        "anonymous": 401,
        "admin": ok,
        "agency_a": 403,
        "agency_a1": 403,
        "agency_b": 403,
        "owner_a": 403,
    }


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[Any], str]
    expect: dict[str, int]
    body: Callable[[Any], Any] = lambda w: None
    multipart: bool = False
    route: str = ""


TARGETS = {
    "certificate_accounts": 100,
    "commitment_accounts": 10,
    "ocop_accounts": 100,
    "qr_key_products": 100,
    "traceable_packaged": 80,
}


@pytest.fixture
def aworld(rworld: Any, rsession: Any, reports_app: Any) -> Any:
    store = reports_app.extensions["trace_files"]
    report_id = uuid.uuid4()
    for extension in ("xlsx", "pdf"):
        store.save(f"reports/test/{report_id}.{extension}", b"%PDF-1.4 test")
    report = Report(
        id=report_id,
        kind="annual",
        year=YEAR,
        quarter=0,
        unit_id=rworld.unit_a.id,
        version=1,
        trigger="on_demand",
        as_of=local_today(),
        compiled_at=utcnow(),
        figures={"unit_id": str(rworld.unit_a.id), "units": [], "as_of": "2026-01-01"},
        xlsx_key=f"reports/test/{report_id}.xlsx",
        pdf_key=f"reports/test/{report_id}.pdf",
    )
    job = Job(
        id=uuid.uuid4(),
        kind="compile",
        status="done",
        params={},
        unit_id=rworld.unit_a.id,
        created_by=None,
    )
    narrative = Narrative(
        id=uuid.uuid4(), unit_id=rworld.unit_a1.id, kind="annual", year=2099, quarter=0
    )
    table = PublishedTable(id=uuid.uuid4(), title="Phụ lục 01", as_of=local_today())
    rsession.add_all([report, job, narrative, table])
    rsession.flush()
    rsession.add(
        PublishedRow(
            table_id=table.id,
            row_number=2,
            code="DIST-A",
            name="Huyện Đầm Hà",
            unit_id=rworld.unit_a.id,
            values={"establishments": 1},
        )
    )
    rsession.commit()
    rworld.extras.update(report=report, job=job, narrative=narrative, table=table)
    return rworld


ENDPOINTS = [
    Endpoint("targets.get", "GET", lambda w: "/api/v1/targets/2025", officers(200)),
    Endpoint(
        "targets.put", "PUT", lambda w: "/api/v1/targets/2025", admin_only(200), lambda w: TARGETS
    ),
    Endpoint(
        "indicators.get",
        "GET",
        lambda w: f"/api/v1/indicators/?kind=annual&year={YEAR}&unit_id={w.unit_a.id}",
        unit_a(200),
    ),
    Endpoint(
        "plans.get", "GET", lambda w: f"/api/v1/plans/2025?unit_id={w.unit_a.id}", unit_a(200)
    ),
    Endpoint("plans.template", "GET", lambda w: "/api/v1/plans/2025/template.xlsx", officers(200)),
    Endpoint(
        "plans.import",
        "POST",
        lambda w: "/api/v1/plans/2025/import",
        # District B's officer names a unit outside their scope: refused row, nothing stored.
        {**unit_a1(200), "agency_b": 422},
        lambda w: {"file": (io.BytesIO(b"code,m04\nCOMM-A1,3\n"), "plan.csv")},
        multipart=True,
    ),
    Endpoint(
        "plans.put_entry",
        "PUT",
        lambda w: f"/api/v1/plans/2025/{w.unit_a1.id}/5",
        unit_a1(200),
        lambda w: {"accounts": 3},
    ),
    Endpoint("published.list", "GET", lambda w: "/api/v1/published/", officers(200)),
    Endpoint(
        "published.import",
        "POST",
        lambda w: "/api/v1/published/",
        admin_only(201),
        lambda w: {
            "file": (
                io.BytesIO(
                    "code,parent_code,level,name,total_establishments,certificate_subject,"
                    "commitment_subject,ocop_in_system,with_account\n"
                    "DIST-A,,district,Huyện Đầm Hà,1,1,0,0,1\n".encode()
                ),
                "p.csv",
            ),
            "title": "Phụ lục 01",
            "as_of": "2024-12-31",
        },
        multipart=True,
    ),
    Endpoint(
        "published.get", "GET", lambda w: f"/api/v1/published/{w.extras['table'].id}", officers(200)
    ),
    Endpoint(
        "published.compare",
        "GET",
        lambda w: (
            f"/api/v1/published/{w.extras['table'].id}/comparison?report_id={w.extras['report'].id}"
        ),
        unit_a(200),
    ),
    Endpoint(
        "reports.compile",
        "POST",
        lambda w: "/api/v1/reports/",
        unit_a(202),
        lambda w: {"kind": "annual", "year": YEAR, "unit_id": str(w.unit_a.id)},
    ),
    Endpoint(
        "reports.job", "GET", lambda w: f"/api/v1/reports/jobs/{w.extras['job'].id}", unit_a(200)
    ),
    Endpoint("reports.list", "GET", lambda w: "/api/v1/reports/", officers(200)),
    Endpoint(
        "reports.get", "GET", lambda w: f"/api/v1/reports/{w.extras['report'].id}", unit_a(200)
    ),
    Endpoint(
        "reports.xlsx",
        "GET",
        lambda w: f"/api/v1/reports/{w.extras['report'].id}/report.xlsx",
        unit_a(200),
    ),
    Endpoint(
        "reports.pdf",
        "GET",
        lambda w: f"/api/v1/reports/{w.extras['report'].id}/report.pdf",
        unit_a(200),
    ),
    Endpoint(
        "narratives.deadline",
        "GET",
        lambda w: f"/api/v1/narratives/?kind=annual&year=2099&unit_id={w.unit_a1.id}",
        unit_a1(200),
    ),
    Endpoint(
        "narratives.get",
        "GET",
        lambda w: f"/api/v1/narratives/{w.unit_a1.id}/annual/2099/0",
        unit_a1(200),
    ),
    Endpoint(
        "narratives.put",
        "PUT",
        lambda w: f"/api/v1/narratives/{w.unit_a1.id}/annual/2099/0",
        # The district reads its commune's narrative but does not write it.
        unit_a1(200, parent=403),
        lambda w: {"done": "Đã cấp 10 tài khoản."},
    ),
    Endpoint(
        "narratives.reminders", "GET", lambda w: "/api/v1/narratives/reminders", officers(200)
    ),
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_matrix(rclient: Any, aworld: Any, endpoint: Endpoint, caller: str) -> None:
    headers = aworld.headers(caller)
    body = endpoint.body(aworld)
    if endpoint.multipart:
        response = rclient.open(
            endpoint.path(aworld),
            method=endpoint.method,
            headers=headers,
            data=body,
            content_type="multipart/form-data",
        )
    else:
        response = rclient.open(
            endpoint.path(aworld), method=endpoint.method, headers=headers, json=body
        )
    response.close()
    assert response.status_code == endpoint.expect[caller], response.get_json()


def test_every_route_is_in_the_matrix(reports_app: Any, aworld: Any) -> None:
    """A new endpoint must be added to the matrix to pass."""
    literals = {"annual", "quarterly", "2025", "2099", "0", "5"}

    def template(method: str, path: str) -> tuple[str, str]:
        parts = []
        for part in path.split("?")[0].split("/"):
            try:
                uuid.UUID(part)
                parts.append("<>")
            except ValueError:
                parts.append("<>" if part in literals else part)
        return method, "/".join(parts)

    covered = {template(e.method, e.path(aworld)) for e in ENDPOINTS}
    routes = set()
    for rule in reports_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or "docs" in rule.rule:
            continue
        if rule.rule.endswith("openapi.json"):
            continue
        path = "/".join("<>" if p.startswith("<") else p for p in rule.rule.split("/"))
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, path))
    missing = routes - covered
    assert not missing, f"endpoints missing from the authorisation matrix: {sorted(missing)}"
