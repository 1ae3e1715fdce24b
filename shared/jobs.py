"""Slow work as jobs: the job row is the truth, the broker is a doorbell.

A service declares its job table with `JobMixin`; a view creates the row and calls
`enqueue()` (the message leaves only after the transaction commits); the Celery task calls
`execute()`, which

- claims the row atomically (a second delivery of a job that is running with a fresh heartbeat
  does nothing; one that is done or failed does nothing either),
- keeps a heartbeat from a side thread while the body runs,
- on a transient error (database or another service briefly down) releases the claim and asks
  Celery to retry with exponential backoff; on any other error marks the job FAILED with the
  reason the user will see.

`reap()` — run by beat — finds jobs whose worker vanished (heartbeat stale) or whose message the
broker lost (queued too long) and enqueues them again; past `max_attempts` they fail clearly.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, String, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import Database, JSONType, on_commit, utcnow
from shared.errors import DomainError, ServiceUnavailable

log = logging.getLogger(__name__)

JOB_STATUSES = ("queued", "running", "done", "failed")
HEARTBEAT_SECONDS = 5
STALE_AFTER = timedelta(seconds=60)
QUEUED_TOO_LONG = timedelta(minutes=10)
MAX_ATTEMPTS = 5


class JobMixin:
    """Columns every job table has. Progress and result are what a progress bar shows."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    result_file: Mapped[str | None] = mapped_column(String(255))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    unit_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def enqueue(session: Session, job: Any, task: Any, *, queue: str) -> None:
    """Send the task after commit. If the broker is down the job stays queued; the reaper
    sends it again — the API has already answered 202 with the job."""
    job.enqueued_at = utcnow()
    job_id = str(job.id)

    def send() -> None:
        task.apply_async(args=[job_id], queue=queue)

    on_commit(session, send)


def claim(db: Database, model: type[Any], job_id: uuid.UUID, me: str) -> bool:
    now = utcnow()
    with db.transaction() as session:
        result = session.execute(
            update(model)
            .where(
                model.id == job_id,
                or_(
                    model.status == "queued",
                    (model.status == "running") & (model.heartbeat_at < now - STALE_AFTER),
                ),
            )
            .values(
                status="running",
                claimed_by=me,
                heartbeat_at=now,
                attempts=model.attempts + 1,
                started_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class JobContext:
    """What a job body gets: its row's id and parameters, and a way to report progress."""

    db: Database
    model: type[Any]
    job_id: uuid.UUID
    params: dict[str, Any]
    worker: str
    created_by: uuid.UUID | None
    unit_id: uuid.UUID | None

    def progress(self, done: int, total: int | None = None) -> None:
        values: dict[str, Any] = {"progress_done": done, "heartbeat_at": utcnow()}
        if total is not None:
            values["progress_total"] = total
        with self.db.transaction() as session:
            session.execute(
                update(self.model)
                .where(self.model.id == self.job_id, self.model.claimed_by == self.worker)
                .values(**values)
                .execution_options(synchronize_session=False)
            )


class _Heartbeat(threading.Thread):
    def __init__(self, db: Database, model: type[Any], job_id: uuid.UUID, me: str) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self._stop_event = threading.Event()
        self.db, self.model, self.job_id, self.me = db, model, job_id, me

    def run(self) -> None:
        while not self._stop_event.wait(HEARTBEAT_SECONDS):
            try:
                with self.db.transaction() as session:
                    session.execute(
                        update(self.model)
                        .where(
                            self.model.id == self.job_id,
                            self.model.claimed_by == self.me,
                            self.model.status == "running",
                        )
                        .values(heartbeat_at=utcnow())
                        .execution_options(synchronize_session=False)
                    )
            except Exception:
                log.warning("heartbeat failed for job %s", self.job_id, exc_info=True)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=HEARTBEAT_SECONDS + 1)


TRANSIENT = (OperationalError, ServiceUnavailable, ConnectionError, TimeoutError)


def execute(
    task: Any,
    db: Database,
    model: type[Any],
    job_id: str,
    body: Callable[[JobContext], dict[str, Any] | None],
) -> str:
    """Run `body` for the job once. Returns the job's final status (or 'skipped')."""
    job_uuid = uuid.UUID(job_id)
    me = worker_name()
    if not claim(db, model, job_uuid, me):
        log.info("job %s is not claimable (done, failed, or running elsewhere)", job_id)
        return "skipped"
    with db.transaction() as session:
        job = session.get_one(model, job_uuid)
        context = JobContext(
            db, model, job_uuid, dict(job.params or {}), me, job.created_by, job.unit_id
        )
    heartbeat = _Heartbeat(db, model, job_uuid, me)
    heartbeat.start()
    try:
        result = body(context)
    except TRANSIENT as exc:
        heartbeat.stop()
        retries = getattr(task.request, "retries", 0)
        if retries >= MAX_ATTEMPTS:
            _fail(db, model, job_uuid, me, ServiceUnavailable())
            return "failed"
        _release(db, model, job_uuid, me)
        log.warning("job %s: transient error, retrying: %s", job_id, exc)
        raise task.retry(exc=exc, countdown=min(300, 2 ** (retries + 1))) from exc
    except DomainError as exc:
        heartbeat.stop()
        _fail(db, model, job_uuid, me, exc)
        return "failed"
    except Exception as exc:
        heartbeat.stop()
        log.exception("job %s failed", job_id)
        _fail(db, model, job_uuid, me, exc)
        return "failed"
    heartbeat.stop()
    with db.transaction() as session:
        session.execute(
            update(model)
            .where(model.id == job_uuid, model.claimed_by == me)
            .values(status="done", finished_at=utcnow(), result=result or {}, error=None)
            .execution_options(synchronize_session=False)
        )
    return "done"


def _release(db: Database, model: type[Any], job_id: uuid.UUID, me: str) -> None:
    try:
        with db.transaction() as session:
            session.execute(
                update(model)
                .where(model.id == job_id, model.claimed_by == me)
                .values(status="queued", claimed_by=None)
                .execution_options(synchronize_session=False)
            )
    except Exception:
        # The reaper will find the stale heartbeat and re-enqueue.
        log.warning("could not release job %s", job_id, exc_info=True)


def _fail(db: Database, model: type[Any], job_id: uuid.UUID, me: str, exc: Exception) -> None:
    if isinstance(exc, DomainError):
        error = {"code": exc.code, **exc.message, **({"extra": exc.extra} if exc.extra else {})}
    else:
        error = {
            "code": "job_failed",
            "vi": "Công việc gặp lỗi hệ thống; sự cố đã được ghi lại.",
            "en": "The job hit an internal error; it has been logged.",
        }
    with db.transaction() as session:
        session.execute(
            update(model)
            .where(model.id == job_id, model.claimed_by == me)
            .values(status="failed", finished_at=utcnow(), error=error)
            .execution_options(synchronize_session=False)
        )


def reap(session: Session, model: type[Any], *, now: datetime | None = None) -> list[Any]:
    """Jobs to send again (worker gone, or message lost); fails those tried too often."""
    now = now or utcnow()
    stale = session.scalars(
        select(model)
        .where(
            or_(
                (model.status == "running") & (model.heartbeat_at < now - STALE_AFTER),
                (model.status == "queued") & (model.enqueued_at < now - QUEUED_TOO_LONG),
            )
        )
        .with_for_update(skip_locked=True)
    ).all()
    again = []
    for job in stale:
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = "failed", now
            job.error = {
                "code": "worker_lost",
                "vi": "Công việc bị gián đoạn nhiều lần; hãy thử lại hoặc báo quản trị.",
                "en": "The job was interrupted too many times; retry or tell an admin.",
            }
            continue
        job.enqueued_at = now
        again.append(job)
    return again
