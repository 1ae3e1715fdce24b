"""Browser tests: Playwright drives Debian's Chromium (`executable_path`, no browser download)
against the whole system as it runs — every service in one gunicorn (the embedded app, the same
URL space as the gateway), a real Celery worker on every queue, PostgreSQL and Redis — seeded
with the demo province.

Chromium comes from Debian's `chromium` package, which `make test` installs where missing
(deploy/system-deps.sh --dev); `CHROMIUM` may name another binary. Screenshots of the main
pages at phone (360 px) and desktop (1280 px) widths are written to
`test-artifacts/screenshots/` (kept by CI as artefacts).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from shared.config import PROJECT_ROOT, QUEUES, Settings
from tests.conftest import build_settings, clear_store, free_port
from tests.e2e.procs import settings_env, start, start_gunicorn, stop, wait_http

PASSWORD = "Mật khẩu trình duyệt 2024"
SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    found = (
        os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not found:
        pytest.fail(
            "Chromium is missing: `make install-dev` installs Debian's chromium package "
            "(deploy/system-deps.sh --dev), or set CHROMIUM to a Chromium binary"
        )
    return found


@dataclass
class System:
    base: str
    settings: Settings
    logs: Path

    def log_tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
            for p in self.logs.glob("*.log")
        )


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    from shared.kv import create_store

    base_dir = tmp_path_factory.mktemp("browser")
    settings = build_settings("web", base_dir, 1)
    clear_store(create_store(settings.redis_url, settings.var_dir))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = settings_env(
        settings,
        DEMO_ADMIN_USERNAME="admin",
        DEMO_ADMIN_PASSWORD=PASSWORD,
        PUBLIC_BASE_URL=base,
        PORT=str(port),
        GUNICORN_THREADS="4",
    )
    seeded = subprocess.run(
        [sys.executable, "-m", "shared.cli", "seed-demo"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    logs = base_dir / "logs"
    logs.mkdir()
    web = start_gunicorn("shared.embedded:create_embedded_app()", port, env, logs / "web.log")
    worker = start(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "shared.worker",
            "worker",
            "-Q",
            ",".join(QUEUES),
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--hostname",
            f"browser-{time.time_ns()}@%h",
        ],
        env,
        logs / "worker.log",
    )
    try:
        wait_http(f"{base}/accounts/readyz", web, logs / "web.log", timeout=90)
        yield System(base, settings, logs)
    finally:
        stop(web)
        stop(worker)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="vi-VN", accept_downloads=True)
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport=PHONE, locale="vi-VN", is_mobile=True, has_touch=True, accept_downloads=True
    )
    context.set_default_timeout(20_000)
    yield context
    context.close()


def shoot(page: Any, name: str) -> Path:
    """A full-page screenshot at the page's width, kept in test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    path = SCREENSHOTS / f"{name}-{width}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def go(page: Any, selector: str) -> None:
    """Click what leads to another page (a link, a form's button) and wait until that page has
    loaded — `click` alone returns once the navigation starts, before the new page is there."""
    with page.expect_navigation(wait_until="load"):
        page.click(selector)


def log_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/accounts/login")
    page.fill("#f-username", username)
    page.fill("#f-password", password)
    go(page, "main form button[type=submit]")


def no_horizontal_scroll(page: Any) -> bool:
    """A 360-px phone shows the page without sideways scrolling (wide tables scroll inside
    their own box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))
