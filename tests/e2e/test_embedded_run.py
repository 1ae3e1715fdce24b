"""The embedded default end to end: `python -m shared.cli run` (what `make run` runs) on a fresh
VAR_DIR with no broker server: migrates, seeds the demo province, serves every prefix, runs
a worker and beat, honours token revocation, and stops cleanly."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import httpx
import pytest

from shared.config import PROJECT_ROOT
from tests.conftest import TEST_DB, free_port
from tests.e2e.procs import start, stop, wait_http

pytestmark = [
    pytest.mark.smoke,
    pytest.mark.timeout(240),
    pytest.mark.skipif(TEST_DB != "sqlite", reason="runs in the embedded-default smoke run"),
]

PASSWORD = "Mật khẩu demo cho kiểm thử khói"


def test_make_run_serves_the_demo_province(tmp_path: Path) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"REDIS_URL", "DATABASE_URL", "TRACE_ENV"} and not k.startswith("PYTEST")
    }
    env.update(
        {
            "VAR_DIR": str(tmp_path / "var"),
            "PORT": str(port),
            "DEMO_ADMIN_USERNAME": "quantri",
            "DEMO_ADMIN_PASSWORD": PASSWORD,
            "WEB_CONCURRENCY": "2",
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    log = tmp_path / "run.log"
    runner = start([sys.executable, "-m", "shared.cli", "run"], env, log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/accounts/readyz", runner, log, timeout=120)
        output = log.read_text(errors="replace")
        assert "quantri" in output  # the demo login is printed
        assert httpx.get(f"{base}/").json()["services"]["accounts"]
        assert httpx.get(f"{base}/labels/api/v1/openapi.json").status_code == 200
        assert httpx.get(f"{base}/reports/api/v1/openapi.json").status_code == 200
        assert httpx.get(f"{base}/accounts/api/v1/docs").status_code == 200
        # The pages: a browser at the root goes to the login page, with its script and styles.
        root = httpx.get(f"{base}/", headers={"Accept": "text/html"})
        assert root.status_code == 302
        assert root.headers["Location"] == "/accounts/login"
        login_page = httpx.get(f"{base}/accounts/login")
        assert login_page.status_code == 200
        assert "Đăng nhập" in login_page.text
        assert httpx.get(f"{base}/accounts/static/shared/style.css").status_code == 200
        assert httpx.get(f"{base}/reports/static/shared/vendor/htmx.min.js").status_code == 200

        admin = httpx.post(
            f"{base}/accounts/api/v1/auth/token", json={"username": "quantri", "password": PASSWORD}
        ).json()
        headers = {"Authorization": f"Bearer {admin['access_token']}"}
        units = httpx.get(f"{base}/accounts/api/v1/units/", headers=headers).json()
        codes = {u["code"] for u in units}
        assert {"QN", "SNN", "SNN-QLCL", "HA-LONG", "DAM-HA", "CO-TO"} <= codes
        assert len(codes) == 23  # the province root and the 22 units of Appendix 01

        owner = httpx.post(
            f"{base}/accounts/api/v1/auth/token",
            json={"username": "htx.halong", "password": PASSWORD},
        ).json()
        owner_headers = {"Authorization": f"Bearer {owner['access_token']}"}
        assert (
            httpx.get(f"{base}/accounts/api/v1/auth/me", headers=owner_headers).status_code == 200
        )
        # The demo cooperative's lots, and a lot's public card with its chain.
        lots = httpx.get(f"{base}/products/api/v1/lots/?code=CM-", headers=owner_headers).json()
        assert len(lots) == 6
        assert all(lot["product_name"] == "Chả mực Hạ Long" for lot in lots)
        card = httpx.get(f"{base}/products/api/v1/public/lots/{lots[0]['id']}").json()
        assert [s["kind"] for s in card["chain"]][:2] == ["production", "pre_processing"]
        assert card["product"]["establishment"]["account_suspended"] is False
        suspended = httpx.post(
            f"{base}/accounts/api/v1/accounts/{owner['account']['id']}/suspend",
            headers=headers,
            json={"reason": "Kiểm thử"},
        )
        assert suspended.status_code == 200
        started = time.monotonic()
        while (
            httpx.get(f"{base}/accounts/api/v1/auth/me", headers=owner_headers).status_code != 401
        ):
            assert time.monotonic() - started < 5, "old token still accepted after 5 s"
            time.sleep(0.1)
        # The accounts service rings the products service's doorbell; the worker pulls the
        # change over HTTP, and the public card warns that the account is suspended.
        deadline = time.monotonic() + 60
        while not httpx.get(f"{base}/products/api/v1/public/lots/{lots[0]['id']}").json()[
            "product"
        ]["establishment"]["account_suspended"]:
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        # The worker and beat are up on the embedded broker (a SQLite file, no server).
        deadline = time.monotonic() + 60
        while not (
            "ready." in log.read_text(errors="replace")
            and "beat: Starting" in log.read_text(errors="replace")
        ):
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        # The year's report, compiled by the real worker from the other services' APIs.
        year = httpx.get(f"{base}/reports/api/v1/targets/2026", headers=headers)
        assert year.status_code == 200
        from shared.clock import local_today

        job = httpx.post(
            f"{base}/reports/api/v1/reports/",
            json={"kind": "annual", "year": local_today().year},
            headers=headers,
        )
        assert job.status_code == 202, job.text
        deadline = time.monotonic() + 90
        while True:
            state = httpx.get(
                f"{base}/reports/api/v1/reports/jobs/{job.json()['id']}", headers=headers
            ).json()
            if state["status"] in {"done", "failed"}:
                break
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)
        assert state["status"] == "done", state
        report = httpx.get(
            f"{base}/reports/api/v1/reports/{state['result']['report_id']}", headers=headers
        ).json()
        codes_in_report = {u["code"] for u in report["figures"]["units"]}
        assert {"QN", "PROV", "DIST", "HA-LONG"} <= codes_in_report
        assert report["figures"]["total"]["counts"]["establishments"] >= 400
        pdf = httpx.get(f"{base}{report['pdf_url']}", headers=headers)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert (tmp_path / "var" / "broker.sqlite").exists()
        assert (tmp_path / "var" / "accounts.sqlite").exists()
    finally:
        code = stop(runner, signal.SIGINT, timeout=30)
    assert code == 0, log.read_text(errors="replace")[-3000:]
