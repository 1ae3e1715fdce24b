"""Bulk label PDFs: the print job of a batch, rendered in chunks by the `labels` workers.

A job (`jobs` row, kind `print_labels`) has one `job_chunks` row per slice of the batch's
serial range (LABEL_CHUNK_SIZE labels, rounded to whole pages). Each slice is one Celery task
on the `labels` queue, so several workers render a large batch in parallel; the last slice to
finish sends the join task, which concatenates the slices in order into the batch's PDF.

The rows are the truth; messages are only doorbells (shared/jobs.py):

- A chunk task claims its row atomically (queued, or running with a stale heartbeat), keeps a
  heartbeat while it renders, writes its slice to the file store under a key of its own
  (write to a temporary name, fsync, rename: never half a file), then marks the row done.
  A re-run — a duplicate message, or a retry after a worker was killed — renders the same
  bytes and replaces the same file.
- Finishing a chunk locks the job row, so of two chunks finishing at once exactly one sees
  "all done" and sends the join.
- The join claims the job (only when every chunk is done and no live joiner holds it), writes
  the PDF with write-then-rename, and in one transaction marks the job done with its
  `result_file`. Nothing points at the file before it is complete; a download is served only
  for a done job. Then the slices are deleted; the PDF is kept.
- `reap()` (beat, every 30 s) re-sends chunks whose worker vanished (heartbeat stale) or whose
  message was lost (queued too long), and joins that never ran or whose joiner vanished;
  past `MAX_ATTEMPTS` the job fails with a clear reason.

Progress is `progress_done`/`progress_total` in chunks; `counts` also has labels done.
For a queued chunk `heartbeat_at` holds when it was last sent (the reaper's clock).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case, exists, func, select, update
from sqlalchemy.orm import Session

from services.labels.domain.render import Template, join, render_labels
from services.labels.models import Job, JobChunk, LabelBatch
from shared import jobs
from shared.db import Database, on_commit, utcnow
from shared.errors import DomainError, ServiceUnavailable
from shared.files import FileStore

log = logging.getLogger(__name__)

KIND = "print_labels"
QUEUE = "labels"
DEFAULT_CHUNK_SIZE = 2000

Payload = Callable[[LabelBatch, int], tuple[str, str]]  # (batch, serial) → (QR URL, code)


def chunk_key(job_id: uuid.UUID, index: int) -> str:
    return f"labels/print/{job_id}/chunk-{index:05d}.pdf"


def result_key(job_id: uuid.UUID) -> str:
    return f"labels/print/{job_id}/labels.pdf"


def chunk_ranges(start: int, end: int, size: int) -> list[tuple[int, int]]:
    """[start, end] cut into consecutive inclusive ranges of at most `size` serials."""
    return [(a, min(a + size - 1, end)) for a in range(start, end + 1, size)]


def effective_chunk_size(template: Template, requested: int) -> int:
    """Whole pages per chunk, so that joined chunks leave no half-empty sheet in between."""
    per_page = template.per_page
    return max(per_page, requested // per_page * per_page)


# --- starting a job -----------------------------------------------------------------------------


def _configured_chunk_size() -> int:
    from flask import current_app, has_app_context

    if has_app_context():
        settings = current_app.config.get("SETTINGS")
        if settings is not None and getattr(settings, "label_chunk_size", None):
            return int(settings.label_chunk_size)
    return DEFAULT_CHUNK_SIZE


def start(
    session: Session,
    batch: LabelBatch,
    *,
    actor: Any = None,
    chunk_size: int | None = None,
) -> Job:
    """Create the print job of `batch` and its chunks; the chunk tasks are sent once the
    caller's transaction commits. The template is validated here (InvalidInput)."""
    template = Template.from_json(batch.template)
    size = effective_chunk_size(template, chunk_size or _configured_chunk_size())
    ranges = chunk_ranges(batch.serial_start, batch.serial_end, size)
    now = utcnow()
    job = Job(
        id=uuid.uuid4(),
        kind=KIND,
        status="queued",
        params={"batch_id": str(batch.id), "chunk_size": size},
        progress_done=0,
        progress_total=len(ranges),
        counts={
            "labels": batch.quantity,
            "labels_done": 0,
            "chunks": len(ranges),
            "pages": _pages(template, batch.quantity, size),
            "join_attempts": 0,
        },
        attempts=0,
        created_by=getattr(actor, "account_id", None),
        unit_id=getattr(actor, "unit_id", None),
        enqueued_at=now,
    )
    session.add(job)
    session.flush()
    session.add_all(
        JobChunk(
            job_id=job.id,
            index=index,
            serial_start=first,
            serial_end=last,
            status="queued",
            attempts=0,
            heartbeat_at=now,
        )
        for index, (first, last) in enumerate(ranges)
    )
    batch.job_id = job.id
    session.flush()
    job_id, count = job.id, len(ranges)
    on_commit(session, lambda: send_chunks([(job_id, i) for i in range(count)]))
    return job


def _pages(template: Template, quantity: int, chunk_size: int) -> int:
    per_page = template.per_page
    full, rest = divmod(quantity, chunk_size)
    return full * (chunk_size // per_page) + -(-rest // per_page)


def _tasks() -> Any:
    # The tasks import this module; this module needs them only to send messages.
    from services.labels import printing_tasks

    return printing_tasks


def send_chunks(chunks: Sequence[tuple[uuid.UUID, int]]) -> None:
    task = _tasks().render_chunk
    for job_id, index in chunks:
        task.apply_async(args=[str(job_id), index], queue=QUEUE)


def send_join(job_id: uuid.UUID) -> None:
    _tasks().join_chunks.apply_async(args=[str(job_id)], queue=QUEUE)


# --- heartbeats ---------------------------------------------------------------------------------


class _Heartbeat(threading.Thread):
    """Touches a row every HEARTBEAT_SECONDS while a chunk renders or a join writes."""

    def __init__(self, db: Database, statement: Callable[[], Any], name: str) -> None:
        super().__init__(daemon=True, name=name)
        self.db, self.statement = db, statement
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(jobs.HEARTBEAT_SECONDS):
            try:
                with self.db.transaction() as session:
                    session.execute(self.statement())
            except Exception:
                log.warning("heartbeat failed (%s)", self.name, exc_info=True)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=jobs.HEARTBEAT_SECONDS + 1)


def _chunk_is(job_id: uuid.UUID, index: int) -> Any:
    return (JobChunk.job_id == job_id) & (JobChunk.index == index)


def _chunk_beat(db: Database, job_id: uuid.UUID, index: int, me: str) -> _Heartbeat:
    def statement() -> Any:
        return (
            update(JobChunk)
            .where(_chunk_is(job_id, index), JobChunk.claimed_by == me)
            .where(JobChunk.status == "running")
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    return _Heartbeat(db, statement, f"heartbeat-{job_id}-{index}")


def _job_beat(db: Database, job_id: uuid.UUID, me: str) -> _Heartbeat:
    def statement() -> Any:
        return (
            update(Job)
            .where(Job.id == job_id, Job.claimed_by == me, Job.status == "running")
            .values(heartbeat_at=utcnow())
            .execution_options(synchronize_session=False)
        )

    return _Heartbeat(db, statement, f"heartbeat-{job_id}-join")


# --- a chunk ------------------------------------------------------------------------------------


def claim_chunk(db: Database, job_id: uuid.UUID, index: int, me: str) -> bool:
    """Take chunk `index` of the job for this worker: it is queued, or running with a stale
    heartbeat, and its job is still live. Atomic: of two deliveries only one gets it."""
    now = utcnow()
    with db.transaction() as session:
        live_job = exists().where(Job.id == job_id, Job.status.in_(("queued", "running")))
        claimed = session.execute(
            update(JobChunk)
            .where(
                _chunk_is(job_id, index),
                (JobChunk.status == "queued")
                | (
                    (JobChunk.status == "running")
                    & (JobChunk.heartbeat_at < now - jobs.STALE_AFTER)
                ),
                live_job,
            )
            .values(
                status="running",
                claimed_by=me,
                heartbeat_at=now,
                attempts=JobChunk.attempts + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return False
        attempts = session.scalar(select(JobChunk.attempts).where(_chunk_is(job_id, index)))
        session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(
                status=case((Job.status == "queued", "running"), else_=Job.status),
                started_at=func.coalesce(Job.started_at, now),
                attempts=case((Job.attempts < attempts, attempts), else_=Job.attempts),
            )
            .execution_options(synchronize_session=False)
        )
    return True


def _release_chunk(db: Database, job_id: uuid.UUID, index: int, me: str) -> None:
    try:
        with db.transaction() as session:
            session.execute(
                update(JobChunk)
                .where(_chunk_is(job_id, index), JobChunk.claimed_by == me)
                .where(JobChunk.status == "running")
                .values(status="queued", claimed_by=None, heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    except Exception:
        # The reaper finds the stale heartbeat and sends the chunk again.
        log.warning("could not release chunk %s/%s", job_id, index, exc_info=True)


def _error_of(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, DomainError):
        return {"code": exc.code, **exc.message, **({"fields": exc.fields} if exc.fields else {})}
    return {
        "code": "print_failed",
        "vi": "Không in được tệp tem do lỗi hệ thống; sự cố đã được ghi lại.",
        "en": "The label PDF could not be rendered (internal error); it has been logged.",
    }


def _fail(
    db: Database,
    job_id: uuid.UUID,
    error: dict[str, Any],
    *,
    index: int | None = None,
    me: str | None = None,
) -> None:
    now = utcnow()
    with db.transaction() as session:
        if index is not None:
            session.execute(
                update(JobChunk)
                .where(_chunk_is(job_id, index), JobChunk.claimed_by == me)
                .values(status="failed", finished_at=now)
                .execution_options(synchronize_session=False)
            )
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(("queued", "running")))
            .values(status="failed", finished_at=now, error=error)
            .execution_options(synchronize_session=False)
        )


def chunk_labels(
    session: Session, job_id: uuid.UUID, index: int, payload: Payload
) -> tuple[Template, dict[str, Any], list[tuple[str, str]]]:
    """What chunk `index` prints: the batch's template and content, and its labels in order."""
    job = session.get_one(Job, job_id)
    chunk = session.get_one(JobChunk, (job_id, index))
    batch = session.get_one(LabelBatch, uuid.UUID(job.params["batch_id"]))
    template = Template.from_json(batch.template)
    labels = [payload(batch, serial) for serial in range(chunk.serial_start, chunk.serial_end + 1)]
    return template, dict(batch.content or {}), labels


def run_chunk(
    task: Any, db: Database, store: FileStore, job_id: str, index: int, payload: Payload
) -> str:
    """Render chunk `index` of the job once. Returns 'done', 'skipped' or 'failed'."""
    job_uuid = uuid.UUID(job_id)
    me = jobs.worker_name()
    if not claim_chunk(db, job_uuid, index, me):
        log.info("chunk %s/%s is not claimable (done, or running elsewhere)", job_id, index)
        return "skipped"
    heartbeat = _chunk_beat(db, job_uuid, index, me)
    heartbeat.start()
    try:
        try:
            with db.transaction() as session:
                template, content, labels = chunk_labels(session, job_uuid, index, payload)
            key = chunk_key(job_uuid, index)
            store.save(key, render_labels(template, content, labels))
        finally:
            heartbeat.stop()
    except jobs.TRANSIENT as exc:
        retries = getattr(task.request, "retries", 0) if task is not None else jobs.MAX_ATTEMPTS
        if retries >= jobs.MAX_ATTEMPTS:
            _fail(db, job_uuid, _error_of(ServiceUnavailable()), index=index, me=me)
            return "failed"
        _release_chunk(db, job_uuid, index, me)
        log.warning("chunk %s/%s: transient error, retrying: %s", job_id, index, exc)
        raise task.retry(exc=exc, countdown=min(300, 2 ** (retries + 1))) from exc
    except Exception as exc:
        if not isinstance(exc, DomainError):
            log.exception("chunk %s/%s failed", job_id, index)
        _fail(db, job_uuid, _error_of(exc), index=index, me=me)
        return "failed"
    return finish_chunk(db, job_uuid, index, me, key, len(labels))


def finish_chunk(
    db: Database, job_id: uuid.UUID, index: int, me: str, key: str, labels: int
) -> str:
    """Mark the chunk done and count; the chunk that completes the set sends the join."""
    now = utcnow()
    with db.transaction() as session:
        # The job row's lock orders concurrent finishers: the last one sees every other done.
        job = session.scalars(select(Job).where(Job.id == job_id).with_for_update()).one()
        done = session.execute(
            update(JobChunk)
            .where(_chunk_is(job_id, index), JobChunk.claimed_by == me)
            .where(JobChunk.status == "running")
            .values(status="done", file_key=key, finished_at=now, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        if not done.rowcount:  # type: ignore[attr-defined]
            # Our claim went stale and another run took the chunk over; it finishes it.
            log.info("chunk %s/%s was taken over; leaving it to the other run", job_id, index)
            return "skipped"
        finished, labels_done = session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(JobChunk.serial_end - JobChunk.serial_start + 1), 0),
            ).where(JobChunk.job_id == job_id, JobChunk.status == "done")
        ).one()
        job.progress_done = int(finished)
        job.counts = {**(job.counts or {}), "labels_done": int(labels_done)}
        job.heartbeat_at = now  # the reaper's clock for a join that never starts
        if job.status == "running" and finished == job.progress_total:
            on_commit(session, lambda: send_join(job_id))
    return "done"


# --- the join -----------------------------------------------------------------------------------


def claim_join(db: Database, job_id: uuid.UUID, me: str) -> bool:
    now = utcnow()
    pending = exists().where(JobChunk.job_id == job_id, JobChunk.status != "done")
    with db.transaction() as session:
        claimed = session.execute(
            update(Job)
            .where(
                Job.id == job_id,
                Job.status == "running",
                Job.claimed_by.is_(None) | (Job.heartbeat_at < now - jobs.STALE_AFTER),
                ~pending,
            )
            .values(claimed_by=me, heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return False
        job = session.get_one(Job, job_id)
        counts = dict(job.counts or {})
        counts["join_attempts"] = int(counts.get("join_attempts", 0)) + 1
        job.counts = counts
    return True


def _release_join(db: Database, job_id: uuid.UUID, me: str) -> None:
    try:
        with db.transaction() as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.claimed_by == me, Job.status == "running")
                .values(claimed_by=None, heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
    except Exception:
        log.warning("could not release the join of %s", job_id, exc_info=True)


def _requeue_missing(db: Database, store: FileStore, job_id: uuid.UUID, me: str) -> list[int]:
    """Chunks marked done whose file is gone (a lost disk, a cleaned directory) are rendered
    again rather than joined into a short PDF."""
    now = utcnow()
    with db.transaction() as session:
        rows = session.execute(
            select(JobChunk.index, JobChunk.file_key).where(JobChunk.job_id == job_id)
        ).all()
        missing = [i for i, key in rows if not key or not store.exists(key)]
        if missing:
            session.execute(
                update(JobChunk)
                .where(JobChunk.job_id == job_id, JobChunk.index.in_(missing))
                .values(status="queued", claimed_by=None, heartbeat_at=now, file_key=None)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.claimed_by == me)
                .values(claimed_by=None, progress_done=len(rows) - len(missing))
                .execution_options(synchronize_session=False)
            )
            on_commit(session, lambda: send_chunks([(job_id, i) for i in missing]))
    return missing


def run_join(task: Any, db: Database, store: FileStore, job_id: str) -> str:
    """Join the finished chunks into the batch's PDF once. Returns 'done', 'skipped',
    'requeued' (chunk files were missing and are being rendered again) or 'failed'."""
    job_uuid = uuid.UUID(job_id)
    me = jobs.worker_name()
    if not claim_join(db, job_uuid, me):
        log.info("job %s: nothing to join (not ready, done, or joining elsewhere)", job_id)
        return "skipped"
    heartbeat = _job_beat(db, job_uuid, me)
    heartbeat.start()
    try:
        try:
            missing = _requeue_missing(db, store, job_uuid, me)
            if missing:
                log.warning("job %s: chunk files %s missing, rendering them again", job_id, missing)
                return "requeued"
            keys, batch_facts = _join_inputs(db, job_uuid)
            target = result_key(job_uuid)
            pages = join([store.path(key) for key in keys], store.path(target))
            size = store.path(target).stat().st_size
        finally:
            heartbeat.stop()
    except jobs.TRANSIENT as exc:
        retries = getattr(task.request, "retries", 0) if task is not None else jobs.MAX_ATTEMPTS
        if retries >= jobs.MAX_ATTEMPTS:
            _fail(db, job_uuid, _error_of(ServiceUnavailable()))
            return "failed"
        _release_join(db, job_uuid, me)
        raise task.retry(exc=exc, countdown=min(300, 2 ** (retries + 1))) from exc
    except Exception as exc:
        log.exception("job %s: join failed", job_id)
        _fail(db, job_uuid, _error_of(exc))
        return "failed"
    with db.transaction() as session:
        finished = session.execute(
            update(Job)
            .where(Job.id == job_uuid, Job.claimed_by == me, Job.status == "running")
            .values(
                status="done",
                finished_at=utcnow(),
                result_file=target,
                result={**batch_facts, "pages": pages, "bytes": size, "file": target},
                progress_done=Job.progress_total,
                error=None,
            )
            .execution_options(synchronize_session=False)
        )
    if not finished.rowcount:  # type: ignore[attr-defined]
        log.info("job %s: joined, but another joiner took over; it finishes the job", job_id)
        return "skipped"
    _clean_up(store, keys, target)
    return "done"


def _join_inputs(db: Database, job_id: uuid.UUID) -> tuple[list[str], dict[str, Any]]:
    """The chunk files in order, and what the job's result says about the batch."""
    with db.transaction() as session:
        keys = session.scalars(
            select(JobChunk.file_key).where(JobChunk.job_id == job_id).order_by(JobChunk.index)
        ).all()
        job = session.get_one(Job, job_id)
        batch = session.get_one(LabelBatch, uuid.UUID(job.params["batch_id"]))
        facts = {
            "batch_id": str(batch.id),
            "number": batch.number,
            "labels": batch.quantity,
            "serial_start": batch.serial_start,
            "serial_end": batch.serial_end,
        }
    return [key for key in keys if key], facts


def _clean_up(store: FileStore, keys: Sequence[str], target: str) -> None:
    """The slices are not needed any more (the PDF is kept), nor is what a worker killed in
    the middle of a write left behind (`.part-*`, never referenced by any row)."""
    for key in keys:
        try:
            store.delete(key)
        except OSError:
            log.warning("could not delete %s", key, exc_info=True)
    try:
        for leftover in store.path(target).parent.glob(".part-*"):
            leftover.unlink(missing_ok=True)
    except OSError:
        log.warning("could not clean up after %s", target, exc_info=True)


# --- housekeeping -------------------------------------------------------------------------------


@dataclass
class Reaped:
    chunks: list[tuple[uuid.UUID, int]] = field(default_factory=list)
    joins: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.chunks) + len(self.joins) + len(self.failed)


_WORKER_LOST = {
    "code": "worker_lost",
    "vi": "Việc in tem bị gián đoạn nhiều lần; hãy thử lại hoặc báo quản trị.",
    "en": "The print job was interrupted too many times; retry or tell an admin.",
}


def reap(session: Session, *, now: datetime | None = None) -> Reaped:
    """Chunks and joins to send again (worker gone, or message lost); the caller sends them
    after commit (`send_reaped`). Past MAX_ATTEMPTS the job fails."""
    now = now or utcnow()
    reaped = Reaped()
    stale_chunks = session.scalars(
        select(JobChunk)
        .join(Job, Job.id == JobChunk.job_id)
        .where(
            Job.status.in_(("queued", "running")),
            ((JobChunk.status == "running") & (JobChunk.heartbeat_at < now - jobs.STALE_AFTER))
            | (
                (JobChunk.status == "queued") & (JobChunk.heartbeat_at < now - jobs.QUEUED_TOO_LONG)
            ),
        )
        .order_by(JobChunk.job_id, JobChunk.index)
        .with_for_update(skip_locked=True, of=JobChunk)
    ).all()
    failed: set[uuid.UUID] = set()
    for chunk in stale_chunks:
        if chunk.job_id in failed:
            continue
        if chunk.attempts >= jobs.MAX_ATTEMPTS:
            chunk.status, chunk.finished_at = "failed", now
            failed.add(chunk.job_id)
            continue
        chunk.status, chunk.claimed_by, chunk.heartbeat_at = "queued", None, now
        reaped.chunks.append((chunk.job_id, chunk.index))
    pending = exists().where(JobChunk.job_id == Job.id, JobChunk.status != "done")
    stale_joins = session.scalars(
        select(Job)
        .where(
            Job.kind == KIND,
            Job.status == "running",
            ~pending,
            Job.heartbeat_at < now - jobs.STALE_AFTER,
        )
        .with_for_update(skip_locked=True)
    ).all()
    for job in stale_joins:
        if int((job.counts or {}).get("join_attempts", 0)) >= jobs.MAX_ATTEMPTS:
            failed.add(job.id)
            continue
        job.claimed_by, job.heartbeat_at = None, now
        reaped.joins.append(job.id)
    for job_id in failed:
        session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status.in_(("queued", "running")))
            .values(status="failed", finished_at=now, error=_WORKER_LOST)
            .execution_options(synchronize_session=False)
        )
    reaped.chunks = [c for c in reaped.chunks if c[0] not in failed]
    reaped.failed = sorted(failed)
    return reaped


def send_reaped(session: Session, reaped: Reaped) -> None:
    chunks, joins = list(reaped.chunks), list(reaped.joins)

    def send() -> None:
        send_chunks(chunks)
        for job_id in joins:
            send_join(job_id)

    on_commit(session, send)


# --- reading a job ------------------------------------------------------------------------------


def progress(job: Job) -> dict[str, Any]:
    """What a progress bar shows."""
    counts = job.counts or {}
    return {
        "status": job.status,
        "chunks_done": job.progress_done,
        "chunks": job.progress_total,
        "labels_done": int(counts.get("labels_done", 0)),
        "labels": int(counts.get("labels", 0)),
    }


def result_path(store: FileStore, job: Job) -> Path | None:
    """The finished PDF of a job, or None: never a file of a job that is not done (a file
    in the store is always whole — written, then renamed — but only a done job's is final)."""
    if job.status != "done" or not job.result_file or not store.exists(job.result_file):
        return None
    return store.path(job.result_file)
