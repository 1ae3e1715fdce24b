"""The registrations inbox: who may open it, applications of other units stay hidden, request
changes / reject need a reason (422 next to it), approve shows the one-time password once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from services.accounts.domain import registrations
from services.accounts.models import Account, Registration
from tests.accounts.pages import CSRF, html, login


@pytest.fixture
def inbox(world_with_work: Any, session: Any) -> Any:
    """World A's application plus one to unit B (a name agency A must never see)."""
    world = world_with_work
    other = registrations.submit(
        session,
        actor=None,
        kind="grant",
        unit_id=world.unit_b.id,
        data={
            "name": "Cơ sở Bí mật Bình Liêu",
            "business_registration_no": "5788888888",
            "representative": "Hoàng Văn Nam",
            "phone": "0912000222",
        },
    )
    session.commit()
    world.extras["other"] = other.registration
    return world


LIST = [
    (None, 302),
    ("admin", 200),
    ("agency_a", 200),
    ("agency_b", 200),
    ("owner_a", 403),
    ("owner_b", 403),
]


@pytest.mark.parametrize(("who", "status"), LIST)
def test_inbox_by_role(client: Any, inbox: Any, who: str | None, status: int) -> None:
    login(client, inbox, who)
    response = client.get("/registrations")
    assert response.status_code == status
    if who == "agency_a":
        page = html(response)
        assert "Cơ sở xin cấp tài khoản" in page
        assert "Cơ sở Bí mật Bình Liêu" not in page
    if who == "agency_b":
        page = html(response)
        assert "Cơ sở Bí mật Bình Liêu" in page
        assert "Cơ sở xin cấp tài khoản" not in page
    if who == "admin":
        page = html(response)
        assert "Cơ sở Bí mật Bình Liêu" in page
        assert "Cơ sở xin cấp tài khoản" in page


def test_inbox_by_status(client: Any, inbox: Any) -> None:
    login(client, inbox, "agency_a")
    assert "Cơ sở xin cấp tài khoản" not in html(client.get("/registrations?status=approved"))
    assert "Cơ sở xin cấp tài khoản" in html(client.get("/registrations?status=all"))


DETAIL = [
    (None, 302),
    ("admin", 200),
    ("agency_a", 200),
    ("agency_b", 404),
    ("owner_a", 403),
    ("owner_b", 403),
]


@pytest.mark.parametrize(("who", "status"), DETAIL)
def test_detail_by_role(client: Any, inbox: Any, who: str | None, status: int) -> None:
    login(client, inbox, who)
    response = client.get(f"/registrations/{inbox.extras['registration'].id}")
    assert response.status_code == status
    if status == 200:
        page = html(response)
        assert "Cơ sở xin cấp tài khoản" in page
        assert "Trần Thị Lan" in page
        assert "Cơ sở Bí mật Bình Liêu" not in page
    if status == 404:
        assert "Trần Thị Lan" not in html(response)


@pytest.mark.parametrize("action", ["request-changes", "reject", "approve"])
def test_decisions_outside_scope(client: Any, inbox: Any, action: str) -> None:
    url = f"/registrations/{inbox.extras['registration'].id}/{action}"
    login(client, inbox, "agency_b")
    assert client.post(url, data={"_csrf": CSRF, "reason": "x y z"}).status_code == 404
    login(client, inbox, "owner_a")
    assert client.post(url, data={"_csrf": CSRF, "reason": "x y z"}).status_code == 403
    login(client, inbox, "agency_a")
    assert client.post(url, data={"reason": "x y z"}).status_code == 400  # no CSRF token


@pytest.mark.parametrize(
    ("action", "status", "flash"),
    [
        ("request-changes", "changes_requested", "Đã gửi yêu cầu bổ sung hồ sơ."),
        ("reject", "rejected", "Đã từ chối hồ sơ."),
    ],
)
def test_request_changes_and_reject_need_a_reason(
    client: Any, inbox: Any, session: Any, action: str, status: str, flash: str
) -> None:
    registration = inbox.extras["registration"]
    url = f"/registrations/{registration.id}/{action}"
    login(client, inbox, "agency_a")
    response = client.post(url, data={"_csrf": CSRF, "reason": "  "})
    assert response.status_code == 422
    assert 'id="reason-error"' in html(response)
    session.expire_all()
    assert session.get(Registration, registration.id).status == "submitted"
    response = client.post(url, data={"_csrf": CSRF, "reason": "Thiếu bản sao GCN ĐKKD"})
    assert response.status_code == 303
    session.expire_all()
    stored = session.get(Registration, registration.id)
    assert stored.status == status
    assert stored.decision_reason == "Thiếu bản sao GCN ĐKKD"
    page = html(client.get(response.headers["Location"]))
    assert flash in page
    assert "Thiếu bản sao GCN ĐKKD" in page
    again = client.post(url, data={"_csrf": CSRF, "reason": "Lần nữa"})
    assert again.status_code == 422  # already decided: a clear message, nothing changes
    assert "Hồ sơ đã được xử lý" in html(again)


def test_approve_shows_the_one_time_password_once(client: Any, inbox: Any, session: Any) -> None:
    registration = inbox.extras["registration"]
    login(client, inbox, "agency_a")
    detail = html(client.get(f"/registrations/{registration.id}"))
    assert "Duyệt và cấp tài khoản" in detail
    response = client.post(f"/registrations/{registration.id}/approve", data={"_csrf": CSRF})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = html(response)
    password = re.search(r'id="one-time-password">([^<]+)<', page)
    assert password
    assert len(password.group(1)) >= 8
    session.expire_all()
    stored = session.get(Registration, registration.id)
    assert stored.status == "approved"
    account = session.get(Account, stored.account_id)
    assert account.must_change_password
    assert account.username in page
    # The password is not shown again anywhere.
    assert password.group(1) not in html(client.get(f"/registrations/{registration.id}"))
    assert password.group(1) not in html(client.get(f"/accounts/{account.id}"))
    again = client.post(f"/registrations/{registration.id}/approve", data={"_csrf": CSRF})
    assert again.status_code == 422
    assert session.scalars(
        select(Account).where(Account.establishment_id == stored.establishment_id)
    ).all() == [account]


@pytest.mark.parametrize("who", ["admin", "agency_a", "agency_b"])
def test_page_and_api_list_the_same_applications(client: Any, inbox: Any, who: str) -> None:
    """The inbox's query (domain/queries.py) selects exactly what the API lists."""
    from tests.accounts.factories import auth

    login(client, inbox, who)
    api = client.get("/api/v1/registrations/?page_size=100", headers=auth(inbox.token(who)))
    page = html(client.get("/registrations?status=all"))
    listed = set(re.findall(r'href="/registrations/([0-9a-f-]{36})"', page))
    assert listed == {r["id"] for r in api.json}
