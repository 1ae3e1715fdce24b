"""Account pages: the list and the account in scope, its audit trail, grant (an establishment
without an account; agency accounts by the administrator only), rename, suspend, reactivate,
revoke, re-grant and re-issue the password — reasons required, one-time passwords shown once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from services.accounts.models import Account, AuditEvent
from tests.accounts.factories import EstablishmentFactory
from tests.accounts.pages import CSRF, html, login


def one_time_password(response: Any) -> str:
    match = re.search(r'id="one-time-password">([^<]+)<', html(response))
    assert match, html(response)
    return match.group(1)


LIST = [
    (None, 302),
    ("admin", 200),
    ("agency_a", 200),
    ("agency_b", 200),
    ("owner_a", 403),
    ("owner_b", 403),
]


@pytest.mark.parametrize(("who", "status"), LIST)
def test_list_by_role(client: Any, world: Any, who: str | None, status: int) -> None:
    login(client, world, who)
    response = client.get("/accounts")
    assert response.status_code == status
    if who == "agency_a":
        page = html(response)
        assert "coso.a" in page
        assert "canbo.a" in page
        assert "coso.b" not in page
        assert "canbo.b" not in page
        assert world.est_b.name not in page
    if who == "admin":
        assert "coso.b" in html(response)
        assert "canbo.a" in html(response)


def test_list_search_and_filters(client: Any, world: Any) -> None:
    login(client, world, "admin")
    page = html(client.get("/accounts?q=che duong"))  # the establishment's name, no diacritics
    assert "coso.a" in page
    assert "coso.b" not in page
    page = html(client.get("/accounts?role=agency"))
    assert "canbo.a" in page
    assert "coso.a" not in page
    response = client.get("/accounts?role=boss")
    assert response.status_code == 422
    assert 'id="role-error"' in html(response)
    login(client, world, "agency_a")
    response = client.get(f"/accounts?unit_id={world.unit_b.id}")
    assert response.status_code == 422
    assert "coso.b" not in html(response)


DETAIL = [
    (None, "owner_a", 302),
    ("admin", "owner_b", 200),
    ("agency_a", "owner_a", 200),
    ("agency_a", "owner_b", 404),
    ("agency_a", "agency_b", 404),
    ("agency_b", "owner_a", 404),
    ("owner_a", "owner_a", 403),
    ("owner_b", "owner_a", 403),
]


@pytest.mark.parametrize(("who", "target", "status"), DETAIL)
def test_detail_by_role(client: Any, world: Any, who: str | None, target: str, status: int) -> None:
    login(client, world, who)
    account = getattr(world, target)
    response = client.get(f"/accounts/{account.id}")
    assert response.status_code == status
    if status == 200:
        assert account.username in html(response)
    if status == 404:
        assert account.username not in html(response)


def test_agency_sees_a_colleague_read_only(client: Any, world: Any) -> None:
    login(client, world, "admin")
    assert "Tạm ngừng" in html(client.get(f"/accounts/{world.agency_a.id}"))
    login(client, world, "agency_a")
    page = html(client.get(f"/accounts/{world.agency_a.id}"))
    assert "canbo.a" in page
    assert "/suspend" not in page
    response = client.post(
        f"/accounts/{world.agency_a.id}/suspend", data={"_csrf": CSRF, "reason": "thử"}
    )
    assert response.status_code == 403


def test_lifecycle_with_reasons_and_audit_trail(client: Any, world: Any, session: Any) -> None:
    login(client, world, "agency_a")
    url = f"/accounts/{world.owner_a.id}"
    response = client.post(f"{url}/suspend", data={"_csrf": CSRF, "reason": ""})
    assert response.status_code == 422
    assert 'id="reason-error"' in html(response)
    session.expire_all()
    assert session.get(Account, world.owner_a.id).status == "active"

    response = client.post(f"{url}/suspend", data={"_csrf": CSRF, "reason": "Vi phạm quy định"})
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "Đã tạm ngừng tài khoản." in page
    assert "Vi phạm quy định" in page
    session.expire_all()
    assert session.get(Account, world.owner_a.id).status == "suspended"

    response = client.post(f"{url}/suspend", data={"_csrf": CSRF, "reason": "Lần nữa"})
    assert response.status_code == 422  # already suspended: a clear message

    assert client.post(f"{url}/reactivate", data={"_csrf": CSRF}).status_code == 303
    assert (
        client.post(f"{url}/revoke", data={"_csrf": CSRF, "reason": "Ngừng hoạt động"}).status_code
        == 303
    )
    session.expire_all()
    assert session.get(Account, world.owner_a.id).status == "revoked"

    response = client.post(f"{url}/regrant", data={"_csrf": CSRF, "reason": ""})
    assert response.status_code == 422
    assert 'id="reason-error"' in html(response)
    response = client.post(f"{url}/regrant", data={"_csrf": CSRF, "reason": "Hoạt động lại"})
    assert response.status_code == 200
    assert one_time_password(response)
    session.expire_all()
    assert session.get(Account, world.owner_a.id).status == "active"
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_id == str(world.owner_a.id))
    ).all()
    assert {"account.suspend", "account.reactivate", "account.revoke", "account.regrant"} <= set(
        actions
    )


def test_reissue_password_is_shown_once(client: Any, world: Any, session: Any) -> None:
    login(client, world, "agency_a")
    response = client.post(
        f"/accounts/{world.owner_a.id}/password", data={"_csrf": CSRF, "reason": "Quên mật khẩu"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    password = one_time_password(response)
    assert password not in html(client.get(f"/accounts/{world.owner_a.id}"))
    session.expire_all()
    assert session.get(Account, world.owner_a.id).must_change_password


def test_rename(client: Any, world: Any, session: Any) -> None:
    login(client, world, "agency_a")
    url = f"/accounts/{world.owner_a.id}/rename"
    response = client.post(url, data={"_csrf": CSRF, "username": "coso.b", "reason": "x"})
    assert response.status_code == 422
    page = html(response)
    assert 'id="username-error"' in page or "đã" in page
    assert 'value="coso.b"' in page  # the value typed is kept
    response = client.post(
        url, data={"_csrf": CSRF, "username": "htx.che.duonghoa", "reason": "Theo tên HTX"}
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Account, world.owner_a.id).username == "htx.che.duonghoa"
    page = html(client.get(response.headers["Location"]))
    assert "Đã đổi tên đăng nhập." in page
    assert "coso.a" in page


def test_lifecycle_outside_scope(client: Any, world: Any) -> None:
    login(client, world, "agency_b")
    for action in ("suspend", "revoke", "password", "rename", "reactivate", "regrant"):
        response = client.post(
            f"/accounts/{world.owner_a.id}/{action}",
            data={"_csrf": CSRF, "reason": "thử", "username": "x.y"},
        )
        assert response.status_code == 404, action
    login(client, world, "owner_a")
    response = client.post(
        f"/accounts/{world.owner_a.id}/suspend", data={"_csrf": CSRF, "reason": "thử"}
    )
    assert response.status_code == 403


def test_grant_to_an_establishment_without_account(client: Any, world: Any, session: Any) -> None:
    fresh = EstablishmentFactory(name="HTX Mới Quảng Tân", unit=world.unit_a1)
    session.commit()
    login(client, world, "agency_a")
    page = html(client.get(f"/establishments/{fresh.id}"))
    assert f"/accounts/new?establishment_id={fresh.id}" in page
    form = client.get(f"/accounts/new?establishment_id={fresh.id}")
    assert form.status_code == 200
    assert "HTX Mới Quảng Tân" in html(form)
    response = client.post(
        "/accounts/new",
        data={"_csrf": CSRF, "establishment_id": str(fresh.id), "username": "X Y!", "email": "bad"},
    )
    assert response.status_code == 422
    assert 'id="email-error"' in html(response)
    response = client.post(
        "/accounts/new",
        data={"_csrf": CSRF, "establishment_id": str(fresh.id), "reason": "Cấp mới"},
    )
    assert response.status_code == 200
    assert one_time_password(response)
    account = session.scalar(select(Account).where(Account.establishment_id == fresh.id))
    assert account is not None
    assert account.role == "establishment"
    again = client.post("/accounts/new", data={"_csrf": CSRF, "establishment_id": str(fresh.id)})
    assert again.status_code == 422
    assert "đã có tài khoản" in html(again)


def test_grant_outside_scope(client: Any, world: Any) -> None:
    login(client, world, "agency_b")
    assert client.get(f"/accounts/new?establishment_id={world.est_a.id}").status_code == 404
    login(client, world, "owner_a")
    assert client.get("/accounts/new").status_code == 403


def test_agency_accounts_are_the_administrators(client: Any, world: Any, session: Any) -> None:
    login(client, world, "agency_a")
    page = html(client.get("/accounts/new"))
    assert 'name="role"' not in page  # an officer grants only establishments' accounts
    response = client.post(
        "/accounts/new",
        data={
            "_csrf": CSRF,
            "role": "agency",
            "unit_id": str(world.unit_a1.id),
            "username": "canbo.moi",
        },
    )
    assert response.status_code == 422
    assert session.scalar(select(Account).where(Account.username == "canbo.moi")) is None

    login(client, world, "admin")
    response = client.post(
        "/accounts/new", data={"_csrf": CSRF, "role": "agency", "username": "canbo.moi"}
    )
    assert response.status_code == 422
    assert 'id="unit_id-error"' in html(response)
    assert 'value="canbo.moi"' in html(response)
    response = client.post(
        "/accounts/new",
        data={
            "_csrf": CSRF,
            "role": "agency",
            "unit_id": str(world.unit_a1.id),
            "username": "canbo.moi",
            "display_name": "Cán bộ mới",
        },
    )
    assert response.status_code == 200
    assert one_time_password(response)
    account = session.scalar(select(Account).where(Account.username == "canbo.moi"))
    assert account.role == "agency"
    assert account.unit_id == world.unit_a1.id


@pytest.mark.parametrize("who", ["admin", "agency_a", "agency_b"])
def test_page_and_api_list_the_same_accounts(client: Any, world: Any, who: str) -> None:
    """The page's query (domain/queries.py) selects exactly what the API lists."""
    from tests.accounts.factories import auth

    login(client, world, who)
    api = client.get("/api/v1/accounts/?page_size=100", headers=auth(world.token(who)))
    page = html(client.get("/accounts"))
    listed = set(re.findall(r'href="/accounts/[0-9a-f-]{36}">([^<]+)</a>', page))
    assert listed == {a["username"] for a in api.json}
