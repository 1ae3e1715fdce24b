"""A real Celery worker on the real broker runs the accounts housekeeping task: after the
store lost its revocation entries (a Redis restart keeps nothing), the task puts them back."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import select

from services.accounts.models import Account
from shared.auth import token_version_key
from shared.celery_app import broker_url
from shared.config import Settings
from shared.db import Database
from shared.kv import create_store
from shared.logs import bind_request_id, reset_request_id
from tests.conftest import clear_store
from tests.e2e.procs import settings_env, start, stop

pytestmark = [pytest.mark.worker, pytest.mark.smoke, pytest.mark.timeout(120)]


def test_worker_republishes_revocations(seeded: Settings, logs: Path) -> None:
    database = Database(seeded.database_url("accounts"), service="accounts")
    with database.transaction() as session:
        account = session.scalar(select(Account).where(Account.username == "htx.halong"))
        assert account is not None
        account.token_version += 1
        account_id, version = account.id, account.token_version
    database.dispose()
    store = create_store(seeded.redis_url, seeded.var_dir)
    clear_store(store)
    assert store.get_many([token_version_key(account_id)]) == [None]

    log = logs / "worker.log"
    worker = start(
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "shared.worker",
            "worker",
            "-Q",
            "default",
            "--concurrency",
            "1",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--hostname",
            f"test-{time.time_ns()}@%h",
        ],
        settings_env(seeded),
        log,
    )
    # Not the current app (later in-process tests run on the suite's eager app); the
    # publish signal is process-wide all the same.
    producer = Celery(broker=broker_url(seeded), set_as_current=False)
    token = bind_request_id("request-that-enqueued-it")
    try:
        producer.send_task("accounts.republish_revocations", queue="default")
        reset_request_id(token)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if store.get_many([token_version_key(account_id)]) == [str(version)]:
                break
            assert worker.poll() is None, log.read_text(errors="replace")[-3000:]
            time.sleep(0.2)
        else:
            pytest.fail(
                "the worker did not run the task:\n" + log.read_text(errors="replace")[-3000:]
            )
    finally:
        producer.close()
        stop(worker)
