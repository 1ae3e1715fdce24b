"""The job mechanism (shared/jobs.py) on the accounts service's job table: claiming, a second
delivery, transient and permanent errors, the reaper [RELIABILITY 3, 5]."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from services.accounts.models import Job
from shared import jobs
from shared.db import utcnow
from shared.errors import InvalidInput

pytestmark = pytest.mark.smoke


class Retry(Exception):
    pass


class FakeTask:
    """What `execute` needs of a Celery task: its retry count and `retry()`."""

    def __init__(self, retries: int = 0) -> None:
        self.request = type("Request", (), {"retries": retries})()
        self.retried_with: dict[str, Any] | None = None

    def retry(self, **kwargs: Any) -> Exception:
        self.retried_with = kwargs
        return Retry()


@pytest.fixture
def job(db: Any) -> Job:
    with db.transaction() as session:
        row = Job(id=uuid.uuid4(), kind="import", status="queued", params={"n": 1})
        session.add(row)
    return row


def _reload(db: Any, job_id: uuid.UUID) -> Job:
    with db.transaction() as session:
        return session.get_one(Job, job_id)


def test_a_job_runs_once_and_a_second_delivery_does_nothing(db: Any, job: Job) -> None:
    calls = []
    assert (
        jobs.execute(
            FakeTask(), db, Job, str(job.id), lambda ctx: calls.append(ctx.params) or {"ok": True}
        )
        == "done"
    )
    assert jobs.execute(FakeTask(), db, Job, str(job.id), lambda ctx: calls.append(1)) == "skipped"
    assert calls == [{"n": 1}]
    done = _reload(db, job.id)
    assert done.status == "done"
    assert done.result == {"ok": True}
    assert done.attempts == 1


def test_a_running_job_with_a_fresh_heartbeat_is_not_claimed_again(db: Any, job: Job) -> None:
    assert jobs.claim(db, Job, job.id, "worker-1")
    assert not jobs.claim(db, Job, job.id, "worker-2")
    with db.transaction() as session:
        session.get_one(Job, job.id).heartbeat_at = utcnow() - jobs.STALE_AFTER - timedelta(1)
    assert jobs.claim(db, Job, job.id, "worker-2")  # the first worker is gone


def test_a_transient_error_releases_the_claim_and_retries_with_backoff(db: Any, job: Job) -> None:
    task = FakeTask(retries=2)

    def body(ctx: Any) -> None:
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    with pytest.raises(Retry):
        jobs.execute(task, db, Job, str(job.id), body)
    assert task.retried_with is not None
    assert task.retried_with["countdown"] == 8
    again = _reload(db, job.id)
    assert again.status == "queued"
    assert again.claimed_by is None


def test_retries_end_in_a_clear_failure(db: Any, job: Job) -> None:
    def body(ctx: Any) -> None:
        raise OperationalError("SELECT 1", {}, Exception("down"))

    assert jobs.execute(FakeTask(retries=jobs.MAX_ATTEMPTS), db, Job, str(job.id), body) == "failed"
    assert _reload(db, job.id).error["code"] == "service_unavailable"


def test_a_permanent_error_fails_with_the_reason_shown_to_the_user(db: Any, job: Job) -> None:
    def body(ctx: Any) -> None:
        raise InvalidInput(
            "Tệp thiếu cột bắt buộc.",
            "The file lacks required columns.",
            code="file_missing_columns",
        )

    assert jobs.execute(FakeTask(), db, Job, str(job.id), body) == "failed"
    failed = _reload(db, job.id)
    assert failed.status == "failed"
    assert failed.error["code"] == "file_missing_columns"
    assert failed.error["vi"] == "Tệp thiếu cột bắt buộc."
    assert failed.finished_at is not None


def test_an_unexpected_error_fails_without_internals(db: Any, job: Job) -> None:
    def body(ctx: Any) -> None:
        raise RuntimeError("secret internals")

    assert jobs.execute(FakeTask(), db, Job, str(job.id), body) == "failed"
    error = _reload(db, job.id).error
    assert error["code"] == "job_failed"
    assert "secret" not in str(error)


def test_the_reaper_sends_again_lost_jobs_and_gives_up_after_max_attempts(db: Any) -> None:
    now = utcnow()
    with db.transaction() as session:
        lost = Job(
            id=uuid.uuid4(),
            kind="import",
            status="running",
            attempts=1,
            heartbeat_at=now - timedelta(minutes=5),
            params={},
        )
        dropped = Job(
            id=uuid.uuid4(),
            kind="import",
            status="queued",
            attempts=0,
            enqueued_at=now - timedelta(hours=1),
            params={},
        )
        hopeless = Job(
            id=uuid.uuid4(),
            kind="import",
            status="running",
            attempts=jobs.MAX_ATTEMPTS,
            heartbeat_at=now - timedelta(minutes=5),
            params={},
        )
        fresh = Job(
            id=uuid.uuid4(),
            kind="import",
            status="running",
            attempts=1,
            heartbeat_at=now,
            params={},
        )
        session.add_all([lost, dropped, hopeless, fresh])
    with db.transaction() as session:
        again = {j.id for j in jobs.reap(session, Job, now=now)}
    assert again == {lost.id, dropped.id}
    assert _reload(db, hopeless.id).status == "failed"
    assert _reload(db, hopeless.id).error["code"] == "worker_lost"
    assert _reload(db, fresh.id).status == "running"


def test_progress_is_visible_while_running(db: Any, job: Job) -> None:
    seen = []

    def body(ctx: Any) -> dict[str, Any]:
        ctx.progress(5, 10)
        seen.append((_reload(db, job.id).progress_done, _reload(db, job.id).progress_total))
        return {}

    jobs.execute(FakeTask(), db, Job, str(job.id), body)
    assert seen == [(5, 10)]
