"""Every labels route × every caller [ASVS 8; RELIABILITY 15].

Targets belong to establishment A (unit A1). "agency_a" manages A1 (est_a and est_a2),
"agency_b" does not; "owner_a" is establishment A, "owner_a2" its neighbour in A1, "owner_b" a
stranger; "service" is another platform service (a service token, as the reports service
sends). Outside one's scope the answer is 404 (existence not revealed); a role without the
capability, 403. The trace pages, their JSON twin (resolve), the report form, the health
checks and the API documents are public by design: the same answer for every caller.

Every rule of the labels app's URL map (each method) must have an entry here, so a new route
fails `test_every_route_is_in_the_matrix` until its authorisation is written down.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.labels.domain import cards, codes
from services.labels.models import CounterfeitAlert, Job, LabelBatch, ProblemReport, QrCode, Scan
from shared.auth import mint_service_token
from tests.products.factories import LotFactory, ProductFactory, auth

pytestmark = pytest.mark.smoke

CALLERS = (
    "anonymous",
    "admin",
    "agency_a",
    "agency_b",
    "owner_a",
    "owner_a2",
    "owner_b",
    "service",
)
GTIN = "08936081120011"
SERIAL = 7_000_000
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def expect(
    ok: int,
    *,
    agency_b: int = 404,
    owner_a: int | None = None,
    owner_a2: int = 404,
    owner_b: int = 404,
    service: int = 404,
) -> dict[str, int]:
    """About establishment A: the administrator, A's agency and A itself."""
    return {
        "anonymous": 401,
        "admin": ok,
        "agency_a": ok,
        "agency_b": agency_b,
        "owner_a": ok if owner_a is None else owner_a,
        "owner_a2": owner_a2,
        "owner_b": owner_b,
        "service": service,
    }


def everyone(status: int, *, anonymous: int = 401) -> dict[str, int]:
    return {caller: status for caller in CALLERS} | {"anonymous": anonymous}


def public(status: int) -> dict[str, int]:
    return everyone(status, anonymous=status)


MANAGE = expect(200)
# A service sees every alert and report (shared/directory.py scope_filter) but manages no
# establishment (COPY.manages): it reads these rows and not a code's or a batch's.
OVERSIGHT = expect(200, service=200)
# The same as MANAGE, about establishment B.
MANAGE_B = {**expect(200), "agency_a": 404, "owner_a": 404, "agency_b": 200, "owner_b": 200}
# Ordering for a product outside one's scope names no such product (422 on product_id).
ORDER = expect(201, agency_b=422, owner_a2=422, owner_b=422, service=422)
# Status changes are the authority's: establishment A sees its alert but may not judge it; a
# service sees every row (shared/directory.py scope_filter) and may not judge either.
JUDGE = expect(200, owner_a=403, service=403)


@dataclass
class MWorld:
    lworld: Any
    tokens: dict[str, str]
    extras: dict[str, Any]

    def headers(self, who: str) -> dict[str, str]:
        return auth(self.tokens[who]) if who != "anonymous" else {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lworld, name)


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[MWorld], str]
    expect: dict[str, int]
    body: Callable[[MWorld], Any] = lambda w: None
    # A form post of the public pages: (client, world, headers) -> the form's fields.
    form: Callable[[Any, MWorld, dict[str, str]], dict[str, str]] | None = None


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    cards.clear_memory()
    yield
    cards.clear_memory()


@pytest.fixture
def mworld(lworld: Any, psession: Any, lsession: Any, labels_app: Any) -> MWorld:
    """Establishment A's product (with a GTIN) and lot, its product code, a printed batch
    of that lot (PDF ready) with a scan, an alert and a problem report; the same of B (a
    product without GTIN or lot; its batch not printed); an alert and a report that name no
    establishment."""
    settings = labels_app.config["SETTINGS"]
    product = ProductFactory(establishment_id=lworld.est_a.id, name="Chè Đường Hoa", gtin=GTIN)
    lot = LotFactory(product=product, code="CX-1")
    product_b = ProductFactory(establishment_id=lworld.est_b.id, name="Miến dong")
    psession.commit()

    def qr(of: Any, gtin: str | None = None) -> QrCode:
        return QrCode(
            id=uuid.uuid4(),
            code=codes.new_short_code(),
            level="product",
            establishment_id=of.establishment_id,
            product_id=of.id,
            gtin=gtin,
        )

    pdf_key = f"labels/batches/{uuid.uuid4().hex}.pdf"
    path = labels_app.extensions["trace_files"].path(pdf_key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    job = Job(id=uuid.uuid4(), kind="labels.print", status="done", result_file=pdf_key)

    def batch(est: Any, of: Any, start: int, **kw: Any) -> LabelBatch:
        return LabelBatch(
            id=uuid.uuid4(),
            number=f"TEM-M-{uuid.uuid4().hex[:8]}",
            establishment_id=est.id,
            unit_path=est.unit_path,
            product_id=of.id,
            gtin=of.gtin,
            quantity=10,
            serial_start=start,
            serial_end=start + 9,
            template={},
            content={},
            **kw,
        )

    batch_a = batch(lworld.est_a, product, SERIAL, lot_id=lot.id, lot_code=lot.code, job_id=job.id)
    batch_b = batch(lworld.est_b, product_b, SERIAL + 100)
    now = datetime.now(UTC)
    serial_code = codes.serial_code(settings.serial_signing_key, SERIAL)
    serial_b = codes.serial_code(settings.serial_signing_key, SERIAL + 100)

    def scan(of: LabelBatch, code: str) -> Scan:
        return Scan(
            at=now - timedelta(hours=1),
            level="item",
            code=code,
            serial=of.serial_start,
            batch_id=of.id,
            product_id=of.product_id,
            lot_id=of.lot_id,
            establishment_id=of.establishment_id,
            ua_class="mobile",
            outcome="ok",
        )

    def alert(code: str, est: Any, product_id: Any) -> CounterfeitAlert:
        return CounterfeitAlert(
            id=uuid.uuid4(),
            code=code,
            reason="too_many_scans" if est else "unknown",
            establishment_id=est.id if est else None,
            unit_path=est.unit_path if est else None,
            product_id=product_id,
            scans=25,
            places=[],
            first_seen=now - timedelta(hours=2),
            last_seen=now,
            status="open",
        )

    def report(code: str, est: Any, product_id: Any) -> ProblemReport:
        return ProblemReport(
            id=uuid.uuid4(),
            code=code,
            kind="suspected_fake",
            message="Tem khác màu",
            contact="0912 000 111",
            product_id=product_id,
            establishment_id=est.id if est else None,
            unit_path=est.unit_path if est else None,
            status="new",
        )

    rows = {
        "code": qr(product, GTIN),
        "code_b": qr(product_b),
        "job": job,
        "batch": batch_a,
        "batch_b": batch_b,
        "scan": scan(batch_a, serial_code),
        "scan_b": scan(batch_b, serial_b),
        "alert": alert(serial_code, lworld.est_a, product.id),
        "alert_b": alert(serial_b, lworld.est_b, product_b.id),
        "alert_nobody": alert("ZZZZZZZZZZ", None, None),
        "report": report(serial_code, lworld.est_a, product.id),
        "report_b": report(serial_b, lworld.est_b, product_b.id),
        "report_nobody": report("ZZZZZZZZZZ", None, None),
    }
    lsession.add_all(rows.values())
    lsession.commit()
    tokens = dict(lworld.tokens)
    tokens["service"] = mint_service_token(settings.service_secret, "reports")
    return MWorld(
        lworld,
        tokens,
        {**rows, "product": product, "lot": lot, "product_b": product_b, "serial": serial_code},
    )


def x(w: MWorld, name: str) -> Any:
    return w.extras[name]


def _report_form(client: Any, w: MWorld, headers: dict[str, str]) -> dict[str, str]:
    """The form as a shopper sends it: its CSRF token from the page, then the fields."""
    page = client.get(f"/q/{x(w, 'serial')}/report", headers=headers)
    assert page.status_code == 200
    found = re.search(r'name="_csrf" value="([^"]+)"', page.get_data(as_text=True))
    assert found is not None
    return {"_csrf": found.group(1), "kind": "quality", "message": "Gói bị rách"}


def _forged_form(client: Any, w: MWorld, headers: dict[str, str]) -> dict[str, str]:
    """No CSRF token: a bearer token does not stand in for one."""
    return {"kind": "quality", "message": "Gói bị rách"}


ENDPOINTS = [
    # --- product and lot codes
    Endpoint("codes.list", "GET", lambda w: "/api/v1/codes/", everyone(200)),
    Endpoint(
        "codes.issue",
        "POST",
        lambda w: "/api/v1/codes/",
        expect(201, agency_b=422, owner_a2=422, owner_b=422, service=422),
        lambda w: {"product_id": str(x(w, "product").id), "lot_id": str(x(w, "lot").id)},
    ),
    Endpoint(
        "codes.issue_again",  # the existing product code: 200, the same scope
        "POST",
        lambda w: "/api/v1/codes/",
        expect(200, agency_b=422, owner_a2=422, owner_b=422, service=422),
        lambda w: {"product_id": str(x(w, "product").id)},
    ),
    Endpoint("codes.get", "GET", lambda w: f"/api/v1/codes/{x(w, 'code').id}", MANAGE),
    Endpoint(
        "codes.image",
        "GET",
        lambda w: f"/api/v1/codes/{x(w, 'code').id}/image.svg",
        MANAGE,
    ),
    # --- label batches
    Endpoint("batches.list", "GET", lambda w: "/api/v1/batches/", everyone(200)),
    Endpoint(
        "batches.order",
        "POST",
        lambda w: "/api/v1/batches/",
        ORDER,
        lambda w: {"product_id": str(x(w, "product").id), "quantity": 3},
    ),
    Endpoint("batches.get", "GET", lambda w: f"/api/v1/batches/{x(w, 'batch').id}", MANAGE),
    Endpoint("batches.pdf", "GET", lambda w: f"/api/v1/batches/{x(w, 'batch').id}/pdf", MANAGE),
    Endpoint(
        "batches.void",
        "POST",
        lambda w: f"/api/v1/batches/{x(w, 'batch').id}/void",
        MANAGE,
        lambda w: {"reason": "Mất cuộn tem"},
    ),
    # --- counterfeit alerts
    Endpoint("alerts.list", "GET", lambda w: "/api/v1/alerts/", everyone(200)),
    Endpoint("alerts.get", "GET", lambda w: f"/api/v1/alerts/{x(w, 'alert').id}", OVERSIGHT),
    Endpoint(
        "alerts.get_nobodys",  # an invented code names no establishment: the administrator's
        "GET",
        lambda w: f"/api/v1/alerts/{x(w, 'alert_nobody').id}",
        everyone(404) | {"admin": 200, "service": 200},
    ),
    Endpoint(
        "alerts.status",
        "POST",
        lambda w: f"/api/v1/alerts/{x(w, 'alert').id}/status",
        JUDGE,
        lambda w: {"status": "dismissed", "note": "Quét thử"},
    ),
    Endpoint(
        "alerts.status_nobodys",
        "POST",
        lambda w: f"/api/v1/alerts/{x(w, 'alert_nobody').id}/status",
        everyone(404) | {"admin": 200, "service": 403},
        lambda w: {"status": "confirmed"},
    ),
    # --- consumers' problem reports
    Endpoint("reports.list", "GET", lambda w: "/api/v1/problem-reports/", everyone(200)),
    Endpoint(
        "reports.get", "GET", lambda w: f"/api/v1/problem-reports/{x(w, 'report').id}", OVERSIGHT
    ),
    Endpoint(
        "reports.get_nobodys",
        "GET",
        lambda w: f"/api/v1/problem-reports/{x(w, 'report_nobody').id}",
        everyone(404) | {"admin": 200, "service": 200},
    ),
    Endpoint(
        "reports.status",
        "POST",
        lambda w: f"/api/v1/problem-reports/{x(w, 'report').id}/status",
        JUDGE,
        lambda w: {"status": "in_review"},
    ),
    Endpoint(
        "reports.status_nobodys",
        "POST",
        lambda w: f"/api/v1/problem-reports/{x(w, 'report_nobody').id}/status",
        everyone(404) | {"admin": 200, "service": 403},
        lambda w: {"status": "closed", "note": "Không đủ thông tin"},
    ),
    # --- scan statistics
    Endpoint(
        "scans.establishment",
        "GET",
        lambda w: f"/api/v1/scans/establishments/{w.est_a.id}",
        MANAGE,
    ),
    Endpoint(
        "scans.product", "GET", lambda w: f"/api/v1/scans/products/{x(w, 'product').id}", MANAGE
    ),
    Endpoint(
        "scans.establishment_b",
        "GET",
        lambda w: f"/api/v1/scans/establishments/{w.est_b.id}",
        MANAGE_B,
    ),
    Endpoint(
        "scans.product_b",
        "GET",
        lambda w: f"/api/v1/scans/products/{x(w, 'product_b').id}",
        MANAGE_B,
    ),
    Endpoint(
        "scans.product_unknown",  # no code, label or scan of it here: unknown to everyone
        "GET",
        lambda w: f"/api/v1/scans/products/{uuid.uuid4()}",
        everyone(404),
    ),
    Endpoint("scans.summary", "GET", lambda w: "/api/v1/scans/summary", everyone(200)),
    Endpoint(
        "scans.summary_products",
        "GET",
        lambda w: "/api/v1/scans/summary?group=product",
        everyone(200),
    ),
    # --- resolve: the trace page as JSON (public)
    Endpoint(
        "resolve.any", "GET", lambda w: f"/api/v1/resolve?path=/q/{x(w, 'serial')}", public(200)
    ),
    Endpoint("resolve.short", "GET", lambda w: f"/api/v1/resolve/q/{x(w, 'serial')}", public(200)),
    Endpoint(
        "resolve.digital_link",
        "GET",
        lambda w: f"/api/v1/resolve/01/{GTIN}/10/CX-1",
        public(200),
    ),
    # --- service-to-service (service tokens only; people, the administrator included: 403)
    Endpoint(
        "internal.indicators",
        "GET",
        lambda w: "/api/v1/internal/indicators?from=2026-01-01&to=2026-12-31",
        everyone(403) | {"service": 200},
    ),
    # --- the public pages (a token changes nothing)
    Endpoint("page.short", "GET", lambda w: f"/q/{x(w, 'serial')}", public(200)),
    Endpoint("page.short_post", "POST", lambda w: f"/q/{x(w, 'serial')}", public(405)),
    Endpoint("page.report_form", "GET", lambda w: f"/q/{x(w, 'serial')}/report", public(200)),
    Endpoint(
        "page.report",
        "POST",
        lambda w: f"/q/{x(w, 'serial')}/report",
        public(201),
        form=_report_form,
    ),
    Endpoint(
        "page.report_without_csrf",
        "POST",
        lambda w: f"/q/{x(w, 'serial')}/report",
        public(400),
        form=_forged_form,
    ),
    Endpoint("page.digital_link", "GET", lambda w: f"/01/{GTIN}/10/CX-1", public(200)),
    Endpoint(
        "page.digital_link_report",
        "POST",
        lambda w: f"/01/{GTIN}/10/CX-1/report",
        public(400),
        form=_forged_form,
    ),
    # --- service shell (public inside the network; the gateway decides what leaves it)
    Endpoint("healthz", "GET", lambda w: "/healthz", public(200)),
    Endpoint("readyz", "GET", lambda w: "/readyz", public(200)),
    Endpoint("openapi", "GET", lambda w: "/api/v1/openapi.json", public(200)),
    Endpoint("docs", "GET", lambda w: "/api/v1/docs", public(200)),
]

# Files, not data: the stylesheets and the Swagger UI's own assets.
NOT_IN_MATRIX = frozenset({"static", "shared_web.static", "docs_asset"})
# The logged-in pages: every role × scope in tests/labels/test_pages_*.py and
# tests/web/test_page_matrix.py.
PAGES = "labels_pages."


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_matrix(lclient: Any, mworld: MWorld, endpoint: Endpoint, caller: str) -> None:
    headers = mworld.headers(caller)
    path = endpoint.path(mworld)
    if endpoint.form is not None:
        data = endpoint.form(lclient, mworld, headers)
        response = lclient.open(path, method=endpoint.method, headers=headers, data=data)
    else:
        response = lclient.open(
            path, method=endpoint.method, headers=headers, json=endpoint.body(mworld)
        )
    response.close()  # downloads keep their file open until closed
    detail = response.get_json(silent=True) or response.status
    assert response.status_code == endpoint.expect[caller], detail


def test_the_matrix_names_every_caller() -> None:
    for endpoint in ENDPOINTS:
        assert set(endpoint.expect) == set(CALLERS), endpoint.name


def test_every_route_is_in_the_matrix(labels_app: Any, mworld: MWorld) -> None:
    """A new route (or a new method of one) must be added to the matrix to pass."""
    adapter = labels_app.url_map.bind("localhost")
    covered = set()
    for endpoint in ENDPOINTS:
        name, _ = adapter.match(endpoint.path(mworld).split("?")[0], method=endpoint.method)
        covered.add((name, endpoint.method))
    routes = {
        (rule.endpoint, method)
        for rule in labels_app.url_map.iter_rules()
        if rule.endpoint not in NOT_IN_MATRIX and not rule.endpoint.startswith(PAGES)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    missing = routes - covered
    assert not missing, f"routes missing from the authorisation matrix: {sorted(missing)}"


# --- what each caller's lists hold ----------------------------------------------------------

A, B, NOBODY = "a", "b", "nobody"
SEES: dict[str, set[str]] = {
    "admin": {A, B, NOBODY},
    "agency_a": {A},
    "agency_b": {B},
    "owner_a": {A},
    "owner_a2": set(),
    "owner_b": {B},
    "service": {A, B, NOBODY},
}
LISTS = {
    "/api/v1/codes/": {A: "code", B: "code_b"},
    "/api/v1/batches/": {A: "batch", B: "batch_b"},
    "/api/v1/alerts/": {A: "alert", B: "alert_b", NOBODY: "alert_nobody"},
    "/api/v1/problem-reports/": {A: "report", B: "report_b", NOBODY: "report_nobody"},
}


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "anonymous"])
@pytest.mark.parametrize("url", sorted(LISTS))
def test_lists_hold_exactly_the_callers_scope(
    lclient: Any, mworld: MWorld, url: str, caller: str
) -> None:
    """Establishment A never sees B's rows in a list, nor a neighbour's agency A's."""
    response = lclient.get(url, headers=mworld.headers(caller))
    assert response.status_code == 200
    expected = {str(x(mworld, name).id) for who, name in LISTS[url].items() if who in SEES[caller]}
    assert {row["id"] for row in response.json} == expected


@pytest.mark.parametrize("caller", [c for c in CALLERS if c != "anonymous"])
def test_scan_summary_holds_exactly_the_callers_scope(
    lclient: Any, mworld: MWorld, caller: str
) -> None:
    ids = {A: {str(mworld.est_a.id)}, B: {str(mworld.est_b.id)}, NOBODY: set()}
    products = {A: {str(x(mworld, "product").id)}, B: {str(x(mworld, "product_b").id)}}
    headers = mworld.headers(caller)
    by_est = lclient.get("/api/v1/scans/summary", headers=headers).json
    assert {row["id"] for row in by_est} == set().union(*(ids[s] for s in SEES[caller]))
    by_product = lclient.get("/api/v1/scans/summary?group=product", headers=headers).json
    expected = set().union(*(products.get(s, set()) for s in SEES[caller]))
    assert {row["id"] for row in by_product} == expected


def test_an_establishment_never_sees_the_reporters_contact(lclient: Any, mworld: MWorld) -> None:
    url = f"/api/v1/problem-reports/{x(mworld, 'report').id}"
    assert lclient.get(url, headers=mworld.headers("owner_a")).json["contact"] is None
    assert lclient.get(url, headers=mworld.headers("agency_a")).json["contact"] == "0912 000 111"
