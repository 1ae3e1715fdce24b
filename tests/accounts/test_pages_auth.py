"""Log in / out, the first-login password change, the refresh cookie, forgotten passwords and
the officers' list of them — through the pages, with real tokens and sessions."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from services.accounts.models import Account, LoginSession, PasswordHelpRequest
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.smoke

NEW_PASSWORD = "Chè xanh Đầm Hà 2024!"


def csrf(client: Any, path: str = "/login") -> str:
    page = client.get(path)
    match = re.search(r'name="_csrf" value="([^"]+)"', page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:500]
    return match.group(1)


def cookie(client: Any, name: str) -> str | None:
    found = client.get_cookie(name, path="/accounts/login/refresh") or client.get_cookie(name)
    return found.value if found is not None else None


def refresh(client: Any, query: str = "") -> Any:
    """The refresh cookie's path is /accounts/login/refresh: ask with the service's prefix."""
    return client.get(f"/login/refresh{query}", base_url="http://localhost/accounts/")


def log_in(client: Any, username: str, password: str = PASSWORD, **extra: str) -> Any:
    token = csrf(client)
    return client.post(
        "/login", data={"_csrf": token, "username": username, "password": password, **extra}
    )


def test_login_page_is_vietnamese_with_an_english_switch(client: Any, world: Any) -> None:
    vi = client.get("/login").get_data(as_text=True)
    assert 'autocomplete="username"' in vi  # a field's extra attributes are markup, not text
    assert "Đăng nhập" in vi
    assert "Quên mật khẩu?" in vi
    en = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in en
    assert "Forgot your password?" in en
    # remembered in a cookie
    assert "Log in" in client.get("/login").get_data(as_text=True)


def test_wrong_password_is_refused_next_to_the_form(client: Any, world: Any) -> None:
    answer = log_in(client, "coso.a", "sai mật khẩu")
    assert answer.status_code == 401
    html = answer.get_data(as_text=True)
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in html
    assert 'value="coso.a"' in html  # the login name is kept
    assert cookie(client, "trace_access") is None


def test_login_sets_the_cookies_and_goes_home(client: Any, world: Any) -> None:
    answer = log_in(client, "coso.a")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/products/"
    assert cookie(client, "trace_access")
    assert cookie(client, "trace_refresh")
    set_cookies = answer.headers.getlist("Set-Cookie")
    assert all("HttpOnly" in c for c in set_cookies if c.startswith("trace_"))
    officer = log_in(client.application.test_client(), "canbo.a")
    assert officer.headers["Location"] == "/reports/"


def test_login_follows_next_but_never_off_site(client: Any, world: Any) -> None:
    assert log_in(client, "coso.a", next="/products/lots").headers["Location"] == "/products/lots"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        other = client.application.test_client()
        assert log_in(other, "coso.a", next=evil).headers["Location"] == "/products/"


def test_a_logged_in_visitor_skips_the_login_form(client: Any, world: Any) -> None:
    client.set_cookie("trace_access", world.token("agency_a"))
    answer = client.get("/login")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/reports/"


def test_login_form_needs_its_csrf_token(client: Any, world: Any) -> None:
    answer = client.post("/login", data={"username": "coso.a", "password": PASSWORD})
    assert answer.status_code == 400
    assert cookie(client, "trace_access") is None


def test_suspended_account_is_told_so(client: Any, world: Any, session: Any) -> None:
    world.owner_b.status = "suspended"
    session.commit()
    answer = log_in(client, "coso.b")
    assert answer.status_code == 401
    assert "tạm ngừng" in answer.get_data(as_text=True)


def test_first_login_must_change_the_one_time_password(
    client: Any, world: Any, session: Any
) -> None:
    world.owner_a.must_change_password = True
    session.commit()
    answer = log_in(client, "coso.a", next="/products/lots")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/password?next=")
    # Any other page sends them back to the change form.
    page = client.get("/password-requests")
    assert page.status_code == 302
    assert "/accounts/password" in page.headers["Location"]
    form = client.get("/password")
    assert "mật khẩu một lần" in form.get_data(as_text=True)
    token = csrf(client, "/password")

    mismatch = client.post(
        "/password",
        data={
            "_csrf": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD + "x",
        },
    )
    assert mismatch.status_code == 422
    assert "không khớp" in mismatch.get_data(as_text=True)

    wrong = client.post(
        "/password",
        data={
            "_csrf": token,
            "current_password": "không đúng",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in wrong.get_data(as_text=True)

    weak = client.post(
        "/password",
        data={
            "_csrf": token,
            "current_password": PASSWORD,
            "new_password": "123",
            "confirm_password": "123",
        },
    )
    assert weak.status_code == 422
    session.expire_all()
    assert session.get(Account, world.owner_a.id).must_change_password is True

    done = client.post(
        "/password",
        data={
            "_csrf": token,
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "next": "/products/lots",
        },
    )
    assert done.status_code == 303
    assert done.headers["Location"] == "/products/lots"
    session.expire_all()
    assert session.get(Account, world.owner_a.id).must_change_password is False
    # The new cookie works at once; the old password no longer does.
    assert client.get("/password").status_code == 200
    assert log_in(client.application.test_client(), "coso.a").status_code == 401
    assert log_in(client.application.test_client(), "coso.a", NEW_PASSWORD).status_code == 303


def test_logout_ends_the_session_everywhere(client: Any, world: Any, session: Any) -> None:
    log_in(client, "canbo.a")
    access = cookie(client, "trace_access")
    token = csrf(client, "/password-requests")
    answer = client.post("/logout", data={"_csrf": token})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/accounts/login"
    assert cookie(client, "trace_access") is None
    # The old access token is dead for the API too.
    api = client.application.test_client()
    assert (
        api.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    )
    session.expire_all()
    ended = session.scalars(
        select(LoginSession).where(LoginSession.account_id == world.agency_a.id)
    ).all()
    assert any(s.revoked_reason == "logout" for s in ended)


def test_an_expired_access_token_is_renewed_from_the_refresh_cookie(
    client: Any, world: Any
) -> None:
    log_in(client, "canbo.a")
    client.set_cookie("trace_access", "expired.or.garbage")
    page = client.get("/password-requests")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/accounts/login/refresh?next=")
    old_refresh = cookie(client, "trace_refresh")
    renewed = refresh(client, "?next=/password-requests")
    assert renewed.status_code == 303
    assert renewed.headers["Location"] == "/password-requests"
    assert cookie(client, "trace_refresh") != old_refresh
    assert client.get("/password-requests").status_code == 200


def test_two_refreshes_at_once_share_the_new_tokens(client: Any, world: Any) -> None:
    log_in(client, "canbo.a")
    old_refresh = cookie(client, "trace_refresh")
    other = client.application.test_client()
    other.set_cookie("trace_refresh", old_refresh, path="/accounts/login/refresh")
    first = refresh(client, "?next=/x")
    second = refresh(other, "?next=/x")
    assert first.status_code == second.status_code == 303
    assert cookie(client, "trace_access") == cookie(other, "trace_access")
    # The session is alive (no stolen-token alarm).
    assert client.get("/password-requests").status_code == 200


def test_a_dead_refresh_cookie_goes_to_the_login_page(client: Any, world: Any) -> None:
    client.set_cookie("trace_refresh", "not-a-token", path="/accounts/login/refresh")
    answer = refresh(client, "?next=/units")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/accounts/login?next=/units"
    assert refresh(client).headers["Location"].startswith("/accounts/login")


def test_anonymous_pages_send_to_login(client: Any, world: Any) -> None:
    answer = client.get("/password-requests?x=1")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/accounts/login?next=/password-requests%3Fx%3D1"


def test_forgotten_password_reaches_the_managing_unit(
    client: Any, world: Any, session: Any
) -> None:
    token = csrf(client, "/forgot")
    empty = client.post("/forgot", data={"_csrf": token, "username": "", "contact": "1"})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert "Cần nhập tên đăng nhập." in html
    assert "Cần số điện thoại" in html

    sent = client.post(
        "/forgot", data={"_csrf": token, "username": "coso.a", "contact": "0912 345 678"}
    )
    unknown = client.post(
        "/forgot", data={"_csrf": token, "username": "khong.co", "contact": "0912 345 679"}
    )
    assert sent.status_code == unknown.status_code == 201
    assert sent.get_data(as_text=True) == unknown.get_data(as_text=True)  # reveals nothing
    rows = session.scalars(select(PasswordHelpRequest)).all()
    assert {r.username for r in rows} == {"coso.a", "khong.co"}
    mine = next(r for r in rows if r.username == "coso.a")
    assert mine.account_id == world.owner_a.id
    assert mine.unit_id == world.unit_a1.id

    # Agency A (A1 is under A) sees it; agency B does not; the admin sees both.
    a = client.application.test_client()
    a.set_cookie("trace_access", world.token("agency_a"))
    assert "0912 345 678" in a.get("/password-requests").get_data(as_text=True)
    b = client.application.test_client()
    b.set_cookie("trace_access", world.token("agency_b"))
    assert "0912 345 678" not in b.get("/password-requests").get_data(as_text=True)
    admin = client.application.test_client()
    admin.set_cookie("trace_access", world.token("admin"))
    listing = admin.get("/password-requests").get_data(as_text=True)
    assert "khong.co" in listing
    assert "coso.a" in listing
    owner = client.application.test_client()
    owner.set_cookie("trace_access", world.token("owner_a"))
    assert owner.get("/password-requests").status_code == 403

    token = csrf(a, "/password-requests")
    no_reason = a.post(f"/password-requests/{mine.id}", data={"_csrf": token, "status": "done"})
    assert no_reason.status_code == 422
    assert "Cần nêu lý do." in no_reason.get_data(as_text=True)
    foreign = b.post(
        f"/password-requests/{mine.id}",
        data={"_csrf": csrf(b, "/password-requests"), "status": "done", "reason": "x"},
    )
    assert foreign.status_code == 404
    done = a.post(
        f"/password-requests/{mine.id}",
        data={"_csrf": token, "status": "done", "reason": "Đã gọi lại, cấp mật khẩu một lần"},
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.get(PasswordHelpRequest, mine.id).status == "done"
    assert "0912 345 678" not in a.get("/password-requests").get_data(as_text=True)


def test_forgotten_password_form_is_rate_limited(client: Any, world: Any) -> None:
    token = csrf(client, "/forgot")
    answers = [
        client.post(
            "/forgot", data={"_csrf": token, "username": f"ai{i}", "contact": "0912 000 000"}
        ).status_code
        for i in range(7)
    ]
    assert answers[:5] == [201] * 5
    assert answers[-1] == 429
