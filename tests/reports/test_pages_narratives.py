"""The narrative page (`/reports/narratives`): the unit's own officers write and submit before
the deadline (with a confirmation), lateness, the lock after the deadline, a colleague's save
in between, who may read and who may write, the sub-units' state and the reminders."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.reports.models import Narrative, Reminder
from tests.products.factories import mint_token

pytestmark = pytest.mark.smoke

FUTURE = "kind=quarterly&year=2099&quarter=2"
PAST = "kind=quarterly&year=2020&quarter=1"
TEXT = {
    "done": "Cấp 40 tài khoản cho cơ sở chè.",
    "not_done": "Chưa cấp đủ cho cơ sở ký cam kết.",
    "reasons": "Cơ sở nhỏ lẻ.",
    "proposals": "Tập huấn tại xã.",
}


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


def stored(rworld: Any, unit: Any, year: int = 2099, quarter: int = 2) -> Narrative | None:
    session = rworld.sessions["reports"]
    session.expire_all()
    return (
        session.query(Narrative)
        .filter_by(unit_id=unit.id, kind="quarterly", year=year, quarter=quarter)
        .one_or_none()
    )


def test_anonymous_goes_to_the_login_page(rclient: Any, rworld: Any) -> None:
    response = rclient.get("/narratives")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login?next=/narratives")


@pytest.mark.parametrize("who", ["owner_a", "owner_b"])
def test_establishments_are_refused(rclient: Any, rworld: Any, who: str) -> None:
    login(rclient, rworld, who)
    assert rclient.get("/narratives").status_code == 403
    token = csrf(rclient)
    response = rclient.post(f"/narratives?{FUTURE}", data={"_csrf": token, **TEXT})
    assert response.status_code == 403


def test_save_a_draft_then_submit(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a1")
    page = rclient.get(f"/narratives?{FUTURE}")
    assert page.status_code == 200
    assert "Xã Quảng Tân" in page.text
    assert "trước ngày 15/06/2099" in page.text
    assert "Huyện Bình Liêu" not in page.text
    token = csrf(rclient)
    draft = rclient.post(
        f"/narratives?{FUTURE}", data={"_csrf": token, "version": "0", "action": "draft", **TEXT}
    )
    assert draft.status_code == 303
    narrative = stored(rworld, rworld.unit_a1)
    assert narrative is not None
    assert (narrative.status, narrative.version, narrative.done) == ("draft", 1, TEXT["done"])
    after = rclient.get(draft.headers["Location"])
    assert "Đã lưu bản nháp." in after.text
    assert TEXT["reasons"] in after.text  # the form is filled with what was saved

    submitted = rclient.post(
        f"/narratives?{FUTURE}", data={"_csrf": token, "version": "1", "action": "submit", **TEXT}
    )
    assert submitted.status_code == 303
    narrative = stored(rworld, rworld.unit_a1)
    assert narrative is not None
    assert narrative.status == "submitted"
    assert "Đã nộp thuyết minh." in rclient.get(submitted.headers["Location"]).text


def test_submitting_empty_is_refused_next_to_the_field(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a1")
    token = csrf(rclient)
    response = rclient.post(
        f"/narratives?{FUTURE}",
        data={"_csrf": token, "version": "0", "action": "submit", "reasons": "Giữ lại lý do"},
    )
    assert response.status_code == 422
    assert 'id="done-error"' in response.text
    assert "Cần nêu việc đã làm được" in response.text
    assert "Giữ lại lý do" in response.text  # nothing lost
    assert stored(rworld, rworld.unit_a1) is None


def test_a_colleagues_save_in_between_is_not_overwritten(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a1")
    token = csrf(rclient)
    rclient.post(f"/narratives?{FUTURE}", data={"_csrf": token, "version": "0", **TEXT})
    stale = rclient.post(
        f"/narratives?{FUTURE}",
        data={"_csrf": token, "version": "0", **TEXT, "done": "Bản của tôi"},
    )
    assert stale.status_code == 422
    assert "Một đồng nghiệp vừa lưu" in stale.text
    assert "Bản của tôi" in stale.text
    narrative = stored(rworld, rworld.unit_a1)
    assert narrative is not None
    assert narrative.done == TEXT["done"]


def test_too_long_a_text_is_refused(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_a1")
    token = csrf(rclient)
    response = rclient.post(
        f"/narratives?{FUTURE}", data={"_csrf": token, "version": "0", "proposals": "x" * 20_001}
    )
    assert response.status_code == 422
    assert 'id="proposals-error"' in response.text


def test_late_submission_is_marked_and_then_locked(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_b")
    page = rclient.get(f"/narratives?{PAST}").text
    assert "Đã quá hạn nộp" in page
    token = csrf(rclient)
    response = rclient.post(
        f"/narratives?{PAST}", data={"_csrf": token, "version": "0", "action": "submit", **TEXT}
    )
    assert response.status_code == 303
    narrative = stored(rworld, rworld.unit_b, 2020, 1)
    assert narrative is not None
    assert narrative.status == "submitted"
    page = rclient.get(f"/narratives?{PAST}").text
    assert "Muộn" in page
    assert "không sửa được nữa" in page
    assert 'name="action"' not in page  # no form once locked
    again = rclient.post(
        f"/narratives?{PAST}", data={"_csrf": token, "version": "1", "action": "draft", **TEXT}
    )
    assert again.status_code == 422
    assert "không sửa được nữa" in again.text


def test_a_district_reads_its_commune_but_does_not_write(rclient: Any, rworld: Any) -> None:
    rworld.sessions["reports"].add(
        Narrative(
            id=uuid.uuid4(),
            unit_id=rworld.unit_a1.id,
            kind="quarterly",
            year=2099,
            quarter=2,
            status="draft",
            version=1,
            **TEXT,
        )
    )
    rworld.sessions["reports"].commit()
    login(rclient, rworld, "agency_a")
    own = rclient.get(f"/narratives?{FUTURE}").text
    assert "Đơn vị trực thuộc" in own
    assert "Xã Quảng Tân" in own
    page = rclient.get(f"/narratives?{FUTURE}&unit_id={rworld.unit_a1.id}")
    assert page.status_code == 200
    assert TEXT["done"] in page.text
    assert "bạn chỉ xem" in page.text
    token = csrf(rclient)
    response = rclient.post(
        f"/narratives?{FUTURE}&unit_id={rworld.unit_a1.id}",
        data={"_csrf": token, "version": "1", **TEXT},
    )
    assert response.status_code == 403


def test_another_units_narrative_is_not_found(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "agency_b")
    response = rclient.get(f"/narratives?{FUTURE}&unit_id={rworld.unit_a1.id}")
    assert response.status_code == 404
    assert "Xã Quảng Tân" not in response.text
    token = csrf(rclient)
    response = rclient.post(
        f"/narratives?{FUTURE}&unit_id={rworld.unit_a1.id}", data={"_csrf": token, **TEXT}
    )
    assert response.status_code == 404


def test_the_administrator_writes_for_any_unit(rclient: Any, rworld: Any) -> None:
    login(rclient, rworld, "admin")
    token = csrf(rclient)
    response = rclient.post(
        f"/narratives?{FUTURE}&unit_id={rworld.unit_b.id}",
        data={"_csrf": token, "version": "0", **TEXT},
    )
    assert response.status_code == 303
    assert stored(rworld, rworld.unit_b) is not None


def test_the_reminders_sent_are_listed(rclient: Any, rworld: Any) -> None:
    rworld.sessions["reports"].add(
        Reminder(
            unit_id=rworld.unit_b.id,
            kind="quarterly",
            year=2099,
            quarter=2,
            sent_on=date(2099, 6, 8),
            due_at=datetime(2099, 6, 14, 17, tzinfo=UTC),
        )
    )
    rworld.sessions["reports"].commit()
    login(rclient, rworld, "agency_b")
    page = rclient.get(f"/narratives?{FUTURE}").text
    assert "08/06/2099" in page
    assert "hạn 15/06/2099" in page
    login(rclient, rworld, "agency_a")
    assert "08/06/2099" not in rclient.get(f"/narratives?{FUTURE}").text
