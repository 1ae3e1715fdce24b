"""The issue's scenario, in Chromium, against the whole system with a real worker:

an agency officer imports an Excel list and approves a registration; the new establishment
logs in with its one-time password, changes it, adds a product and a lot with two stages,
orders 100 labels and downloads the PDF; a consumer opens a label's URL (decoded from the PDF)
and sees the origin; after a recall the same URL shows the recall notice; the English switch
changes the page language. Screenshots of the main pages at phone and desktop widths are kept
in test-artifacts/screenshots/.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from services.accounts.demo import establishment_rows, write_import_file
from tests.browser.conftest import (
    DESKTOP,
    PASSWORD,
    PHONE,
    System,
    go,
    log_in,
    no_horizontal_scroll,
    shoot,
)
from tests.conftest import TEST_DB
from tests.labels.test_render import decode_pages

pytestmark = [
    pytest.mark.worker,
    pytest.mark.timeout(420),
    pytest.mark.skipif(TEST_DB != "postgresql", reason="the browser run uses PostgreSQL"),
]

NEW_PASSWORD = "Mực khô Vân Đồn ngon 2024"


def wait_for_text(page: Any, text: str, *, timeout: float = 60, reload: bool = False) -> None:
    """Until `text` is on the page (htmx or the meta refresh update it; or reload it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in page.locator("body").inner_text():
            return
        if reload:
            page.reload()
        else:
            page.wait_for_timeout(500)
    raise AssertionError(f"{text!r} did not appear on {page.url}:\n{page.content()[:3000]}")


def both_widths(browser: Any, url: str, name: str, state: Any = None) -> None:
    """A screenshot of `url` at phone and desktop widths (with the cookies of `state`)."""
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, storage_state=state, locale="vi-VN")
        page = context.new_page()
        page.goto(url)
        assert no_horizontal_scroll(page), f"{name} scrolls sideways at {viewport['width']} px"
        shoot(page, name)
        context.close()


def test_from_an_excel_list_to_a_recalled_label(
    system: System, browser: Any, desktop: Any, phone: Any, tmp_path: Path
) -> None:
    base = system.base

    # --- the agency officer imports an Excel list ---------------------------------------
    rows = establishment_rows(3, seed=77, unit_codes=["HA-LONG"])
    newcomer = rows[0]
    workbook = tmp_path / "danh-sach-co-so.xlsx"
    write_import_file(workbook, rows)

    officer = desktop.new_page()
    log_in(officer, base, "halong.canbo")
    both_widths(browser, f"{base}/reports/", "dashboard", desktop.storage_state())
    officer.goto(f"{base}/accounts/imports")
    officer.set_input_files("#f-file", str(workbook))
    officer.uncheck("input[name=dry_run]")
    go(officer, "main form button[type=submit]")
    wait_for_text(officer, str(newcomer["name"]))  # the result table, once the worker is done
    assert "/accounts/imports/" in officer.url
    shoot(officer, "import-result")
    both_widths(
        browser,
        f"{base}/accounts/establishments?q=" + str(newcomer["name"]).split()[-1],
        "establishments",
        desktop.storage_state(),
    )

    # --- the establishment applies for an account (Mẫu 03, no login) ---------------------
    applicant = phone.new_page()
    applicant.goto(f"{base}/accounts/register")
    applicant.select_option("#unit_id", label="Hạ Long")
    applicant.fill("#name", str(newcomer["name"]))
    applicant.fill("#business_registration_no", str(newcomer["business_registration_no"]))
    applicant.fill("#representative", str(newcomer["representative"]))
    applicant.fill("#phone", "0912 345 678")
    go(applicant, "main form button[type=submit]")
    wait_for_text(applicant, "Đã gửi")
    shoot(applicant, "registered")

    # --- the officer approves it ------------------------------------------------------------
    officer.goto(f"{base}/accounts/registrations")
    go(officer, f"text={newcomer['name']}")
    shoot(officer, "registration")
    officer.click("summary:has-text('Duyệt và cấp tài khoản')")
    go(officer, "details[open] form button[type=submit]")
    wait_for_text(officer, "Mật khẩu dùng một lần")
    username = officer.locator("dl.facts code.token").first.inner_text().strip()
    one_time = officer.locator("#one-time-password").inner_text().strip()
    assert username
    assert one_time

    # --- the new establishment logs in, changes its password ------------------------------
    owner = phone.new_page()
    log_in(owner, base, username, one_time)
    assert "/accounts/password" in owner.url
    owner.fill("#f-current_password", one_time)
    owner.fill("#f-new_password", NEW_PASSWORD)
    owner.fill("#f-confirm_password", NEW_PASSWORD)
    go(owner, "main form button[type=submit]")
    assert owner.url.endswith("/products/")
    shoot(owner, "establishment-home")

    # --- adds a product and a lot with two stages ----------------------------------------
    owner.goto(f"{base}/products/products/new")
    owner.fill("#f-name", "Mực khô Vân Đồn")
    owner.fill("#f-code", "MK-01")
    owner.fill("#f-gtin", "8930000000011")  # a wrong check digit first
    owner.fill("#f-origin", "Vân Đồn, Quảng Ninh")
    owner.fill("#f-packaging", "Túi hút chân không 500 g")
    go(owner, "main form button[type=submit]")
    assert owner.locator("#gtin-error").count() == 1
    assert owner.input_value("#f-name") == "Mực khô Vân Đồn"  # nothing typed is lost
    owner.fill("#f-gtin", "")
    go(owner, "main form button[type=submit]")
    wait_for_text(owner, "Thêm lô")
    shoot(owner, "product")

    go(owner, "text=Thêm lô")
    owner.fill("#f-code", "MK-2024-001")
    owner.fill("#f-production_date", "2024-11-20")
    owner.fill("#f-expiry_date", "2025-11-20")
    owner.fill("#f-quantity", "120")
    owner.fill("#f-unit", "kg")
    go(owner, "main form button[type=submit]")
    wait_for_text(owner, "MK-2024-001")
    lot_url = owner.url

    for kind, place, note in (
        ("production", "Bãi Cái Rồng, Vân Đồn", "Mực câu trong ngày"),
        ("processing", "Xưởng phơi Đài Xuyên", "Phơi nắng hai ngày"),
    ):
        owner.goto(lot_url)
        go(owner, "text=Ghi nhật ký")
        owner.check(f"input[name=kind][value={kind}]")
        owner.fill("#f-place", place)
        owner.fill("#f-description", note)
        go(owner, "main form button[type=submit]")
        wait_for_text(owner, place)
    shoot(owner, "lot")
    both_widths(browser, f"{lot_url}/diary", "diary-entry", phone.storage_state())
    both_widths(browser, f"{lot_url}/trace", "trace-tree", phone.storage_state())

    # --- orders 100 labels and downloads the PDF --------------------------------------------
    owner.goto(lot_url)
    go(owner, "text=Đặt tem QR")
    owner.fill("#f-quantity", "100")
    shoot(owner, "label-order")
    go(owner, "button[value=order]")
    wait_for_text(owner, "Tải tệp PDF", timeout=120)
    shoot(owner, "label-batch")
    with owner.expect_download() as download_info:
        owner.click("text=Tải tệp PDF")
    pdf = Path(download_info.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    codes = [text for page in decode_pages(pdf, dpi=150)[:1] for text, _x, _y in page]
    assert codes, "no QR code decoded from the first page"
    label_url = codes[0]
    assert label_url.startswith(base)

    # --- a consumer scans a label -------------------------------------------------------------
    shopper_context = browser.new_context(viewport=PHONE, locale="vi-VN", is_mobile=True)
    shopper = shopper_context.new_page()
    shopper.goto(label_url)
    text = shopper.locator("body").inner_text()
    assert "Mực khô Vân Đồn" in text
    assert "MK-2024-001" in text
    assert "Bãi Cái Rồng, Vân Đồn" in text
    assert "Xưởng phơi Đài Xuyên" in text
    assert str(newcomer["name"]) in text
    assert "thu hồi" not in text.lower()
    shoot(shopper, "scan")

    # --- the establishment recalls the lot ----------------------------------------------------
    owner.goto(lot_url)
    go(owner, "text=Thu hồi lô")
    owner.fill("#f-reason", "Kết quả kiểm nghiệm vượt ngưỡng vi sinh")
    owner.check("input[name=confirm]")
    go(owner, "main form button[type=submit]")
    wait_for_text(owner, "Kết quả kiểm nghiệm vượt ngưỡng vi sinh")
    shoot(owner, "recall")

    # --- the same label now shows the recall notice, first --------------------------------
    wait_for_text(shopper, "thu hồi", reload=True, timeout=60)
    notice = shopper.locator("main [data-warning=recalled]")
    assert "THU HỒI" in notice.inner_text()
    assert "Kết quả kiểm nghiệm vượt ngưỡng vi sinh" in notice.inner_text()
    before_anything_else = shopper.evaluate(
        """() => {
            const notice = document.querySelector('main [data-warning=recalled]');
            const first = document.querySelector('main section');
            return (notice.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING) > 0;
        }"""
    )
    assert before_anything_else
    shoot(shopper, "scan-recalled")

    # --- the English switch ---------------------------------------------------------------
    go(shopper, "text=English")
    assert shopper.locator("html").get_attribute("lang") == "en"
    english = shopper.locator("body").inner_text()
    assert "recall" in english.lower()
    assert "Mực khô Vân Đồn" in english  # names stay as written
    shoot(shopper, "scan-recalled-en")
    shopper_context.close()

    # The establishment can log in with its new password from now on.
    again = browser.new_context(viewport=DESKTOP)
    page = again.new_page()
    log_in(page, base, username, NEW_PASSWORD)
    assert page.url.endswith("/products/")
    again.close()
    assert PASSWORD  # the demo logins are unchanged
