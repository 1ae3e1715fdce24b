"""Every page of each role's menu, in Chromium, at a 360-px phone and a 1280-px desktop: it
opens without an error, shows no text sideways off the screen (wide tables scroll inside their
own box), and is kept as a screenshot (test-artifacts/screenshots/<role>-<page>-<width>.png).
And the core flows without JavaScript: a diary entry and a label order whose progress page
refreshes itself until the PDF is ready."""

from __future__ import annotations

from typing import Any

import pytest

from shared.web import NAV
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    System,
    go,
    log_in,
    no_horizontal_scroll,
    shoot,
)
from tests.conftest import TEST_DB

pytestmark = [
    pytest.mark.worker,
    pytest.mark.timeout(420),
    pytest.mark.skipif(TEST_DB != "postgresql", reason="the browser run uses PostgreSQL"),
]

PEOPLE = {"admin": "admin", "agency": "halong.canbo", "establishment": "htx.halong"}


def slug(path: str) -> str:
    return path.strip("/").replace("/", "-") or "home"


@pytest.mark.parametrize("role", list(PEOPLE))
def test_every_menu_page_at_phone_and_desktop_widths(
    system: System, browser: Any, role: str
) -> None:
    paths = [item.path for item in NAV if role in item.roles]
    assert paths
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, locale="vi-VN")
        page = context.new_page()
        log_in(page, system.base, PEOPLE[role])
        for path in paths:
            response = page.goto(system.base + path)
            assert response is not None
            assert response.status == 200, (role, path, response.status)
            assert page.locator("nav.menu").count() == 1, (role, path)
            shoot(page, f"{role}-{slug(path)}")
            assert no_horizontal_scroll(page), f"{role} {path} scrolls sideways at {viewport}"
        # The English switch keeps the person on the same page, in English.
        page.goto(system.base + paths[-1])
        go(page, "header >> text=English")
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.url.startswith(system.base + paths[-1])
        context.close()


def test_the_core_flows_work_without_javascript(system: System, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="vi-VN")
    page = context.new_page()
    log_in(page, system.base, "htx.halong")
    assert page.url.endswith("/products/")
    page.goto(system.base + "/products/lots")
    with page.expect_navigation(wait_until="load"):
        page.locator("table a").first.click()
    lot_url = page.url
    go(page, "text=Ghi nhật ký")
    page.check("input[name=kind][value=storage]")
    page.fill("#f-place", "Kho lạnh Cái Lân")
    page.fill("#f-description", "Nhập kho không dùng JavaScript")
    go(page, "main form button[type=submit]")
    assert "Kho lạnh Cái Lân" in page.locator("body").inner_text()

    page.goto(lot_url)
    go(page, "text=Đặt tem QR")
    page.fill("#f-quantity", "12")
    go(page, "button[value=preview]")  # the preview without htmx: the form comes back
    assert page.locator(".preview, [data-preview], svg").count() >= 1
    assert page.input_value("#f-quantity") == "12"
    go(page, "button[value=order]")
    # No htmx: the batch page refreshes itself (meta refresh) until the PDF is ready.
    page.wait_for_selector("text=Tải tệp PDF", timeout=120_000)
    with page.expect_download() as download:
        page.click("text=Tải tệp PDF")
    assert download.value.suggested_filename.endswith(".pdf")
    context.close()
