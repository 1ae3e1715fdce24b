"""Bulk label PDFs: 10,000 and 100,000 serialised labels, with two real Celery workers.

Target (issue): 10,000 serialised labels — 40 per A4 sheet, a QR code and three lines of
Vietnamese text each — to a finished PDF in under 10 s of wall time with two workers on this
2-core machine; peak memory under 500 MB per worker; time growing linearly with N
(100,000 labels measured too).

Two parts:

a) render only, one process: what one core does — the background (WeasyPrint, once per
   batch), the per-label work (signed serial code, QR matrix, drawing), chunks of
   LABEL_CHUNK_SIZE labels, and the join.
b) the real pipeline: a label batch in PostgreSQL, `printing.start()` commits the job and
   sends its chunk tasks to Redis; two `celery worker -Q labels --concurrency 1` processes
   render the chunks in parallel and the last one sends the join. Wall time runs from just
   before the enqueueing commit until the job row reads `done` (polled every 20 ms); each
   worker's peak RSS is the kernel's high-water mark (VmHWM) of its main process and of its
   pool child. Every run is checked: page count, every human-readable code in serial order,
   and the QR codes of sampled pages decoded back to their URLs.

    .venv/bin/python -m bench.bench_labels_pdf            # Markdown on stdout
    .venv/bin/python -m bench.bench_labels_pdf --quick    # 10,000 only
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench import common

SHEET = {"preset": "40x30", "fields": ["product_name", "establishment", "lot", "code"]}
CONTENT = {
    "product_name": "Chả mực giã tay Hạ Long",
    "establishment_name": "Hợp tác xã Thủy sản Đầm Hà",
    "lot_code": "CM-261201",
}
GTIN = "08936081120011"
PUBLIC_BASE = "https://truyxuat.quangninh.gov.vn"
WORKERS = 2
TARGET_S = 10.0
TARGET_MB = 500


def bench_redis_url() -> str:
    """REDIS_URL if set; else db 15 of the local server, a database of its own: other benches
    FLUSHDB db 14, which would drop this bench's queued chunk messages mid-run."""
    if os.environ.get("REDIS_URL"):
        return common.redis_url()
    return common.DEFAULT_REDIS_URL.rsplit("/", 1)[0] + "/15"


# --- the database and the workers -------------------------------------------------------------


def create_labels_database(name: str = "trace_bench_labels") -> common.BenchDatabase:
    """A fresh PostgreSQL database with the labels migrations applied."""
    from shared.config import Settings
    from shared.migrate import upgrade

    common._check_name(name)
    common._drop(name)
    admin = common._admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = common._pg_url(name)
    upgrade(Settings(labels_database_url=url), ["labels"])
    return common.BenchDatabase(name=name, url=url)


def worker_env(var_dir: Path, database_url: str, redis_url: str, chunk_size: int) -> dict[str, str]:
    from shared.config import PROJECT_ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
    for service in ("accounts", "products", "reports"):
        env.pop(f"{service.upper()}_DATABASE_URL", None)  # SQLite files under VAR_DIR
    env.update(
        {
            "TRACE_ENV": "embedded",
            "VAR_DIR": str(var_dir),
            "PYTHONPATH": str(PROJECT_ROOT),
            "LABELS_DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "PUBLIC_BASE_URL": PUBLIC_BASE,
            "LABEL_CHUNK_SIZE": str(chunk_size),
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "INFO",
        }
    )
    return env


@dataclass
class Worker:
    proc: Any
    log: Path

    @property
    def pids(self) -> tuple[int, list[int]]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            kids = [int(p) for p in children.read_text().split()]
        except OSError:
            kids = []
        return self.proc.pid, kids

    def peak_rss_mb(self) -> tuple[float, float]:
        """(main process, largest pool child) VmHWM in MB."""
        main, kids = self.pids
        child = max((_hwm(pid) for pid in kids), default=0.0)
        return _hwm(main), child


def _hwm(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def start_workers(env: dict[str, str], logs: Path, count: int) -> list[Worker]:
    from tests.e2e.procs import start

    celery = str(Path(sys.executable).parent / "celery")
    workers = []
    for i in range(count):
        log = logs / f"worker-{i}.log"
        proc = start(
            [
                celery,
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
                "--without-heartbeat",
                "--loglevel",
                "INFO",
                "--hostname",
                f"bench-labels-{i}-{time.time_ns()}@%h",
            ],
            env,
            log,
        )
        workers.append(Worker(proc, log))
    deadline = time.monotonic() + 120
    for worker in workers:
        while "ready." not in worker.log.read_text(errors="replace"):
            if worker.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(worker.log.read_text(errors="replace")[-3000:])
            time.sleep(0.1)
    return workers


def stop_workers(workers: list[Worker]) -> None:
    from tests.e2e.procs import stop

    for worker in workers:
        stop(worker.proc)


# --- one job through the workers --------------------------------------------------------------


@dataclass
class Run:
    label: str
    quantity: int
    chunk_size: int
    chunks: int
    wall_s: float
    db_s: float
    pages: int
    size_mb: float
    verify_s: float
    checked: str


def order_batch(database: Any, quantity: int, serial_start: int) -> uuid.UUID:
    from services.labels.models import LabelBatch

    with database.transaction() as session:
        batch = LabelBatch(
            id=uuid.uuid4(),
            number=f"TEM-BENCH-{uuid.uuid4().hex[:8]}",
            establishment_id=uuid.uuid4(),
            product_id=uuid.uuid4(),
            gtin=GTIN,
            lot_code=CONTENT["lot_code"],
            quantity=quantity,
            serial_start=serial_start,
            serial_end=serial_start + quantity - 1,
            template=SHEET,
            content=CONTENT,
        )
        session.add(batch)
    return batch.id


def run_job(
    label: str,
    database: Any,
    settings: Any,
    workers: list[Worker],
    quantity: int,
    chunk_size: int,
    serial_start: int,
    sample_pages: int | None = None,
) -> Run:
    from services.labels.domain import printing
    from services.labels.models import Job, LabelBatch

    batch_id = order_batch(database, quantity, serial_start)
    started = time.perf_counter()
    with database.transaction() as session:  # the chunk tasks leave at commit
        job = printing.start(session, session.get_one(LabelBatch, batch_id), chunk_size=chunk_size)
    job_id = job.id
    last_progress, last_change = -1, time.perf_counter()
    while True:
        with database.transaction() as session:
            job = session.get_one(Job, job_id)
        if job.status in {"done", "failed"}:
            break
        for worker in workers:
            if worker.proc.poll() is not None:
                raise RuntimeError(worker.log.read_text(errors="replace")[-3000:])
        if job.progress_done != last_progress:
            last_progress, last_change = job.progress_done, time.perf_counter()
        elif time.perf_counter() - last_change > 60:
            # Beat's reaper would send lost chunks again after 10 minutes; a bench stops.
            raise RuntimeError(
                f"job {job_id} stalled at {job.progress_done}/{job.progress_total} chunks: "
                "were its messages lost (another process flushing the Redis database)?"
            )
        time.sleep(0.02)
    wall = time.perf_counter() - started
    if job.status != "done":
        raise RuntimeError(f"job failed: {job.error}")
    assert job.finished_at is not None
    db_s = (job.finished_at - job.created_at).total_seconds()
    store_path = Path(settings.var_dir) / "files" / job.result_file
    with database.transaction() as session:
        batch = session.get_one(LabelBatch, batch_id)
    common.progress(f"{label}: {wall:.2f} s; verifying")
    checked_at = time.perf_counter()
    pages, checked = verify(store_path, batch, settings, sample_pages)
    return Run(
        label=label,
        quantity=quantity,
        chunk_size=int(job.params["chunk_size"]),
        chunks=job.progress_total,
        wall_s=wall,
        db_s=db_s,
        pages=pages,
        size_mb=store_path.stat().st_size / 1e6,
        verify_s=time.perf_counter() - checked_at,
        checked=checked,
    )


def verify(path: Path, batch: Any, settings: Any, sample_pages: int | None) -> tuple[int, str]:
    """Page count; every human-readable code in order (or those of sampled pages); the QR
    codes of a few pages decoded back to their URLs."""
    import pypdfium2 as pdfium
    import zxingcpp

    from services.labels.domain import codes

    key = settings.serial_signing_key
    expected = [
        codes.item_payload(key, settings.public_url, batch, serial)
        for serial in range(batch.serial_start, batch.serial_end + 1)
    ]
    per_page = 40
    document = pdfium.PdfDocument(path)
    try:
        pages = len(document)
        assert pages == -(-len(expected) // per_page), pages
        if sample_pages is None:
            indexes = list(range(pages))
        else:
            step = max(1, pages // sample_pages)
            indexes = sorted({0, pages - 1, *range(0, pages, step)})
        for index in indexes:
            page = document[index]
            textpage = page.get_textpage()
            found = textpage.get_text_range()
            textpage.close()
            on_page = expected[index * per_page : (index + 1) * per_page]
            cursor = 0
            for _, code in on_page:
                cursor = found.index(code, cursor) + len(code)
            page.close()
        for index in sorted({0, pages // 2, pages - 1}):
            page = document[index]
            bitmap = page.render(scale=150 / 72, grayscale=True)
            decoded = sorted(r.text for r in zxingcpp.read_barcodes(bitmap.to_pil().convert("L")))
            on_page = expected[index * per_page : (index + 1) * per_page]
            assert decoded == sorted(url for url, _ in on_page), index
            bitmap.close()
            page.close()
    finally:
        document.close()
    scope = "all" if sample_pages is None else f"{len(indexes)}"
    return pages, f"codes in order on {scope} pages; QR decoded on 3 pages"


# --- render only ------------------------------------------------------------------------------


@dataclass
class RenderOnly:
    quantity: int
    chunk_size: int
    payload_us: float
    shape_s: float
    qr_us: float
    chunks_s: float
    join_s: float
    pages: int

    @property
    def total_s(self) -> float:
        return self.chunks_s + self.join_s


def render_only(quantity: int, chunk_size: int, key: str, tmp: Path) -> RenderOnly:
    from types import SimpleNamespace

    from services.labels.domain import codes, qr
    from services.labels.domain.render import Template, join, render_labels

    template = Template.from_json(SHEET)
    batch = SimpleNamespace(gtin=GTIN, lot_code=CONTENT["lot_code"])
    first = 1_000_000
    started = time.perf_counter()
    labels = [
        codes.item_payload(key, PUBLIC_BASE, batch, serial)
        for serial in range(first, first + quantity)
    ]
    payload_us = (time.perf_counter() - started) / quantity * 1e6
    qr._SHAPES.clear()
    started = time.perf_counter()
    shape = qr.shape_for(labels[0][0].encode())
    for url, _ in labels[:2000]:  # the differences of each varying position, computed once
        shape.raster(url.encode())
    shape_s = time.perf_counter() - started
    started = time.perf_counter()
    for url, _ in labels:
        shape.raster(url.encode())
    qr_us = (time.perf_counter() - started) / quantity * 1e6
    shape_s -= qr_us * 2000 / 1e6
    render_labels(template, CONTENT, labels[:40])  # the background and the font, once
    paths = []
    started = time.perf_counter()
    for index, offset in enumerate(range(0, quantity, chunk_size)):
        path = tmp / f"chunk-{index:05d}.pdf"
        path.write_bytes(render_labels(template, CONTENT, labels[offset : offset + chunk_size]))
        paths.append(path)
    chunks_s = time.perf_counter() - started
    started = time.perf_counter()
    pages = join(paths, tmp / "labels.pdf")
    join_s = time.perf_counter() - started
    for path in [*paths, tmp / "labels.pdf"]:
        path.unlink()
    return RenderOnly(quantity, chunk_size, payload_us, shape_s, qr_us, chunks_s, join_s, pages)


def background_times() -> tuple[float, float, float]:
    """(import of WeasyPrint, first background in a process, a new batch's background)."""
    started = time.perf_counter()
    import weasyprint  # noqa: F401

    imported = time.perf_counter() - started
    from services.labels.domain.render import Template, render_background

    template = Template.from_json(SHEET)
    started = time.perf_counter()
    render_background(template, CONTENT)
    first = time.perf_counter() - started
    started = time.perf_counter()
    render_background(template, {**CONTENT, "lot_code": "CM-261202"})
    warm = time.perf_counter() - started
    return imported, first, warm


# --- the report -------------------------------------------------------------------------------


def main(quick: bool = False) -> str:
    from importlib.metadata import version

    from shared.config import Settings
    from shared.db import Database
    from shared.keys import ensure_local_secrets
    from shared.kv import RedisStore

    started_at = common.utc_now()
    load_start = common.load_average()
    redis_url = bench_redis_url()
    with tempfile.TemporaryDirectory(prefix="bench-labels-") as directory:
        tmp = Path(directory)
        var_dir = tmp / "var"
        var_dir.mkdir()
        common.progress("render only, one process")
        imported, bg_first, bg_warm = background_times()
        settings = ensure_local_secrets(
            Settings(var_dir=str(var_dir), public_base_url=PUBLIC_BASE, redis_url=redis_url)
        )
        key = str(settings.serial_signing_key)
        from types import SimpleNamespace

        from services.labels.domain import codes, qr

        sample_url = codes.item_payload(
            key, PUBLIC_BASE, SimpleNamespace(gtin=GTIN, lot_code=CONTENT["lot_code"]), 1
        )[0]
        qr_version = qr.shape_for(sample_url.encode()).version
        singles = [render_only(10_000, 2000, key, tmp)]
        if not quick:
            singles.append(render_only(100_000, 2000, key, tmp))

        db = create_labels_database()
        try:
            settings = settings.with_(labels_database_url=db.url)
            database = Database(db.url, service="labels")
            RedisStore(redis_url).client.flushdb()
            from shared.celery_app import ensure_producer

            ensure_producer(settings)
            common.progress("starting two workers")
            boot = time.perf_counter()
            workers = start_workers(worker_env(var_dir, db.url, redis_url, 2000), tmp, WORKERS)
            boot_s = time.perf_counter() - boot
            runs: list[Run] = []
            memory: list[tuple[str, list[tuple[float, float]]]] = []
            try:
                serial = 1
                plan = [
                    ("10,000, first job after the workers started", 10_000, 2000, None),
                    ("10,000 again (1)", 10_000, 2000, None),
                    ("10,000 again (2)", 10_000, 2000, None),
                    ("10,000 again (3)", 10_000, 2000, None),
                    ("10,000, chunks of 1,000", 10_000, 1000, None),
                ]
                for label, quantity, chunk, sample in plan:
                    runs.append(
                        run_job(label, database, settings, workers, quantity, chunk, serial, sample)
                    )
                    serial += quantity
                memory.append(("after the 10,000-label runs", [w.peak_rss_mb() for w in workers]))
                if not quick:
                    for attempt in (1, 2):
                        label = f"100,000 ({attempt})"
                        runs.append(
                            run_job(label, database, settings, workers, 100_000, 2000, serial, 25)
                        )
                        serial += 100_000
                    memory.append(
                        ("after the 100,000-label runs", [w.peak_rss_mb() for w in workers])
                    )
            finally:
                stop_workers(workers)
                database.dispose()
            pg_version = db.server_version()
        finally:
            db.drop()
    libraries = ", ".join(
        f"{name} {version(name)}" for name in ("weasyprint", "pikepdf", "segno", "celery")
    )
    return report(
        started_at,
        load_start,
        imported,
        bg_first,
        bg_warm,
        singles,
        runs,
        memory,
        boot_s,
        pg_version,
        libraries,
        sample_url,
        qr_version,
    )


def report(
    started_at: str,
    load_start: str,
    imported: float,
    bg_first: float,
    bg_warm: float,
    singles: list[RenderOnly],
    runs: list[Run],
    memory: list[tuple[str, list[tuple[float, float]]]],
    boot_s: float,
    pg_version: str,
    libraries: str,
    sample_url: str,
    qr_version: int,
) -> str:
    warm = sorted(r.wall_s for r in runs if r.label.startswith("10,000 again"))
    ten = warm[len(warm) // 2]  # the median of the warm runs
    hundreds = [r.wall_s for r in runs if r.quantity == 100_000]
    peak = max(max(m, c) for _, per in memory for m, c in per)
    lines = [
        "## Bulk label PDFs: 10,000 and 100,000 labels, two workers — recorded run",
        "",
        f"- date: {started_at}; machine: {common.machine_line()}",
        "- command: `.venv/bin/python -m bench.bench_labels_pdf` "
        f"(PostgreSQL {pg_version}, Redis on loopback, db 15; load average at the start "
        f"{load_start}, at the end {common.load_average()}); code: {common.git_revision()}",
        f"- libraries: {libraries}",
        "- labels: preset 40x30, 40 per A4 sheet; each a QR code (GS1 Digital Link URL with a "
        f"signed serial, {len(sample_url)} characters, e.g. `{sample_url}`: QR version "
        f"{qr_version}, level M) and three lines of Vietnamese text (product, establishment, "
        "lot) plus the human-readable code",
        "",
        "| target | figure | result |",
        "|---|---|---|",
        f"| 10,000 labels < {TARGET_S:.0f} s wall, two workers | {ten:.2f} s, median of "
        f"{len(warm)} warm runs (first job after start: {runs[0].wall_s:.2f} s) | "
        f"{'**met**' if max(ten, runs[0].wall_s) < TARGET_S else '**not met**'} |",
        f"| peak memory < {TARGET_MB} MB per worker | {peak:.0f} MB (largest VmHWM, main or "
        f"child) | {'**met**' if peak < TARGET_MB else '**not met**'} |",
    ]
    if hundreds:
        hundred = sum(hundreds) / len(hundreds)
        per_label = (hundred / 100_000) / (ten / 10_000)
        lines.append(
            f"| time linear in N | 100,000: {hundred:.2f} s (mean of {len(hundreds)}) = "
            f"{hundred / ten:.1f} × the 10,000 median; per label {per_label:.2f} × | "
            f"{'**met**' if per_label <= 1.25 else '**not met**'} (per-label time within 25 %) |"
        )
    lines += [
        "",
        "### a) Render only, one process (one core)",
        "",
        f"WeasyPrint import {imported:.2f} s (a `labels` worker does it before forking its pool); "
        f"first background of a process {bg_first * 1000:.0f} ms, a new batch's background "
        f"{bg_warm * 1000:.0f} ms (once per batch and worker process). A QR shape's set-up "
        "(segno encodes the reference and the 8 one-bit flips of each byte position that "
        "varies) takes "
        + " / ".join(f"{s.shape_s * 1000:.0f}" for s in singles)
        + " ms, once per process and payload length. Timed below: everything else, with "
        "the background and the font already loaded, as in a worker after its first chunk.",
        "",
        "| labels | chunk | serial code µs/label | QR matrix µs/label | chunks s | join s | "
        "total s | labels/s per core | pages |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in singles:
        lines.append(
            f"| {s.quantity:,} | {s.chunk_size:,} | {s.payload_us:.1f} | {s.qr_us:.1f} | "
            f"{s.chunks_s:.2f} | {s.join_s:.2f} | {s.total_s:.2f} | "
            f"{s.quantity / s.total_s:,.0f} | {s.pages:,} |"
        )
    lines += [
        "",
        f"### b) Two real workers (`celery worker -Q labels --concurrency 1` × {WORKERS}), "
        "PostgreSQL, Redis",
        "",
        f"Workers ready {boot_s:.1f} s after start (both, in parallel).",
        "",
        "| run | labels | chunk | chunks | wall s (enqueue → done) | job row s (created → "
        "finished) | labels/s | labels/s per core | pages | MB | checked |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.label} | {r.quantity:,} | {r.chunk_size:,} | {r.chunks} | {r.wall_s:.2f} | "
            f"{r.db_s:.2f} | {r.quantity / r.wall_s:,.0f} | {r.quantity / r.wall_s / 2:,.0f} | "
            f"{r.pages:,} | {r.size_mb:.1f} | {r.checked} |"
        )
    lines += [
        "",
        "Peak RSS (VmHWM, MB) per worker: main process / pool child.",
        "",
        "| when | " + " | ".join(f"worker {i + 1}" for i in range(WORKERS)) + " |",
        "|---|" + "---:|" * WORKERS,
    ]
    for when, per in memory:
        lines.append(f"| {when} | " + " | ".join(f"{m:.0f} / {c:.0f}" for m, c in per) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(main(quick="--quick" in sys.argv))
