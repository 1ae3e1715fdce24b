"""Excel import end to end: HTTP upload to gunicorn, a real Celery worker on the `imports`
queue, PostgreSQL and Redis. A 30,000-row generated file; then a worker killed (`kill -9`)
in the middle of an import, whose job the reaper sends again and a new worker finishes — with
nothing half-applied and nothing applied twice [RELIABILITY 1, 2, 6]."""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from celery import Celery
from sqlalchemy import func, select

from services.accounts.demo import establishment_rows, write_import_file
from services.accounts.models import Establishment
from services.accounts.seed import load_unit_rows
from shared.celery_app import broker_url
from shared.config import Settings
from shared.db import Database
from tests.conftest import free_port
from tests.e2e.conftest import login
from tests.e2e.procs import settings_env, start, start_gunicorn, stop, wait_http

pytestmark = [pytest.mark.postgres_only, pytest.mark.worker, pytest.mark.timeout(400)]

ROWS = 30_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    codes = [r["code"] for r in load_unit_rows() if r["level"] != "group"]
    path = tmp_path_factory.mktemp("import") / "danh-sach-30000.xlsx"
    write_import_file(
        path,
        establishment_rows(ROWS, seed=30, unit_codes=codes),
        header_rows_above=True,
        phones_as_numbers=True,
    )
    return path.read_bytes()


@pytest.fixture(scope="module")
def server(seeded: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("web") / "gunicorn.log"
    port = free_port()
    proc = start_gunicorn(
        "services.accounts.app:create_app()",
        port,
        settings_env(seeded, JOB_STALE_SECONDS="4"),
        log,
        workers=2,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz", proc, log)
        yield base
    finally:
        stop(proc)


@pytest.fixture
def workers() -> Iterator[list[Any]]:
    """Every worker a test starts is stopped at the end, whatever happens."""
    started: list[Any] = []
    yield started
    for proc in started:
        stop(proc, signal.SIGKILL)


def _worker(settings: Settings, log: Path, started: list[Any]) -> Any:
    proc = start(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "shared.worker",
            "worker",
            "-Q",
            "imports,default",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--hostname",
            f"imports-{time.time_ns()}@%h",
        ],
        settings_env(settings, JOB_STALE_SECONDS="4", LOG_LEVEL="INFO"),
        log,
    )
    started.append(proc)
    return proc


def _upload(base: str, token: str, data: bytes) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/api/v1/jobs/imports",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("danh-sach.xlsx", data)},
        data={"dry_run": "false"},
        timeout=60,
    )
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def _wait(base: str, token: str, job_id: str, until: Any, timeout: float, log: Path) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = httpx.get(
            f"{base}/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}
        ).json()
        if until(job):
            return job
        time.sleep(0.2)
    pytest.fail(f"job {job_id} stuck: {job}\n{log.read_text(errors='replace')[-3000:]}")


def _count(settings: Settings) -> int:
    database = Database(settings.database_url("accounts"), service="accounts")
    with database.transaction() as session:
        value = session.scalar(select(func.count()).select_from(Establishment)) or 0
    database.dispose()
    return value


def test_killed_worker_mid_import_and_the_job_still_finishes_once(
    server: str, seeded: Settings, big_file: bytes, logs: Path, workers: list[Any]
) -> None:
    token = login(server, "admin").json()["access_token"]
    before = _count(seeded)
    first = _worker(seeded, logs / "worker-1.log", workers)
    job = _upload(server, token, big_file)
    running = _wait(
        server, token, job["id"], lambda j: j["status"] == "running", 60, logs / "worker-1.log"
    )
    assert running["attempts"] == 1
    stop(first, signal.SIGKILL)  # the whole worker: main process and children
    assert _count(seeded) in {before, before + ROWS}  # one transaction: nothing half-applied

    producer = Celery(broker=broker_url(seeded), set_as_current=False)
    second = _worker(seeded, logs / "worker-2.log", workers)
    try:
        time.sleep(5)  # the heartbeat goes stale (JOB_STALE_SECONDS=4)
        producer.send_task("accounts.reap_jobs", queue="default")
        done = _wait(
            server,
            token,
            job["id"],
            lambda j: j["status"] in {"done", "failed"},
            180,
            logs / "worker-2.log",
        )
    finally:
        producer.close()
        stop(second)
    assert done["status"] == "done", done
    assert done["attempts"] >= 2
    assert done["counts"]["rejected"] == 0
    assert done["counts"]["created"] + done["counts"]["unchanged"] == ROWS
    assert _count(seeded) == before + ROWS


def test_thirty_thousand_rows_through_a_real_worker_then_again_unchanged(
    server: str, seeded: Settings, big_file: bytes, logs: Path, workers: list[Any]
) -> None:
    token = login(server, "admin").json()["access_token"]
    worker = _worker(seeded, logs / "worker.log", workers)
    try:
        timings = []
        for expected in ("unchanged", "unchanged"):
            job = _upload(server, token, big_file)
            done = _wait(
                server,
                token,
                job["id"],
                lambda j: j["status"] in {"done", "failed"},
                180,
                logs / "worker.log",
            )
            assert done["status"] == "done", done
            assert done["counts"][expected] == ROWS
            timings.append(done)
        rows = httpx.get(
            f"{server}/api/v1/jobs/{timings[0]['id']}/rows?page_size=5",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert int(rows.headers["X-Pagination"].split('"total": ')[1].split(",")[0]) == ROWS
    finally:
        stop(worker)
