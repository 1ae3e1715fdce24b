"""The scan statistics page (/labels/stats) and the counterfeit alerts and problem reports page
(/labels/alerts): each role and scope gets the right answer, nothing of another
establishment shows, the date filter's error path, and the status changes (reason and
confirmation, 303 + flash, audited; 422 without a reason; 403/404 outside the scope)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.labels.domain import cards
from services.labels.models import AuditEvent, CounterfeitAlert, LabelBatch, ProblemReport
from shared.clock import local_today
from tests.labels.test_alerts_api import _alert, _report, _scan
from tests.products.factories import ProductFactory

CSRF = "test-csrf-token"


@pytest.fixture(autouse=True)
def fresh_caches() -> Iterator[None]:
    cards.clear_memory()
    yield
    cards.clear_memory()


@dataclass
class Watch:
    world: Any
    product_a: Any
    product_b: Any
    alert_a: CounterfeitAlert
    alert_b: CounterfeitAlert
    alert_anonymous: CounterfeitAlert
    report_a: ProblemReport
    report_b: ProblemReport


def _batch(lsession: Any, product: Any, name: str, start: int) -> None:
    lsession.add(
        LabelBatch(
            id=uuid.uuid4(),
            number=f"TEM-ST-{start}",
            establishment_id=product.establishment_id,
            product_id=product.id,
            quantity=10,
            serial_start=start,
            serial_end=start + 9,
            template={},
            content={"product_name": name},
        )
    )


@pytest.fixture
def watch(lworld: Any, psession: Any, lsession: Any) -> Watch:
    product_a = ProductFactory(establishment_id=lworld.est_a.id, name="Chè Đường Hoa")
    product_b = ProductFactory(establishment_id=lworld.est_b.id, name="Miến dong Bình Liêu")
    psession.commit()
    _batch(lsession, product_a, "Chè Đường Hoa", 8_000_000)
    _batch(lsession, product_b, "Miến dong Bình Liêu", 8_100_000)
    now = datetime.now(UTC) - timedelta(minutes=30)
    _scan(lsession, product_a, now, place="20.9,107.0")
    _scan(lsession, product_a, now, place="21.0,107.1")
    _scan(lsession, product_a, now - timedelta(days=2), place="20.9,107.0", outcome="suspicious")
    _scan(lsession, product_a, now - timedelta(days=3))
    _scan(lsession, product_b, now, place="21.5,106.9")
    _scan(lsession, product_b, now)
    found = Watch(
        world=lworld,
        product_a=product_a,
        product_b=product_b,
        alert_a=_alert(lsession, "0000001-AAAA", "too_many_scans", lworld.est_a, product_a),
        alert_b=_alert(lsession, "0000002-BBBB", "void", lworld.est_b, product_b),
        alert_anonymous=_alert(lsession, "ZZZZZZZZZZ", "unknown", None, None),
        report_a=_report(
            lsession,
            "0000001-AAAA",
            lworld.est_a,
            product_a,
            message="Tem chè bị bong",
            contact="0912 111 222",
        ),
        report_b=_report(
            lsession,
            "0000002-BBBB",
            lworld.est_b,
            product_b,
            message="Miến bị mốc",
            contact="0987 333 444",
            kind="quality",
        ),
    )
    lsession.commit()
    return found


def login(client: Any, world: Any, who: str) -> Any:
    client.delete_cookie("trace_access")
    if who != "anonymous":
        client.set_cookie("trace_access", world.tokens[who])
    with client.session_transaction() as session:
        session["_csrf"] = CSRF
    return client


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def figures(html: str) -> list[str]:
    return re.findall(r'<div class="figure">([^<]*)</div>', html)


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<div class="error" id="{name}-error">([^<]*)</div>', html)
    return found.group(1) if found else ""


# --- statistics ------------------------------------------------------------------------------


def test_anonymous_goes_to_the_login(lclient: Any, watch: Watch) -> None:
    for path in ("/stats", "/alerts", "/alerts?tab=reports"):
        response = login(lclient, watch.world, "anonymous").get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/accounts/login?next=")


def test_an_establishment_sees_its_own_statistics(lclient: Any, watch: Watch) -> None:
    response = login(lclient, watch.world, "owner_a").get("/stats")
    assert response.status_code == 200
    html = text(response)
    # scans, suspicious, distinct places, open alerts
    assert figures(html) == ["4", "1", "2", "1"]
    assert "Chè Đường Hoa" in html
    assert "20.9,107.0" in html
    assert "Miến dong" not in html
    assert "21.5,106.9" not in html
    assert 'class="bars"' in html


def test_an_establishment_with_no_scans(lclient: Any, watch: Watch) -> None:
    html = text(login(lclient, watch.world, "owner_a2").get("/stats"))
    assert figures(html) == ["0", "0", "0", "0"]
    assert "Chè Đường Hoa" not in html
    assert "Miến dong" not in html


@pytest.mark.parametrize(
    ("who", "subject", "status"),
    [
        ("owner_a", "product_a", 200),
        ("owner_a", "product_b", 404),
        ("owner_a2", "product_a", 404),
        ("owner_a", "est_b", 404),
        ("agency_a", "est_a", 200),
        ("agency_a", "est_b", 404),
        ("agency_a", "product_b", 404),
        ("agency_b", "est_b", 200),
        ("agency_b", "product_a", 404),
        ("admin", "est_a", 200),
        ("admin", "product_b", 200),
    ],
)
def test_statistics_of_one_establishment_or_product(
    lclient: Any, watch: Watch, who: str, subject: str, status: int
) -> None:
    if subject.startswith("product"):
        path = f"/stats?product_id={getattr(watch, subject).id}"
    else:
        path = f"/stats?establishment_id={getattr(watch.world, subject).id}"
    response = login(lclient, watch.world, who).get(path)
    assert response.status_code == status
    html = text(response)
    if status == 404:
        assert "Chè Đường Hoa" not in html
        assert "Miến dong" not in html
        return
    a_side = subject in ("product_a", "est_a")
    assert figures(html)[0] == ("4" if a_side else "2")
    assert ("Chè Đường Hoa" in html) is a_side
    assert ("Miến dong" in html) is not a_side


@pytest.mark.parametrize(
    ("who", "sees_a", "sees_b"),
    [("admin", True, True), ("agency_a", True, False), ("agency_b", False, True)],
)
def test_agencies_see_a_summary_of_their_units(
    lclient: Any, watch: Watch, who: str, sees_a: bool, sees_b: bool
) -> None:
    client = login(lclient, watch.world, who)
    html = text(client.get("/stats"))
    assert (watch.world.est_a.name in html) is sees_a
    assert (watch.world.est_b.name in html) is sees_b
    assert (f"establishment_id={watch.world.est_a.id}" in html) is sees_a
    html = text(client.get("/stats?group=product"))
    assert ("Chè Đường Hoa" in html) is sees_a
    assert ("Miến dong Bình Liêu" in html) is sees_b
    assert (f"product_id={watch.product_a.id}" in html) is sees_a


def test_the_date_range(lclient: Any, watch: Watch) -> None:
    client = login(lclient, watch.world, "owner_a")
    today = local_today()  # the page reads its range in Asia/Ho_Chi_Minh days
    html = text(
        client.get(f"/stats?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}")
    )
    assert figures(html)[0] == "2"  # the older scans are outside
    assert 'value="' + str(today - timedelta(days=1)) + '"' in html  # the range kept


@pytest.mark.parametrize(
    "query",
    ["from=yesterday", "from=2026-12-10&to=2026-12-01", "from=2024-01-01&to=2026-01-01"],
)
def test_a_wrong_date_range_is_shown_next_to_the_field(
    lclient: Any, watch: Watch, query: str
) -> None:
    response = login(lclient, watch.world, "agency_a").get(f"/stats?{query}")
    assert response.status_code == 422
    html = text(response)
    assert field_error(html, "from")
    assert 'class="alert"' in html


# --- alerts and reports ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner_a", "owner_b"])
def test_establishments_do_not_get_the_alerts_page(lclient: Any, watch: Watch, who: str) -> None:
    client = login(lclient, watch.world, who)
    assert client.get("/alerts").status_code == 403
    assert client.get("/alerts?tab=reports").status_code == 403
    response = client.post(
        f"/alerts/{watch.alert_a.id}/status",
        data={"_csrf": CSRF, "status": "dismissed", "reason": "Không phải hàng giả"},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("admin", {"0000001-AAAA", "0000002-BBBB", "ZZZZZZZZZZ"}),
        ("agency_a", {"0000001-AAAA"}),
        ("agency_b", {"0000002-BBBB"}),
    ],
)
def test_alerts_in_scope(lclient: Any, watch: Watch, who: str, expected: set[str]) -> None:
    response = login(lclient, watch.world, who).get("/alerts")
    assert response.status_code == 200
    html = text(response)
    shown = {c for c in ("0000001-AAAA", "0000002-BBBB", "ZZZZZZZZZZ") if c in html}
    assert shown == expected
    assert (watch.world.est_b.name in html) is ("0000002-BBBB" in expected)
    # Actions for each alert shown.
    assert html.count('name="status" value="confirmed"') == len(expected)


@pytest.mark.parametrize(
    ("who", "sees_a", "sees_b"),
    [("admin", True, True), ("agency_a", True, False), ("agency_b", False, True)],
)
def test_problem_reports_in_scope(
    lclient: Any, watch: Watch, who: str, sees_a: bool, sees_b: bool
) -> None:
    html = text(login(lclient, watch.world, who).get("/alerts?tab=reports"))
    assert ("Tem chè bị bong" in html) is sees_a
    assert ("0912 111 222" in html) is sees_a  # the reporter's contact, for the authority
    assert ("Miến bị mốc" in html) is sees_b
    assert ("0987 333 444" in html) is sees_b


def test_the_status_filter(lclient: Any, watch: Watch, lsession: Any) -> None:
    client = login(lclient, watch.world, "admin")
    assert "0000001-AAAA" not in text(client.get("/alerts?status=dismissed"))
    assert "0000001-AAAA" in text(client.get("/alerts?status=open"))
    assert "Tem chè bị bong" not in text(client.get("/alerts?tab=reports&status=closed"))


def test_confirming_an_alert(lclient: Any, watch: Watch, lsession: Any) -> None:
    client = login(lclient, watch.world, "agency_a")
    response = client.post(
        f"/alerts/{watch.alert_a.id}/status?tab=alerts",
        data={"_csrf": CSRF, "status": "confirmed", "reason": "Đã kiểm tra tại chợ"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/alerts?tab=alerts")
    lsession.expire_all()
    alert = lsession.get(CounterfeitAlert, watch.alert_a.id)
    assert alert.status == "confirmed"
    assert alert.note == "Đã kiểm tra tại chợ"
    event = lsession.query(AuditEvent).filter_by(action="alert.confirmed").one()
    assert event.reason == "Đã kiểm tra tại chợ"
    html = text(client.get(response.headers["Location"]))
    assert "Đã cập nhật trạng thái." in html
    assert "Đã xác nhận hàng giả" in html


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"status": "dismissed", "reason": ""}, "reason"),
        ({"status": "dismissed", "reason": "   "}, "reason"),
        ({"status": "burned", "reason": "Thử"}, "status"),
    ],
)
def test_a_status_change_needs_a_reason_and_a_status(
    lclient: Any, watch: Watch, lsession: Any, form: dict[str, str], field: str
) -> None:
    client = login(lclient, watch.world, "agency_a")
    response = client.post(f"/alerts/{watch.alert_a.id}/status", data={"_csrf": CSRF, **form})
    assert response.status_code == 422
    html = text(response)
    assert 'class="alert"' in html
    assert "0000001-AAAA" in html  # the list again
    lsession.expire_all()
    assert lsession.get(CounterfeitAlert, watch.alert_a.id).status == "open"
    assert lsession.query(AuditEvent).count() == 0


@pytest.mark.parametrize(
    ("who", "target", "status"),
    [
        ("agency_b", "alert_a", 404),
        ("agency_a", "alert_b", 404),
        ("agency_a", "alert_anonymous", 404),
        ("admin", "alert_anonymous", 303),
        ("admin", "alert_b", 303),
    ],
)
def test_who_may_change_an_alert(
    lclient: Any, watch: Watch, lsession: Any, who: str, target: str, status: int
) -> None:
    alert = getattr(watch, target)
    response = login(lclient, watch.world, who).post(
        f"/alerts/{alert.id}/status",
        data={"_csrf": CSRF, "status": "dismissed", "reason": "Không phải hàng giả"},
    )
    assert response.status_code == status
    lsession.expire_all()
    assert lsession.get(CounterfeitAlert, alert.id).status == (
        "dismissed" if status == 303 else "open"
    )


def test_a_status_change_without_the_csrf_token_is_refused(
    lclient: Any, watch: Watch, lsession: Any
) -> None:
    response = login(lclient, watch.world, "agency_a").post(
        f"/alerts/{watch.alert_a.id}/status", data={"status": "dismissed", "reason": "Thử"}
    )
    assert response.status_code == 400
    lsession.expire_all()
    assert lsession.get(CounterfeitAlert, watch.alert_a.id).status == "open"


def test_handling_a_problem_report(lclient: Any, watch: Watch, lsession: Any) -> None:
    client = login(lclient, watch.world, "agency_a")
    url = f"/alerts/reports/{watch.report_a.id}/status?tab=reports"
    response = client.post(
        url, data={"_csrf": CSRF, "status": "in_review", "reason": "Giao cán bộ xã kiểm tra"}
    )
    assert response.status_code == 303
    response = client.post(
        url, data={"_csrf": CSRF, "status": "closed", "reason": "Tem thật, đã hướng dẫn cơ sở"}
    )
    assert response.status_code == 303
    lsession.expire_all()
    report = lsession.get(ProblemReport, watch.report_a.id)
    assert report.status == "closed"
    assert report.handled_note == "Tem thật, đã hướng dẫn cơ sở"
    actions = {e.action for e in lsession.query(AuditEvent).all()}
    assert actions == {"problem_report.in_review", "problem_report.closed"}
    html = text(client.get(response.headers["Location"]))
    assert "Đã cập nhật trạng thái." in html
    assert "Tem thật, đã hướng dẫn cơ sở" in html
    # Without a reason: 422, nothing changes; another unit's report: 404.
    refused = client.post(url, data={"_csrf": CSRF, "status": "new", "reason": ""})
    assert refused.status_code == 422
    other = client.post(
        f"/alerts/reports/{watch.report_b.id}/status",
        data={"_csrf": CSRF, "status": "closed", "reason": "Thử"},
    )
    assert other.status_code == 404
    lsession.expire_all()
    assert lsession.get(ProblemReport, watch.report_b.id).status == "new"


def test_the_pages_in_english(lclient: Any, watch: Watch) -> None:
    client = login(lclient, watch.world, "agency_a")
    html = text(client.get("/alerts?lang=en"))
    assert "Counterfeit alerts" in html
    assert "One label scanned too many times" in html
    html = text(client.get("/stats?lang=en"))
    assert "Scan statistics" in html
    assert "By establishment" in html
