"""Narratives: written by the unit's own officers before the deadline, lateness, the lock
after the deadline, If-Match, scope, reminders once per day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.reports.domain import narratives
from services.reports.domain.periods import Period
from services.reports.models import Narrative, Reminder
from shared.errors import Conflict

pytestmark = pytest.mark.smoke

TEXT = {
    "done": "Cấp 40 tài khoản cho cơ sở chè, miến dong.",
    "not_done": "Chưa cấp đủ cho cơ sở ký cam kết.",
    "reasons": "Cơ sở nhỏ lẻ chưa có điện thoại thông minh.",
    "proposals": "Đề nghị hỗ trợ tập huấn tại xã.",
}


def _url(unit: Any, kind: str = "quarterly", year: int = 2099, quarter: int = 2) -> str:
    return f"/api/v1/narratives/{unit.id}/{kind}/{year}/{quarter}"


def test_write_then_submit_before_the_deadline(rclient: Any, rworld: Any) -> None:
    headers = rworld.headers("agency_a1")
    draft = rclient.put(_url(rworld.unit_a1), json=TEXT, headers=headers)
    assert draft.status_code == 200, draft.json
    assert (draft.json["status"], draft.json["version"], draft.json["late"]) == ("draft", 1, False)
    assert draft.json["due_at"] == "2099-06-15T00:00:00+07:00"

    stale = rclient.put(
        _url(rworld.unit_a1), json={**TEXT, "submit": True}, headers={**headers, "If-Match": '"0"'}
    )
    assert stale.status_code == 412
    submitted = rclient.put(
        _url(rworld.unit_a1), json={**TEXT, "submit": True}, headers={**headers, "If-Match": '"1"'}
    )
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "submitted"
    assert submitted.json["submitted_at"]

    # The district sees its commune's narrative and the deadline table.
    district = rworld.headers("agency_a")
    assert rclient.get(_url(rworld.unit_a1), headers=district).json["done"] == TEXT["done"]
    table = rclient.get(
        "/api/v1/narratives/",
        query_string={"kind": "quarterly", "year": 2099, "quarter": 2},
        headers=district,
    ).json
    states = {u["unit_code"]: u["status"] for u in table["units"]}
    assert states == {"DIST-A": "missing", "COMM-A1": "submitted"}
    assert table["overdue"] is False
    assert table["late_units"] == []


def test_only_the_units_own_officers_write(rclient: Any, rworld: Any) -> None:
    # The parent district reads but does not write its commune's words.
    assert (
        rclient.put(_url(rworld.unit_a1), json=TEXT, headers=rworld.headers("agency_a")).status_code
        == 403
    )
    # Another district does not even see the unit.
    assert (
        rclient.put(_url(rworld.unit_a1), json=TEXT, headers=rworld.headers("agency_b")).status_code
        == 404
    )
    assert rclient.get(_url(rworld.unit_a1), headers=rworld.headers("agency_b")).status_code == 404
    assert (
        rclient.put(_url(rworld.unit_a1), json=TEXT, headers=rworld.headers("owner_a")).status_code
        == 403
    )
    assert rclient.put(_url(rworld.unit_a1), json=TEXT).status_code == 401
    # The administrator may write for any unit.
    assert (
        rclient.put(_url(rworld.unit_a1), json=TEXT, headers=rworld.headers("admin")).status_code
        == 200
    )


def test_bad_input(rclient: Any, rworld: Any) -> None:
    headers = rworld.headers("agency_a1")
    empty = rclient.put(_url(rworld.unit_a1), json={"submit": True}, headers=headers)
    assert empty.status_code == 422
    assert "done" in empty.json["errors"]
    long = rclient.put(_url(rworld.unit_a1), json={"done": "x" * 20_001}, headers=headers)
    assert long.status_code == 422
    assert (
        rclient.put(_url(rworld.unit_a1, quarter=5), json=TEXT, headers=headers).status_code == 422
    )
    assert (
        rclient.put(_url(rworld.unit_a1, kind="monthly"), json=TEXT, headers=headers).status_code
        == 422
    )
    assert (
        rclient.put(
            _url(rworld.unit_a1, kind="annual", quarter=1), json=TEXT, headers=headers
        ).status_code
        == 422
    )
    assert rclient.get(_url(rworld.unit_a1), headers=headers).status_code == 404


def test_late_and_locked(rsession: Any, rworld: Any) -> None:
    from shared.auth import Principal

    officer = Principal(role="agency", username="canbo.a1", unit_id=rworld.unit_a1.id)
    period = Period.of("quarterly", 2024, 1)
    before = datetime(2024, 3, 14, 16, 59, tzinfo=UTC)  # 23:59 on the 14th, Hà Nội
    after = datetime(2024, 3, 14, 17, 1, tzinfo=UTC)  # 00:01 on the 15th
    on_time = narratives.save(
        rsession,
        officer,
        rworld.unit_a1.id,
        period,
        TEXT,
        submit=True,
        expected_version=None,
        now=before,
    )
    assert narratives.is_late(on_time, period, after) is False
    with pytest.raises(Conflict) as caught:
        narratives.save(
            rsession,
            officer,
            rworld.unit_a1.id,
            period,
            TEXT,
            submit=True,
            expected_version=None,
            now=after,
        )
    assert getattr(caught.value, "code", None) == "narrative_locked"
    late_period = Period.of("quarterly", 2024, 2)
    late = narratives.save(
        rsession,
        officer,
        rworld.unit_a1.id,
        late_period,
        TEXT,
        submit=True,
        expected_version=None,
        now=datetime(2024, 6, 20, tzinfo=UTC),
    )
    assert narratives.is_late(late, late_period, datetime(2024, 6, 21, tzinfo=UTC)) is True
    rows = narratives.status(
        rsession, rworld.unit_a.id, late_period, datetime(2024, 6, 21, tzinfo=UTC)
    )
    assert {r["unit_code"]: r["late"] for r in rows} == {"DIST-A": True, "COMM-A1": True}


def test_reminders_once_a_day_to_units_that_have_not_submitted(rsession: Any, rworld: Any) -> None:
    from shared.auth import Principal

    officer = Principal(role="agency", username="canbo.a1", unit_id=rworld.unit_a1.id)
    period = Period.of("quarterly", 2024, 2)
    narratives.save(
        rsession,
        officer,
        rworld.unit_a1.id,
        period,
        TEXT,
        submit=True,
        expected_version=None,
        now=datetime(2024, 6, 1, tzinfo=UTC),
    )
    # 10 June: the Q2 deadline (15 June) is within a week; nothing else is due.
    assert [p.label_en for p in narratives.periods_to_remind(date(2024, 6, 10))] == ["Q2 2024"]
    sent = narratives.send_reminders(
        rsession, date(2024, 6, 10), now=datetime(2024, 6, 10, tzinfo=UTC)
    )
    assert sent == 3  # ROOT, DIST-A and DIST-B owe a narrative; COMM-A1 submitted
    assert narratives.send_reminders(rsession, date(2024, 6, 10)) == 0
    assert rsession.query(Reminder).filter_by(unit_id=rworld.unit_a1.id).count() == 0
    assert narratives.periods_to_remind(date(2024, 5, 1)) == []
    rsession.commit()


def test_reminders_are_listed_in_scope(rclient: Any, rsession: Any, rworld: Any) -> None:
    narratives.send_reminders(rsession, date(2024, 6, 10), now=datetime(2024, 6, 10, tzinfo=UTC))
    rsession.commit()
    mine = rclient.get("/api/v1/narratives/reminders", headers=rworld.headers("agency_b")).json
    assert {r["unit_id"] for r in mine} == {str(rworld.unit_b.id)}
    assert (
        len(rclient.get("/api/v1/narratives/reminders", headers=rworld.headers("admin")).json) == 4
    )
    assert (
        rclient.get("/api/v1/narratives/reminders", headers=rworld.headers("owner_a")).status_code
        == 403
    )
    assert rsession.query(Narrative).count() == 0
