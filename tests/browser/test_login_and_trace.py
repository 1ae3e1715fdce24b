"""In Chromium: the login page, a one-time password changed at first login, the forgotten-
password request, and a shopper scanning a label on a phone — in Vietnamese, then English."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.browser.conftest import (
    PASSWORD,
    System,
    go,
    log_in,
    no_horizontal_scroll,
    shoot,
)
from tests.conftest import TEST_DB

pytestmark = [
    pytest.mark.worker,
    pytest.mark.timeout(300),
    pytest.mark.skipif(TEST_DB != "postgresql", reason="the browser run uses PostgreSQL"),
]


def api_token(system: System, username: str, password: str = PASSWORD) -> str:
    answer = httpx.post(
        f"{system.base}/accounts/api/v1/auth/token",
        json={"username": username, "password": password},
        timeout=20,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def test_login_page_at_both_widths(system: System, desktop: Any, phone: Any) -> None:
    for context in (desktop, phone):
        page = context.new_page()
        page.goto(system.base + "/")  # a browser at the root goes to the login page
        assert page.url.endswith("/accounts/login")
        assert page.locator("h1").inner_text() == "Đăng nhập"
        assert no_horizontal_scroll(page)
        shoot(page, "login")
        page.fill("#f-username", "halong.canbo")
        page.fill("#f-password", "sai mật khẩu")
        go(page, "form button[type=submit]")
        assert "Tên đăng nhập hoặc mật khẩu không đúng." in page.locator(".alert").inner_text()
        assert page.input_value("#f-username") == "halong.canbo"


def test_an_officer_logs_in_sees_the_menu_and_logs_out(system: System, desktop: Any) -> None:
    page = desktop.new_page()
    log_in(page, system.base, "halong.canbo")
    assert page.url.endswith("/reports/")
    menu = page.locator("nav.menu").inner_text()
    for item in ("Cơ sở", "Nhập Excel", "Đề nghị cấp tài khoản", "Tài khoản", "Báo cáo"):
        assert item in menu
    assert "Lô hàng" not in menu  # an establishment's item
    go(page, "header form button")  # Đăng xuất
    assert page.url.endswith("/accounts/login")
    assert "Bạn đã đăng xuất." in page.content()
    page.goto(system.base + "/accounts/password-requests")
    assert "/accounts/login" in page.url


def test_first_login_changes_the_one_time_password(system: System, desktop: Any) -> None:
    """A new account of its own (the demo logins stay as they are for the other tests)."""
    admin = api_token(system, "admin")
    headers = {"Authorization": f"Bearer {admin}"}
    without = httpx.get(
        f"{system.base}/accounts/api/v1/establishments/?has_account=false&page_size=1",
        headers=headers,
        timeout=20,
    ).json()
    granted = httpx.post(
        f"{system.base}/accounts/api/v1/accounts/",
        json={"role": "establishment", "establishment_id": without[0]["id"], "reason": "Cấp mới"},
        headers=headers,
        timeout=20,
    )
    assert granted.status_code == 201, granted.text
    username = granted.json()["account"]["username"]
    one_time = granted.json()["one_time_password"]

    page = desktop.new_page()
    log_in(page, system.base, username, one_time)
    assert "/accounts/password" in page.url
    assert "mật khẩu một lần" in page.content()
    assert page.locator("nav.menu").count() == 0  # nothing else until it is changed
    shoot(page, "first-login-password")
    page.fill("#f-current_password", one_time)
    page.fill("#f-new_password", PASSWORD + " mới")
    page.fill("#f-confirm_password", PASSWORD + " khác")
    go(page, "main form button[type=submit]")
    assert "không khớp" in page.locator(".error").inner_text()
    page.fill("#f-current_password", one_time)
    page.fill("#f-new_password", PASSWORD + " mới")
    page.fill("#f-confirm_password", PASSWORD + " mới")
    go(page, "main form button[type=submit]")
    assert page.url.endswith("/products/")
    assert "Đã đổi mật khẩu." in page.locator("main").inner_text()
    assert page.locator("nav.menu").count() == 1


def test_forgotten_password_request(system: System, phone: Any) -> None:
    page = phone.new_page()
    page.goto(system.base + "/accounts/login")
    go(page, "text=Quên mật khẩu?")
    page.fill("#f-username", "htx.halong")
    page.fill("#f-contact", "12")
    go(page, "main form button[type=submit]")
    assert page.locator("#contact-error").count() == 1  # not a number anyone can call back
    assert page.input_value("#f-username") == "htx.halong"  # nothing typed is lost
    page.fill("#f-contact", "0912 345 678")
    go(page, "main form button[type=submit]")
    assert "Đã gửi yêu cầu" in page.locator("h1").inner_text()
    assert no_horizontal_scroll(page)

    officer = phone.new_page()
    log_in(officer, system.base, "halong.canbo")
    officer.goto(system.base + "/accounts/password-requests")
    assert "0912 345 678" in officer.content()
    shoot(officer, "password-requests")


def test_a_shopper_scans_a_label_on_a_phone(system: System, phone: Any) -> None:
    owner = api_token(system, "htx.halong")
    headers = {"Authorization": f"Bearer {owner}"}
    lots = httpx.get(
        f"{system.base}/products/api/v1/lots/?code=CM-", headers=headers, timeout=20
    ).json()
    lot = lots[0]
    code = httpx.post(
        f"{system.base}/labels/api/v1/codes/",
        json={"product_id": lot["product_id"], "lot_id": lot["id"]},
        headers=headers,
        timeout=20,
    )
    assert code.status_code in (200, 201), code.text
    url = code.json()["url"]
    assert url.startswith(system.base)

    page = phone.new_page()
    page.goto(url)
    text = page.locator("body").inner_text()
    assert "Chả mực Hạ Long" in text
    assert lot["code"] in text
    assert re.search(r"\d{2}/\d{2}/\d{4}", text)  # dates as dd/mm/yyyy
    assert no_horizontal_scroll(page)
    shoot(page, "trace-page")
    go(page, "text=English")
    english = page.locator("body").inner_text()
    assert page.locator("html").get_attribute("lang") == "en"
    assert english != text
    shoot(page, "trace-page-en")
