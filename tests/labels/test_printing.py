"""Print jobs (domain/printing.py, printing_tasks.py): a batch's labels rendered in chunks and
joined in order; progress; a worker killed mid-chunk or mid-join, a lost message, a transient
and a permanent error [RELIABILITY 1, 2, 3, 5]. Workers are simulated in-process: a "kill" is
an exception no handler catches, leaving the rows as a dead process would."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from services.labels.domain import codes, printing, render
from services.labels.models import Job, JobChunk, LabelBatch
from shared import jobs
from shared.db import utcnow
from shared.errors import InvalidInput, ServiceUnavailable
from tests.labels.test_render import CONTENT, decode_pages, page_texts

pytestmark = pytest.mark.smoke

CODE = re.compile(r"\b\d{10}\b")


@pytest.fixture(scope="module", autouse=True)
def print_tasks() -> Any:
    """The print tasks (to be listed in shared/celery_app.TASK_MODULES) on the eager app."""
    from services.labels import printing_tasks

    return printing_tasks


@pytest.fixture
def files(labels_app: Any) -> Any:
    return labels_app.extensions["trace_files"]


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Messages the job would send, kept instead of run: the test plays the workers."""
    box: dict[str, list[Any]] = {"chunks": [], "joins": []}
    monkeypatch.setattr(printing, "send_chunks", lambda chunks: box["chunks"].extend(chunks))
    monkeypatch.setattr(printing, "send_join", lambda job_id: box["joins"].append(job_id))
    return box


def stand_in(batch: Any, serial: int) -> tuple[str, str]:
    return f"https://example.vn/q/S{serial}", f"{serial:010d}"


def make_batch(labels_db: Any, quantity: int, template: dict[str, Any], start: int) -> uuid.UUID:
    with labels_db.transaction() as session:
        batch = LabelBatch(
            id=uuid.uuid4(),
            number=f"TEM-TEST-{uuid.uuid4().hex[:8]}",
            establishment_id=uuid.uuid4(),
            product_id=uuid.uuid4(),
            quantity=quantity,
            serial_start=start,
            serial_end=start + quantity - 1,
            template=template,
            content=CONTENT,
        )
        session.add(batch)
    return batch.id


def start_job(labels_db: Any, batch_id: uuid.UUID, chunk_size: int) -> uuid.UUID:
    with labels_db.transaction() as session:
        job = printing.start(session, session.get_one(LabelBatch, batch_id), chunk_size=chunk_size)
    return job.id


def job_row(labels_db: Any, job_id: uuid.UUID) -> Job:
    with labels_db.transaction() as session:
        return session.get_one(Job, job_id)


def chunk_rows(labels_db: Any, job_id: uuid.UUID) -> list[JobChunk]:
    with labels_db.transaction() as session:
        return list(
            session.scalars(
                select(JobChunk).where(JobChunk.job_id == job_id).order_by(JobChunk.index)
            )
        )


def run_chunk(labels_db: Any, files: Any, job_id: uuid.UUID, index: int) -> str:
    return printing.run_chunk(None, labels_db, files, str(job_id), index, stand_in)


def run_join(labels_db: Any, files: Any, job_id: uuid.UUID) -> str:
    return printing.run_join(None, labels_db, files, str(job_id))


def later(seconds: float) -> Any:
    return utcnow() + timedelta(seconds=seconds)


def printed_codes(pdf: bytes) -> list[str]:
    return [code for text in page_texts(pdf) for code in CODE.findall(text)]


def page_count(path: Path) -> int:
    document = pdfium.PdfDocument(path)
    try:
        return len(document)
    finally:
        document.close()


class Killed(BaseException):
    """The process died here: nothing after this line runs, no handler sees it."""


# --- through the real tasks (eager) ------------------------------------------------------------


def test_a_batch_prints_in_chunks_joined_in_order(
    labels_app: Any, labels_db: Any, files: Any
) -> None:
    batch_id = make_batch(labels_db, 250, {"preset": "40x30"}, start=5_000_001)
    job_id = start_job(labels_db, batch_id, chunk_size=90)  # → 80: whole pages of 40

    job = job_row(labels_db, job_id)  # the tasks ran at commit (eager Celery)
    assert job.status == "done", job.error
    assert job.kind == "print_labels"
    assert (job.progress_done, job.progress_total) == (4, 4)
    assert job.counts["labels_done"] == 250
    assert job.counts["join_attempts"] == 1
    assert job.result is not None
    assert job.result["pages"] == 7
    assert job.result["labels"] == 250
    assert [(c.serial_start, c.serial_end, c.status) for c in chunk_rows(labels_db, job_id)] == [
        (5_000_001, 5_000_080, "done"),
        (5_000_081, 5_000_160, "done"),
        (5_000_161, 5_000_240, "done"),
        (5_000_241, 5_000_250, "done"),
    ]
    path = printing.result_path(files, job)
    assert path is not None
    assert path.name == "labels.pdf"
    assert [p.name for p in path.parent.iterdir()] == ["labels.pdf"]  # slices deleted

    settings = labels_app.config["SETTINGS"]
    with labels_db.transaction() as session:
        batch = session.get_one(LabelBatch, batch_id)
        expected = [
            codes.item_payload(settings.serial_signing_key, settings.public_url, batch, serial)
            for serial in range(batch.serial_start, batch.serial_end + 1)
        ]
    pdf = path.read_bytes()
    # Every human-readable code once, in serial order.
    text = " ".join(page_texts(pdf))
    positions = [text.index(code) for _, code in expected]
    assert positions == sorted(positions)
    # Every QR code decodes to its label's URL; the last, partial page has 10.
    decoded = decode_pages(pdf, dpi=150)
    assert [len(page) for page in decoded] == [40] * 6 + [10]
    assert sorted(t for page in decoded for t, _, _ in page) == sorted(u for u, _ in expected)
    assert "Chả mực Hạ Long" in " ".join(text.split())

    # A second delivery of any message does nothing.
    assert print_tasks_module().render_chunk.apply(args=[str(job_id), 1]).get() == "skipped"
    assert print_tasks_module().join_chunks.apply(args=[str(job_id)]).get() == "skipped"
    assert job_row(labels_db, job_id).counts["join_attempts"] == 1


def print_tasks_module() -> Any:
    from services.labels import printing_tasks

    return printing_tasks


# --- progress, and the join sent once ----------------------------------------------------------


def test_progress_and_the_last_chunk_sends_the_join(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]]
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 170, {"preset": "40x30"}, 1), 80)
    assert outbox["chunks"] == [(job_id, 0), (job_id, 1), (job_id, 2)]
    job = job_row(labels_db, job_id)
    assert printing.progress(job) == {
        "status": "queued",
        "chunks_done": 0,
        "chunks": 3,
        "labels_done": 0,
        "labels": 170,
    }
    assert run_chunk(labels_db, files, job_id, 2) == "done"  # any order
    assert run_chunk(labels_db, files, job_id, 0) == "done"
    job = job_row(labels_db, job_id)
    assert printing.progress(job)["status"] == "running"
    assert (job.progress_done, job.counts["labels_done"]) == (2, 90)
    assert outbox["joins"] == []
    assert printing.result_path(files, job) is None
    assert run_join(labels_db, files, job_id) == "skipped"  # not every chunk is done
    assert run_chunk(labels_db, files, job_id, 1) == "done"
    assert outbox["joins"] == [job_id]
    assert run_join(labels_db, files, job_id) == "done"
    assert run_join(labels_db, files, job_id) == "skipped"
    job = job_row(labels_db, job_id)
    assert job.status == "done"
    assert printing.progress(job)["labels_done"] == 170
    path = printing.result_path(files, job)
    assert path is not None
    assert printed_codes(path.read_bytes()) == [f"{n:010d}" for n in range(1, 171)]


def test_chunks_are_whole_pages(labels_db: Any, outbox: dict[str, list[Any]]) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 200, {"preset": "30x20"}, 1), 100)
    assert [c.serial_end - c.serial_start + 1 for c in chunk_rows(labels_db, job_id)] == [
        78
    ] * 2 + [44]
    roll = start_job(labels_db, make_batch(labels_db, 5, {"preset": "roll-50x30"}, 1), 2)
    assert len(chunk_rows(labels_db, roll)) == 3
    assert job_row(labels_db, roll).counts["pages"] == 5


def test_an_invalid_template_is_refused_at_start(labels_db: Any) -> None:
    batch_id = make_batch(labels_db, 10, {"preset": "99x99"}, 1)
    with pytest.raises(InvalidInput), labels_db.transaction() as session:
        printing.start(session, session.get_one(LabelBatch, batch_id))


# --- killed workers --------------------------------------------------------------------------


def test_a_chunk_run_twice_gives_the_same_file(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]]
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 100, {"preset": "50x30"}, 70_001), 72)
    assert run_chunk(labels_db, files, job_id, 0) == "done"
    key = printing.chunk_key(job_id, 0)
    first = files.path(key).read_bytes()
    # A second delivery while it is done: nothing happens.
    assert run_chunk(labels_db, files, job_id, 0) == "skipped"
    # The worker died after writing the file but before recording it: the chunk is re-run
    # (its row back to running with a stale heartbeat) and replaces its own file.
    with labels_db.transaction() as session:
        session.execute(
            update(JobChunk)
            .where(JobChunk.job_id == job_id, JobChunk.index == 0)
            .values(status="running", claimed_by="dead", heartbeat_at=later(-3600))
        )
    assert run_chunk(labels_db, files, job_id, 0) == "done"
    assert files.path(key).read_bytes() == first
    chunk = chunk_rows(labels_db, job_id)[0]
    assert (chunk.attempts, chunk.status) == (2, "done")
    assert sorted(p.name for p in files.path(key).parent.iterdir()) == ["chunk-00000.pdf"]


def test_a_worker_killed_mid_chunk_and_the_job_still_finishes_exactly(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 120, {"preset": "40x30"}, 900_001), 40)
    assert run_chunk(labels_db, files, job_id, 0) == "done"

    def dies_while_writing(key: str, data: bytes) -> None:
        # What a SIGKILL in the middle of the write leaves: a partial temporary file only.
        partial = files.path(key).parent / ".part-killed"
        partial.write_bytes(data[: len(data) // 2])
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(files, "save", dies_while_writing)
        with pytest.raises(Killed):
            run_chunk(labels_db, files, job_id, 1)
    assert not files.exists(printing.chunk_key(job_id, 1))
    assert chunk_rows(labels_db, job_id)[1].status == "running"

    # The message comes back at once (acks_late): the chunk is claimed and its heartbeat fresh.
    assert run_chunk(labels_db, files, job_id, 1) == "skipped"
    assert run_chunk(labels_db, files, job_id, 2) == "done"
    assert outbox["joins"] == []

    # Nothing is re-sent before the heartbeat is stale; then the reaper sends the chunk again.
    outbox["chunks"].clear()
    with labels_db.transaction() as session:
        assert not printing.reap(session)
    with labels_db.transaction() as session:
        reaped = printing.reap(session, now=later(jobs.STALE_AFTER.total_seconds() + 1))
        printing.send_reaped(session, reaped)
    assert reaped.chunks == [(job_id, 1)]
    assert outbox["chunks"] == [(job_id, 1)]
    assert run_chunk(labels_db, files, job_id, 1) == "done"
    assert outbox["joins"] == [job_id]
    assert run_join(labels_db, files, job_id) == "done"

    job = job_row(labels_db, job_id)
    assert job.status == "done"
    assert job.attempts == 2  # the chunk that was run twice
    path = printing.result_path(files, job)
    assert path is not None
    assert printed_codes(path.read_bytes()) == [f"{n:010d}" for n in range(900_001, 900_121)]
    assert page_count(path) == 3
    assert [p.name for p in path.parent.iterdir()] == ["labels.pdf"]  # no partial leftovers


def test_a_worker_killed_mid_join_never_serves_a_partial_file(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 80, {"preset": "40x30"}, 1), 40)
    for index in (0, 1):
        assert run_chunk(labels_db, files, job_id, index) == "done"

    def killed_before_rename(*_: Any) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(render.os, "replace", killed_before_rename)
        with pytest.raises(Killed):
            run_join(labels_db, files, job_id)

    job = job_row(labels_db, job_id)
    assert (job.status, job.result_file) == ("running", None)
    assert printing.result_path(files, job) is None
    assert not files.exists(printing.result_key(job_id))
    # A second join while the first one's heartbeat is fresh does nothing.
    assert run_join(labels_db, files, job_id) == "skipped"

    outbox["joins"].clear()
    with labels_db.transaction() as session:
        reaped = printing.reap(session, now=later(jobs.STALE_AFTER.total_seconds() + 1))
        printing.send_reaped(session, reaped)
    assert outbox["joins"] == [job_id]
    assert run_join(labels_db, files, job_id) == "done"
    job = job_row(labels_db, job_id)
    assert job.counts["join_attempts"] == 2
    path = printing.result_path(files, job)
    assert path is not None
    assert printed_codes(path.read_bytes()) == [f"{n:010d}" for n in range(1, 81)]


def test_lost_messages_are_sent_again(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]]
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 40, {"preset": "40x30"}, 1), 40)
    outbox["chunks"].clear()  # the broker lost the chunk's message
    with labels_db.transaction() as session:
        assert not printing.reap(session, now=later(jobs.STALE_AFTER.total_seconds() + 1))
    with labels_db.transaction() as session:
        reaped = printing.reap(session, now=later(jobs.QUEUED_TOO_LONG.total_seconds() + 1))
        printing.send_reaped(session, reaped)
    assert outbox["chunks"] == [(job_id, 0)]
    assert run_chunk(labels_db, files, job_id, 0) == "done"
    outbox["joins"].clear()  # ... and then the join's
    with labels_db.transaction() as session:
        reaped = printing.reap(session, now=later(jobs.STALE_AFTER.total_seconds() + 1))
        printing.send_reaped(session, reaped)
    assert reaped.joins == [job_id]
    assert outbox["joins"] == [job_id]
    assert run_join(labels_db, files, job_id) == "done"


def test_a_chunk_file_gone_before_the_join_is_rendered_again(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]]
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 80, {"preset": "40x30"}, 1), 40)
    for index in (0, 1):
        run_chunk(labels_db, files, job_id, index)
    files.delete(printing.chunk_key(job_id, 1))
    outbox["chunks"].clear()
    assert run_join(labels_db, files, job_id) == "requeued"
    assert outbox["chunks"] == [(job_id, 1)]
    assert job_row(labels_db, job_id).progress_done == 1
    assert run_chunk(labels_db, files, job_id, 1) == "done"
    assert run_join(labels_db, files, job_id) == "done"
    path = printing.result_path(files, job_row(labels_db, job_id))
    assert path is not None
    assert len(printed_codes(path.read_bytes())) == 80


# --- errors ----------------------------------------------------------------------------------


class FakeTask:
    """What `task.retry` does for a bound Celery task: hands back the exception to raise."""

    def __init__(self, retries: int) -> None:
        self.request = SimpleNamespace(retries=retries)
        self.countdowns: list[int] = []

    def retry(self, exc: BaseException, countdown: int) -> Exception:
        self.countdowns.append(countdown)
        return RuntimeError(f"retry in {countdown}s")


def test_a_transient_error_retries_with_backoff_then_fails_clearly(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 40, {"preset": "40x30"}, 1), 40)

    def database_down(*_: Any) -> bytes:
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(printing, "render_labels", database_down)
    task = FakeTask(retries=2)
    with pytest.raises(RuntimeError, match="retry in 8s"):
        printing.run_chunk(task, labels_db, files, str(job_id), 0, stand_in)
    chunk = chunk_rows(labels_db, job_id)[0]
    assert (chunk.status, chunk.claimed_by) == ("queued", None)  # released for the retry
    last = FakeTask(retries=jobs.MAX_ATTEMPTS)
    assert printing.run_chunk(last, labels_db, files, str(job_id), 0, stand_in) == "failed"
    job = job_row(labels_db, job_id)
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == ServiceUnavailable.code


def test_a_permanent_error_fails_the_job_with_a_reason(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 80, {"preset": "40x30"}, 1), 40)

    def broken(*_: Any) -> bytes:
        raise ValueError("a bug")

    with monkeypatch.context() as patch:
        patch.setattr(printing, "render_labels", broken)
        assert run_chunk(labels_db, files, job_id, 0) == "failed"
    job = job_row(labels_db, job_id)
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == "print_failed"
    assert job.error["vi"]
    assert job.error["en"]
    assert [c.status for c in chunk_rows(labels_db, job_id)] == ["failed", "queued"]
    assert run_chunk(labels_db, files, job_id, 1) == "skipped"  # the job is over
    assert printing.result_path(files, job) is None


def test_a_chunk_interrupted_too_often_fails_the_job(
    labels_db: Any, files: Any, outbox: dict[str, list[Any]]
) -> None:
    job_id = start_job(labels_db, make_batch(labels_db, 80, {"preset": "40x30"}, 1), 40)
    with labels_db.transaction() as session:
        session.execute(
            update(JobChunk)
            .where(JobChunk.job_id == job_id, JobChunk.index == 1)
            .values(
                status="running",
                claimed_by="dead",
                heartbeat_at=later(-3600),
                attempts=jobs.MAX_ATTEMPTS,
            )
        )
    outbox["chunks"].clear()
    with labels_db.transaction() as session:
        reaped = printing.reap(session)
        printing.send_reaped(session, reaped)
    assert reaped.failed == [job_id]
    assert outbox["chunks"] == []
    job = job_row(labels_db, job_id)
    assert job.status == "failed"
    assert job.error is not None
    assert job.error["code"] == "worker_lost"


# --- real workers killed mid-job [RELIABILITY 1, 2] -------------------------------------------

STALE_SECONDS = 6  # > the workers' 5 s heartbeat


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Committed databases (real workers cannot see a test's transaction)."""
    from tests.conftest import TEST_DB, build_settings

    if TEST_DB != "postgresql":
        pytest.skip("real workers run against PostgreSQL and Redis")
    return build_settings("print", tmp_path_factory.mktemp("print"), 1)


@pytest.fixture
def real(committed: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """A producer on the real broker (the suite's Celery app runs tasks eagerly), workers
    started on demand and always stopped, and the reaper's clock of the workers."""
    import signal
    import sys
    import time

    from celery import Celery

    from shared.celery_app import broker_url
    from shared.db import Database
    from shared.kv import RedisStore
    from tests.e2e.procs import settings_env, start, stop

    RedisStore(committed.redis_url).client.flushdb()
    producer = Celery(broker=broker_url(committed), set_as_current=False)

    def send_chunks(chunks: Any) -> None:
        for job_id, index in chunks:
            producer.send_task("labels.render_chunk", args=[str(job_id), index], queue="labels")

    def send_join(job_id: Any) -> None:
        producer.send_task("labels.join_chunks", args=[str(job_id)], queue="labels")

    monkeypatch.setattr(printing, "send_chunks", send_chunks)
    monkeypatch.setattr(printing, "send_join", send_join)
    monkeypatch.setattr(jobs, "STALE_AFTER", timedelta(seconds=STALE_SECONDS))
    database = Database(committed.database_url("labels"), service="labels")
    env = settings_env(
        committed,
        JOB_STALE_SECONDS=str(STALE_SECONDS),
        SERIAL_SIGNING_KEY=committed.serial_signing_key,
        LOG_LEVEL="INFO",
    )
    started: list[Any] = []

    def worker(name: str) -> Any:
        log = tmp_path / f"{name}.log"
        proc = start(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "shared.worker",
                "worker",
                "-Q",
                "labels",
                "--include",
                "services.labels.printing_tasks",
                "--concurrency",
                "1",
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
                "--hostname",
                f"{name}-{time.time_ns()}@%h",
            ],
            env,
            log,
        )
        started.append(proc)
        deadline = time.monotonic() + 90
        while "ready." not in log.read_text(errors="replace"):
            assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
            time.sleep(0.1)
        return proc

    yield SimpleNamespace(database=database, worker=worker, settings=committed)
    for proc in started:
        stop(proc, signal.SIGKILL)
    producer.close()
    database.dispose()


def _wait(database: Any, until: Any, timeout: float, what: str) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = until()
        if found:
            return found
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _kill_a_rendering_chunk(database: Any, job_id: uuid.UUID, kill: Any) -> JobChunk:
    """Kill whatever process renders a chunk of the job right now; the chunk it had (still
    running with that claim after the kill, so it really was cut off mid-render)."""
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        running = [c for c in chunk_rows(database, job_id) if c.status == "running"]
        if running:
            chunk = running[0]
            pid = int(str(chunk.claimed_by).split(":")[1])
            kill(pid)
            time.sleep(0.3)
            after = chunk_rows(database, job_id)[chunk.index]
            if after.status == "running" and after.claimed_by == chunk.claimed_by:
                return after
        time.sleep(0.01)
    pytest.fail("no chunk was caught rendering")


def _reap_and_finish(real: Any, job_id: uuid.UUID, timeout: float = 120) -> Job:
    """Run the reaper (beat would, every 30 s) until the job is done."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_row(real.database, job_id)
        if job.status in {"done", "failed"}:
            return job
        with real.database.transaction() as session:
            printing.send_reaped(session, printing.reap(session))
        time.sleep(1)
    pytest.fail(f"job {job_id} did not finish: {job_row(real.database, job_id).status}")


def _check_result(real: Any, job: Job, batch_id: uuid.UUID) -> None:
    assert job.status == "done", job.error
    files = real.settings.var_path / "files"
    path = files / str(job.result_file)
    with real.database.transaction() as session:
        batch = session.get_one(LabelBatch, batch_id)
    key, base = real.settings.serial_signing_key, real.settings.public_url
    expected = [
        codes.item_payload(key, base, batch, serial)[1]
        for serial in range(batch.serial_start, batch.serial_end + 1)
    ]
    pdf = path.read_bytes()
    text = "\n".join(page_texts(pdf))
    found = re.findall(r"\b[0-9A-Z]{7}-[0-9A-Z]{4}\b", text)
    assert found == expected  # exactly the ordered serials: none missing, none twice
    assert page_count(path) == -(-len(expected) // 40)
    assert [p.name for p in path.parent.iterdir()] == ["labels.pdf"]
    assert job.counts["join_attempts"] == 1  # joined once


@pytest.mark.worker
@pytest.mark.postgres_only
@pytest.mark.timeout(300)
def test_a_pool_child_killed_mid_chunk(real: Any) -> None:
    """RELIABILITY 1: SIGKILL to the process rendering a chunk (the worker's pool child)."""
    import os
    import signal

    real.worker("print-a")
    real.worker("print-b")
    batch_id = make_batch(real.database, 12_000, {"preset": "40x30"}, 3_000_001)
    job_id = start_job(real.database, batch_id, 2000)
    killed = _kill_a_rendering_chunk(
        real.database, job_id, lambda pid: os.kill(pid, signal.SIGKILL)
    )
    job = _reap_and_finish(real, job_id)
    _check_result(real, job, batch_id)
    assert chunk_rows(real.database, job_id)[killed.index].attempts >= 2


@pytest.mark.worker
@pytest.mark.postgres_only
@pytest.mark.timeout(300)
def test_a_whole_worker_killed_and_started_again(real: Any) -> None:
    """RELIABILITY 2: `kill -9` of the worker's whole process group, a new worker started;
    the dead worker's unacknowledged message is not redelivered before the broker's
    visibility timeout (an hour), so the reaper is what sends the chunk again."""
    import os
    import signal

    first = real.worker("print-c")
    batch_id = make_batch(real.database, 8_000, {"preset": "40x30"}, 4_000_001)
    job_id = start_job(real.database, batch_id, 2000)
    _kill_a_rendering_chunk(
        real.database, job_id, lambda _pid: os.killpg(first.pid, signal.SIGKILL)
    )
    first.wait(timeout=10)
    real.worker("print-d")
    job = _reap_and_finish(real, job_id)
    _check_result(real, job, batch_id)
    assert job.attempts >= 2
