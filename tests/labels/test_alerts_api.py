"""The agencies' side: counterfeit alerts, problem reports and scan statistics — content,
filters, status changes (audited). Every route × every caller: tests/labels/test_authz_matrix.py;
Schemathesis: tests/labels/test_openapi_fuzz.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.labels.domain import cards
from services.labels.models import AuditEvent, CounterfeitAlert, ProblemReport, QrCode, Scan
from tests.products.factories import ProductFactory

pytestmark = pytest.mark.smoke


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    cards.clear_memory()
    yield
    cards.clear_memory()


@dataclass
class Oversight:
    world: Any
    product_a: Any
    product_b: Any
    alert_a: CounterfeitAlert
    alert_b: CounterfeitAlert
    alert_anonymous: CounterfeitAlert
    report_a: ProblemReport
    report_b: ProblemReport
    report_anonymous: ProblemReport


def _alert(lsession: Any, code: str, reason: str, est: Any, product: Any, **kw: Any) -> Any:
    now = datetime.now(UTC)
    alert = CounterfeitAlert(
        id=uuid.uuid4(),
        code=code,
        reason=reason,
        establishment_id=est.id if est else None,
        unit_path=est.unit_path if est else None,
        product_id=product.id if product else None,
        scans=kw.pop("scans", 25),
        places=kw.pop("places", ["20.9,107.0"]),
        first_seen=kw.pop("first_seen", now - timedelta(hours=2)),
        last_seen=kw.pop("last_seen", now),
        status=kw.pop("status", "open"),
        **kw,
    )
    lsession.add(alert)
    return alert


def _report(lsession: Any, code: str, est: Any, product: Any, **kw: Any) -> Any:
    report = ProblemReport(
        id=uuid.uuid4(),
        code=code,
        kind=kw.pop("kind", "suspected_fake"),
        message=kw.pop("message", "Tem khác màu"),
        contact=kw.pop("contact", "0912 000 111"),
        place_text="Chợ Cái Rồng",
        product_id=product.id if product else None,
        establishment_id=est.id if est else None,
        unit_path=est.unit_path if est else None,
        status="new",
        **kw,
    )
    lsession.add(report)
    return report


def _scan(lsession: Any, product: Any, at: datetime, **kw: Any) -> None:
    lsession.add(
        Scan(
            at=at,
            level=kw.pop("level", "item"),
            code=kw.pop("code", "0000001-ABCD"),
            serial=kw.pop("serial", 1),
            product_id=product.id,
            establishment_id=product.establishment_id,
            place=kw.pop("place", None),
            ua_class=kw.pop("ua_class", "mobile"),
            outcome=kw.pop("outcome", "ok"),
        )
    )


@pytest.fixture
def oversight(lworld: Any, psession: Any, lsession: Any) -> Oversight:
    product_a = ProductFactory(establishment_id=lworld.est_a.id, name="Chè Đường Hoa")
    product_b = ProductFactory(establishment_id=lworld.est_b.id, name="Miến dong")
    psession.commit()
    for product in (product_a, product_b):
        lsession.add(
            QrCode(
                id=uuid.uuid4(),
                code=uuid.uuid4().hex[:10].upper(),
                level="product",
                establishment_id=product.establishment_id,
                product_id=product.id,
            )
        )
    found = Oversight(
        world=lworld,
        product_a=product_a,
        product_b=product_b,
        alert_a=_alert(lsession, "0000001-AAAA", "too_many_scans", lworld.est_a, product_a),
        alert_b=_alert(
            lsession, "0000002-BBBB", "void", lworld.est_b, product_b, status="dismissed"
        ),
        alert_anonymous=_alert(lsession, "ZZZZZZZZZZ", "unknown", None, None),
        report_a=_report(lsession, "0000001-AAAA", lworld.est_a, product_a),
        report_b=_report(lsession, "0000002-BBBB", lworld.est_b, product_b, kind="quality"),
        report_anonymous=_report(lsession, "ZZZZZZZZZZ", None, None),
    )
    lsession.commit()
    return found


def _ids(response: Any) -> set[str]:
    return {item["id"] for item in response.json}


# --- alerts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", {"alert_a", "alert_b", "alert_anonymous"}),
        ("agency_a", {"alert_a"}),
        ("agency_b", {"alert_b"}),
        ("owner_a", {"alert_a"}),
        ("owner_a2", set()),
        ("owner_b", {"alert_b"}),
    ],
)
def test_alerts_are_listed_in_scope(
    lclient: Any, oversight: Oversight, who: str, expected: set[str]
) -> None:
    response = lclient.get("/api/v1/alerts/", headers=oversight.world.headers(who))
    assert response.status_code == 200
    assert _ids(response) == {str(getattr(oversight, name).id) for name in expected}
    assert response.headers["X-Pagination"]


def test_alert_content_and_filters(lclient: Any, oversight: Oversight) -> None:
    headers = oversight.world.headers("admin")
    body = lclient.get("/api/v1/alerts/?reason=too_many_scans", headers=headers).json
    assert [a["code"] for a in body] == ["0000001-AAAA"]
    alert = body[0]
    assert alert["establishment_name"] == oversight.world.est_a.name
    assert alert["scans"] == 25
    assert alert["places"] == ["20.9,107.0"]
    assert alert["status"] == "open"
    assert "unit_path" not in alert
    assert _ids(lclient.get("/api/v1/alerts/?status=dismissed", headers=headers)) == {
        str(oversight.alert_b.id)
    }
    by_owner = lclient.get(
        f"/api/v1/alerts/?establishment_id={oversight.world.est_b.id}", headers=headers
    )
    assert _ids(by_owner) == {str(oversight.alert_b.id)}
    assert lclient.get("/api/v1/alerts/?status=nonsense", headers=headers).status_code == 422


def test_agency_confirms_an_alert_with_a_note_audited(
    lclient: Any, oversight: Oversight, lsession: Any
) -> None:
    response = lclient.post(
        f"/api/v1/alerts/{oversight.alert_a.id}/status",
        json={"status": "confirmed", "note": "Đã kiểm tra tại chợ: tem bị sao chép"},
        headers=oversight.world.headers("agency_a"),
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "confirmed"
    assert response.json["note"] == "Đã kiểm tra tại chợ: tem bị sao chép"
    event = lsession.query(AuditEvent).filter_by(action="alert.confirmed").one()
    assert event.entity_id == oversight.alert_a.id
    assert event.data == {
        "from": "open",
        "to": "confirmed",
        "code": "0000001-AAAA",
        "reason": "too_many_scans",
    }
    bad = lclient.post(
        f"/api/v1/alerts/{oversight.alert_a.id}/status",
        json={"status": "closed"},
        headers=oversight.world.headers("agency_a"),
    )
    assert bad.status_code == 422


# --- problem reports ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", {"report_a", "report_b", "report_anonymous"}),
        ("agency_a", {"report_a"}),
        ("agency_b", {"report_b"}),
        ("owner_a", {"report_a"}),
        ("owner_a2", set()),
        ("owner_b", {"report_b"}),
    ],
)
def test_reports_are_listed_in_scope(
    lclient: Any, oversight: Oversight, who: str, expected: set[str]
) -> None:
    response = lclient.get("/api/v1/problem-reports/", headers=oversight.world.headers(who))
    assert response.status_code == 200
    assert _ids(response) == {str(getattr(oversight, name).id) for name in expected}


def test_the_reporters_contact_is_for_the_authority_only(
    lclient: Any, oversight: Oversight, lsession: Any
) -> None:
    path = f"/api/v1/problem-reports/{oversight.report_a.id}"
    assert lclient.get(path, headers=oversight.world.headers("agency_a")).json["contact"] == (
        "0912 000 111"
    )
    assert lclient.get(path, headers=oversight.world.headers("owner_a")).json["contact"] is None
    listed = lclient.get("/api/v1/problem-reports/", headers=oversight.world.headers("owner_a"))
    assert [r["contact"] for r in listed.json] == [None]
    lsession.expire_all()
    assert lsession.get(ProblemReport, oversight.report_a.id).contact == "0912 000 111"


def test_agency_moves_a_report_along(lclient: Any, oversight: Oversight, lsession: Any) -> None:
    path = f"/api/v1/problem-reports/{oversight.report_b.id}/status"
    headers = oversight.world.headers("agency_b")
    review = lclient.post(path, json={"status": "in_review"}, headers=headers)
    assert review.status_code == 200
    closed = lclient.post(
        path, json={"status": "closed", "note": "Đã làm việc với cơ sở"}, headers=headers
    )
    assert closed.json["status"] == "closed"
    assert closed.json["handled_note"] == "Đã làm việc với cơ sở"
    assert lsession.query(AuditEvent).filter_by(entity_id=oversight.report_b.id).count() == 2
    filtered = lclient.get(
        "/api/v1/problem-reports/?status=closed", headers=oversight.world.headers("admin")
    )
    assert _ids(filtered) == {str(oversight.report_b.id)}


# --- scan statistics ------------------------------------------------------------------------


def test_scan_statistics_per_establishment_and_product(
    lclient: Any, oversight: Oversight, lsession: Any
) -> None:
    now = datetime.now(UTC)
    a, b = oversight.product_a, oversight.product_b
    _scan(lsession, a, now, place="20.9,107.0")
    _scan(lsession, a, now, place="20.9,107.0", ua_class="desktop")
    _scan(lsession, a, now - timedelta(days=1), outcome="suspicious", place="21.0,105.8")
    _scan(lsession, a, now - timedelta(days=2), level="product", ua_class="app")
    _scan(lsession, a, now - timedelta(days=40))  # outside the default 30 days
    _scan(lsession, b, now)
    lsession.commit()
    headers = oversight.world.headers("owner_a")
    body = lclient.get(
        f"/api/v1/scans/establishments/{oversight.world.est_a.id}", headers=headers
    ).json
    assert body["total"] == 4
    assert body["by_outcome"] == {"ok": 3, "suspicious": 1}
    assert body["by_ua_class"] == {"mobile": 2, "desktop": 1, "app": 1}
    assert body["by_level"] == {"item": 3, "product": 1}
    assert body["top_places"][0] == {"key": "20.9,107.0", "scans": 2}
    assert body["top_products"] == [{"key": str(a.id), "scans": 4}]
    assert sum(d["scans"] for d in body["by_day"]) == 4
    assert sum(d["suspicious"] for d in body["by_day"]) == 1
    assert len(body["by_day"]) in {3, 4}  # around local midnight a day may split
    assert body["open_alerts"] == 1
    since = (now - timedelta(days=60)).date().isoformat()
    product = lclient.get(f"/api/v1/scans/products/{a.id}?from={since}", headers=headers)
    assert product.json["total"] == 5
    assert product.json["subject"] == "product"
    too_long = lclient.get(f"/api/v1/scans/products/{a.id}?from=2000-01-01&to=2026-12-31")
    assert too_long.status_code in {401, 422}
    bad = lclient.get(
        f"/api/v1/scans/products/{a.id}?from=2000-01-01&to=2026-12-31", headers=headers
    )
    assert bad.status_code == 422
    summary = lclient.get("/api/v1/scans/summary", headers=oversight.world.headers("admin")).json
    assert [(row["name"], row["total"], row["suspicious"]) for row in summary] == [
        (oversight.world.est_a.name, 4, 1),
        (oversight.world.est_b.name, 1, 0),
    ]
    mine = lclient.get("/api/v1/scans/summary?group=product", headers=headers).json
    assert [(row["id"], row["total"]) for row in mine] == [(str(a.id), 4)]
    unknown_product = lclient.get(f"/api/v1/scans/products/{uuid.uuid4()}", headers=headers)
    assert unknown_product.status_code == 404
