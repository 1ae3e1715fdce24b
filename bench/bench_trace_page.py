"""The public trace page under load: gunicorn, PostgreSQL and Redis, scan recording included.

Target (labels issue): at 32 concurrent connections on this 2-core machine, >= 1,000
requests/s with p99 < 50 ms for `GET /q/{serial}` (the page a shopper reaches by scanning an
item label), every view recorded as a scan.

What runs:
- fresh PostgreSQL databases for accounts, products and labels (`trace_bench_tp_*`), migrated;
  Redis db 14 (flushed);
- seed: an establishment, 4 products with a lot each (stages, a certification), and a label
  batch of 10,000 serials per lot (the labels service's own rows, as an order would leave);
- the embedded app (`shared.embedded:create_embedded_app()`, every service in one WSGI app,
  the trace page at the root as the gateway routes it) under `gunicorn -c
  deploy/gunicorn.conf.py` on a free loopback port, `TRUSTED_PROXIES=1`;
- warm-up: each lot's card is fetched once (the only calls to the products service);
- load: `wrk` (Debian package `wrk`; an asyncio httpx client when it is missing), 32
  connections, a random item code out of 5,000 per request (a GS1 Digital Link for a fifth
  of them) and a random client address in `X-Forwarded-For`, as many shoppers behind the
  gateway (the per-address budget of 120 views a minute applies as in production);
- afterwards the queued scans are flushed into `scans` (what `labels.flush_scans` does every
  10 s) and counted against the responses.

Several gunicorn shapes (processes x threads) run for a short while each; the best one runs
again for the full duration and is the recorded figure. `--shape 3x4` skips the search (and
the run as deployed) and records that shape only: a quicker before/after comparison.

    .venv/bin/python -m bench.bench_trace_page > section.md
    .venv/bin/python -m bench.bench_trace_page --shape 3x4
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from bench import common
from bench.common import progress
from shared.config import PROJECT_ROOT, Settings
from shared.db import Database

CONNECTIONS = 32
DURATION_S = 20
SHAPE_DURATION_S = 8
CODES = 5_000
SERIALS_PER_BATCH = 10_000
TARGET_RPS = 1_000
TARGET_P99_MS = 50.0


@dataclass(frozen=True)
class Shape:
    processes: int
    threads: int
    recycle: bool = True  # deploy/gunicorn.conf.py's max_requests (GUNICORN_MAX_REQUESTS) as is
    label_note: str = ""

    @property
    def label(self) -> str:
        note = self.label_note or ("" if self.recycle else "no recycling")
        return f"{self.processes} x {self.threads}" + (f", {note}" if note else "")


# Fewer threads, more processes: a view is short and mostly CPU, and threads of one process
# share its GIL (2026-12-04: 3 x 2 and 4 x 1 served ~1,300 req/s where 3 x 4 served ~900).
SHAPES = (Shape(2, 4), Shape(3, 2), Shape(3, 4), Shape(4, 1), Shape(4, 2))
CALIBRATION_S = 5
WARM_S = 4
SERVICES = ("accounts", "products", "labels")
PHONE_UA = "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 Mobile Safari/537.36"


# --- databases and data -----------------------------------------------------------------------


def _databases() -> dict[str, str]:
    from sqlalchemy import text

    admin = common._admin_engine()
    urls = {}
    try:
        with admin.connect() as conn:
            for service in (*SERVICES, "reports"):
                name = f"trace_bench_tp_{service}"
                common._check_name(name)
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                if service in SERVICES:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                urls[service] = common._pg_url(name)
    finally:
        admin.dispose()
    return urls


def _drop_databases() -> None:
    for service in SERVICES:
        common._drop(f"trace_bench_tp_{service}")


def _settings(tmp: Path, urls: dict[str, str]) -> Settings:
    from shared.keys import generate_rsa_pair

    private_key, public_key = generate_rsa_pair(tmp / "keys")
    databases: dict[str, Any] = {f"{s}_database_url": u for s, u in urls.items()}
    return Settings(
        mode="test",
        var_dir=str(tmp / "var"),
        secret_key="bench-secret-key-0123456789abcdef0123456789",
        service_secret="bench-service-secret-0123456789abcdef0123456789",
        serial_signing_key="bench-serial-key-0123456789abcdef0123456789",
        jwt_private_key_file=str(private_key),
        jwt_public_key_file=str(public_key),
        redis_url=common.redis_url(),
        log_format="text",
        log_level="WARNING",
        **databases,
    )


@dataclass(frozen=True)
class Seeded:
    paths: list[str]
    lots: int
    batches: int


def _seed(settings: Settings) -> Seeded:
    from services.labels import models as lm
    from services.labels.domain import codes
    from services.products import models as pm
    from shared.text import fold

    rng = random.Random(20261203)
    unit_id, est_id = uuid.uuid4(), uuid.uuid4()
    unit_path = f"/{unit_id}/"
    products_db = Database(settings.database_url("products"), service="products")
    labels_db = Database(settings.database_url("labels"), service="labels")
    directory = {
        "id": est_id,
        "unit_id": unit_id,
        "unit_path": unit_path,
        "name": "Công ty Chế biến Hải sản Hạ Long",
        "address": "Số 1 đường Bến Đoan, phường Hồng Gai, Hạ Long, Quảng Ninh",
        "phone": "0203 3825 000",
        "representative": "Nguyễn Văn An",
        "business_registration_no": "5700100001",
        "food_safety_status": "certificate",
        "certificate_no": "ATTP-QN-0042",
        "certificate_issuer": "Chi cục QLCL Nông lâm sản và Thủy sản",
        "certificate_expires_on": (datetime.now(UTC) + timedelta(days=700)).date(),
        "status": "active",
        "account_status": "active",
    }
    products: list[tuple[Any, Any]] = []
    with products_db.transaction() as session:
        session.add(
            pm.DirectoryUnit(id=unit_id, path=unit_path, code="QN-HL", name="Thành phố Hạ Long")
        )
        session.add(pm.DirectoryEstablishment(**directory))
        names = (
            "Chả mực Hạ Long",
            "Ruốc tôm Quảng Ninh",
            "Sá sùng khô Vân Đồn",
            "Nước mắm Cái Rồng",
        )
        for index, name in enumerate(names):
            gtin_body = f"893608112{index:04d}"
            gtin = _gtin14(gtin_body)
            product = pm.Product(
                id=uuid.uuid4(),
                establishment_id=est_id,
                name=name,
                name_folded=fold(name),
                code=f"SP{index:04d}",
                gtin=gtin,
                description="Sản phẩm OCOP 4 sao của tỉnh Quảng Ninh, chế biến thủ công.",
                origin="Hạ Long, Quảng Ninh",
                packaging="Hộp 500 g",
                shelf_life_days=180,
                preservation="frozen",
                standards=["TCVN 12850:2019", "HACCP"],
                ocop_stars=4,
                status="active",
            )
            session.add(product)
            session.flush()
            lot = pm.Lot(
                id=uuid.uuid4(),
                product_id=product.id,
                establishment_id=est_id,
                code=f"L2612-{index:02d}",
                production_date=datetime.now(UTC).date(),
                expiry_date=(datetime.now(UTC) + timedelta(days=180)).date(),
                quantity=Decimal("1200"),
                unit="kg",
                status="active",
            )
            session.add(lot)
            session.flush()
            for step, kind in enumerate(("production", "processing", "packing")):
                session.add(
                    pm.StageEvent(
                        id=uuid.uuid4(),
                        lot_id=lot.id,
                        establishment_id=est_id,
                        kind=kind,
                        occurred_at=datetime.now(UTC) - timedelta(days=5 - step),
                        place=f"Xưởng số {step + 1}, Hạ Long",
                        place_code=f"QN-HL-{step + 1:02d}",
                        actor="Tổ sản xuất số 1",
                    )
                )
            session.add(
                pm.Certification(
                    id=uuid.uuid4(),
                    establishment_id=est_id,
                    kind="haccp",
                    number=f"HACCP-{index:03d}",
                    issuer="Tổ chức chứng nhận",
                    valid_to=(datetime.now(UTC) + timedelta(days=400)).date(),
                )
            )
            products.append((product, lot))
    batches = []
    with labels_db.transaction() as session:
        session.add(lm.DirectoryUnit(id=unit_id, path=unit_path, code="QN-HL", name="Hạ Long"))
        session.add(
            lm.DirectoryEstablishment(
                **{k: v for k, v in directory.items() if k != "certificate_expires_on"}
            )
        )
        start = 1
        for index, (product, lot) in enumerate(products):
            batch = lm.LabelBatch(
                id=uuid.uuid4(),
                number=f"TEM-BENCH-{index:04d}",
                establishment_id=est_id,
                unit_path=unit_path,
                product_id=product.id,
                lot_id=lot.id,
                gtin=product.gtin,
                lot_code=lot.code,
                quantity=SERIALS_PER_BATCH,
                serial_start=start,
                serial_end=start + SERIALS_PER_BATCH - 1,
                template={},
                content={},
            )
            session.add(batch)
            batches.append(batch)
            start += SERIALS_PER_BATCH
        session.add(lm.SerialCounter(name="items", next_value=start))
    products_db.dispose()
    labels_db.dispose()
    key = settings.serial_signing_key or ""
    paths = []
    for _ in range(CODES):
        batch = rng.choice(batches)
        serial = rng.randint(batch.serial_start, batch.serial_end)
        if rng.random() < 0.2:
            paths.append(
                codes.digital_link(batch.gtin or "", batch.lot_code, codes.serial_code(key, serial))
            )
        else:
            paths.append(f"/q/{codes.serial_code(key, serial)}")
    return Seeded(paths=paths, lots=len(products), batches=len(batches))


def _gtin14(body13: str) -> str:
    digits = body13.rjust(13, "0")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return digits + str((10 - total % 10) % 10)


# --- the server ---------------------------------------------------------------------------------


def _env(settings: Settings, port: int, processes: int, threads: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
    env.update(
        TRACE_ENV="test",
        VAR_DIR=settings.var_dir,
        PYTHONPATH=str(PROJECT_ROOT),
        SECRET_KEY=settings.secret_key or "",
        SERVICE_SECRET=settings.service_secret or "",
        SERIAL_SIGNING_KEY=settings.serial_signing_key or "",
        JWT_PRIVATE_KEY_FILE=settings.jwt_private_key_file or "",
        JWT_PUBLIC_KEY_FILE=settings.jwt_public_key_file or "",
        REDIS_URL=settings.redis_url or "",
        LOG_FORMAT="text",
        LOG_LEVEL="WARNING",
        PORT=str(port),
        TRUSTED_PROXIES="1",
        WEB_CONCURRENCY=str(processes),
        GUNICORN_THREADS=str(threads),
        GUNICORN_BIND=f"127.0.0.1:{port}",
    )
    for service in (*SERVICES, "reports"):
        env[f"{service.upper()}_DATABASE_URL"] = settings.database_url(service)
    return env


def _start(settings: Settings, tmp: Path, shape: Shape) -> tuple[Any, str, Path]:
    port = common.free_port()
    log = tmp / f"gunicorn-{shape.label.replace(' ', '')}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"),
        *(["--max-requests", "0"] if not shape.recycle else []),
        "shared.embedded:create_embedded_app()",
    ]
    with log.open("wb") as handle:
        proc = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=_env(settings, port, shape.processes, shape.threads),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base, log
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    _stop(proc)
    raise RuntimeError(f"gunicorn did not come up:\n{log.read_text(errors='replace')[-3000:]}")


def _stop(proc: Any) -> None:
    import signal

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _warm(base: str, paths: list[str], processes: int) -> None:
    """Each lot's card once (the products service is called only here), then every process's
    caches: a few hundred requests spread over the workers. A worker still booting can leave
    the embedded products call waiting: such a request is tried again."""
    with httpx.Client(base_url=base, timeout=30) as client:
        for i, path in enumerate(paths[: 40 * processes]):
            for attempt in range(10):
                response = client.get(path, headers={"X-Forwarded-For": f"192.0.2.{i % 250}"})
                if response.status_code == 200:
                    break
                time.sleep(1 + attempt)
            else:
                raise RuntimeError(f"warm-up {path} answered {response.status_code}")


def _warm_all(base: str, paths: list[str], processes: int, tmp: Path) -> None:
    """The cards first (one request at a time), then a short discarded load so that every
    worker process has compiled its templates and filled its caches: a cold worker's first
    requests (Jinja and SQL compilation, the first queries) take a second or more and would
    otherwise land in the measured run's tail."""
    _warm(base, paths, processes)
    _load(base, paths, WARM_S, tmp)


def _restarts(log: Path) -> int:
    """Workers recycled by max_requests during the run (each boots the whole app again)."""
    return log.read_text(errors="replace").count("Autorestarting worker")


# --- load -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    tool: str
    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # non-2xx responses and socket errors
    detail: str = ""  # which: "503 x 3, read errors 2"


_WRK_SCRIPT = """
local paths = {%s}
local n = #paths
local agent = "%s"
local counter = 0
local threads = {}
setup = function(thread)
  counter = counter + 1
  thread:set("seed", counter)
  table.insert(threads, thread)
end
init = function(args)
  math.randomseed(os.time() + seed * 7919)
  statuses = {}
end
request = function()
  local r = math.random
  local ip = "10." .. r(0, 255) .. "." .. r(0, 255) .. "." .. r(1, 254)
  local headers = {["X-Forwarded-For"] = ip, ["User-Agent"] = agent}
  return wrk.format("GET", paths[r(n)], headers)
end
response = function(status, headers, body)
  if status ~= 200 then statuses[status] = (statuses[status] or 0) + 1 end
end
done = function(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      io.write(string.format("status %%d: %%d\\n", status, count))
    end
  end
end
"""


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if match is None:
        raise ValueError(value)
    number, unit = float(match.group(1)), match.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk(base: str, paths: list[str], seconds: int, tmp: Path) -> Load:
    script = tmp / "paths.lua"
    script.write_text(_WRK_SCRIPT % (",".join(f'"{p}"' for p in paths), PHONE_UA))
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "--latency",
            "-s",
            str(script),
            base,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", out, re.MULTILINE))
    requests = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    max_ms = _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    detail = [f"{s} x {c}" for s, c in re.findall(r"^status (\d+): (\d+)$", out, re.MULTILINE)]
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    if socket:
        errors += sum(int(x) for x in socket.groups())
        names = ("connect", "read", "write", "timeout")
        detail += [
            f"{n} errors {c}" for n, c in zip(names, socket.groups(), strict=True) if c != "0"
        ]
    return Load(
        tool="wrk 4.1 (2 threads)",
        seconds=seconds,
        requests=requests,
        rps=rps,
        p50_ms=_ms(latency["50"]),
        p90_ms=_ms(latency["90"]),
        p99_ms=_ms(latency["99"]),
        max_ms=max_ms,
        errors=errors,
        detail=", ".join(detail),
    )


def _httpx_load(base: str, paths: list[str], seconds: int) -> Load:
    """The fallback load generator: 32 asyncio tasks, one keep-alive connection each. Its own
    CPU use on a 2-core machine lowers the figures; wrk is the tool of record."""

    async def run() -> tuple[list[int], int, float]:
        samples: list[int] = []
        errors = 0
        rng = random.Random(7)
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        async with httpx.AsyncClient(base_url=base, timeout=5, limits=limits) as client:
            stop_at = time.monotonic() + seconds

            async def worker() -> None:
                nonlocal errors
                while time.monotonic() < stop_at:
                    ip = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
                    started = time.perf_counter_ns()
                    try:
                        response = await client.get(
                            rng.choice(paths),
                            headers={"X-Forwarded-For": ip, "User-Agent": PHONE_UA},
                        )
                        if response.status_code != 200:
                            errors += 1
                    except httpx.HTTPError:
                        errors += 1
                    samples.append(time.perf_counter_ns() - started)

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
            return samples, errors, time.perf_counter() - began

    samples, errors, wall = asyncio.run(run())
    stats = common.Stats.of_ns(samples)
    return Load(
        tool="httpx asyncio client (wrk not installed)",
        seconds=wall,
        requests=len(samples),
        rps=len(samples) / wall,
        p50_ms=stats.p50,
        p90_ms=common.percentile([s / 1e6 for s in samples], 90),
        p99_ms=stats.p99,
        max_ms=max(samples) / 1e6,
        errors=errors,
    )


def _load(base: str, paths: list[str], seconds: int, tmp: Path) -> Load:
    if shutil.which("wrk"):
        return _wrk(base, paths, seconds, tmp)
    return _httpx_load(base, paths, seconds)


# --- CPU per request ----------------------------------------------------------------------
# The machine may be shared (other test suites running): wall-clock figures then say little
# about the code. The CPU time each party spends per request does not depend on that, and
# gives the capacity of a quiet 2-core machine: 2,000 ms of CPU a second / CPU ms a request.


def _group_cpu_s(pgid: int) -> float:
    """User + system CPU seconds of every process in a process group (gunicorn's)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # field 5 (pgrp), counted after the command name
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _redis_cpu_s(settings: Settings) -> float:
    import redis

    info = redis.Redis.from_url(settings.redis_url or "").info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _children_cpu_s() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Cpu:
    server_ms: float  # gunicorn (all workers), per request
    client_ms: float  # the load generator
    redis_ms: float

    @property
    def quiet_capacity(self) -> float:
        """Requests a second a quiet machine with 2 cores could serve, load generator
        included (PostgreSQL is not on the warm path)."""
        return 2_000 / max(self.server_ms + self.client_ms + self.redis_ms, 1e-9)


def _measured_load(
    settings: Settings, proc: Any, base: str, paths: list[str], seconds: int, tmp: Path
) -> tuple[Load, Cpu]:
    server, client, store = _group_cpu_s(proc.pid), _children_cpu_s(), _redis_cpu_s(settings)
    load = _load(base, paths, seconds, tmp)
    n = max(load.requests, 1)
    cpu = Cpu(
        server_ms=(_group_cpu_s(proc.pid) - server) * 1000 / n,
        client_ms=(_children_cpu_s() - client) * 1000 / n,
        redis_ms=(_redis_cpu_s(settings) - store) * 1000 / n,
    )
    return load, cpu


# --- scans ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flushed:
    queued: int
    rows: int
    seconds: float
    alerts: int


def _flush(settings: Settings) -> Flushed:
    from services.labels.domain import scans
    from services.labels.models import CounterfeitAlert, Scan
    from shared.kv import create_store

    store = create_store(settings.redis_url, settings.var_dir)
    database = Database(settings.database_url("labels"), service="labels")
    queued = scans.pending(store)
    started = time.perf_counter()
    while scans.pending(store):
        scans.flush(database, store, settings)
    seconds = time.perf_counter() - started
    with database.transaction() as session:
        rows = session.scalar(select(func.count()).select_from(Scan)) or 0
        alerts = session.scalar(select(func.count()).select_from(CounterfeitAlert)) or 0
    database.dispose()
    return Flushed(queued=queued, rows=int(rows), seconds=seconds, alerts=int(alerts))


def _clear_scans(settings: Settings) -> None:
    from sqlalchemy import delete

    from services.labels.models import CounterfeitAlert, Scan

    database = Database(settings.database_url("labels"), service="labels")
    with database.transaction() as session:
        session.execute(delete(Scan))
        session.execute(delete(CounterfeitAlert))
    database.dispose()


def _flush_redis(settings: Settings) -> None:
    import redis

    redis.Redis.from_url(settings.redis_url or "").flushdb()


# --- the run ----------------------------------------------------------------------------------


def _verdict(load: Load) -> str:
    rps_ok = load.rps >= TARGET_RPS
    p99_ok = load.p99_ms < TARGET_P99_MS
    return f"{'met' if rps_ok else 'NOT met'} (req/s) / {'met' if p99_ok else 'NOT met'} (p99)"


def _quiet_paths() -> str:
    quiet = os.environ.get("GUNICORN_QUIET_PATHS", "/q/,/01/")
    return f"no line for {quiet}: GUNICORN_QUIET_PATHS" if quiet else "every request"


def _parse_shape(text: str) -> Shape:
    processes, _, threads = text.lower().partition("x")
    return Shape(int(processes), int(threads))


def main(shape: Shape | None = None) -> str:
    """The shape search and the recorded run; with `shape`, only that shape's recorded run."""
    from shared.migrate import upgrade

    started_at = common.utc_now()
    load_before = common.load_average()
    progress("creating databases trace_bench_tp_* and migrating")
    urls = _databases()
    rows: list[tuple[Shape, Load, int, Cpu]] = []
    final: Load | None = None
    final_cpu: Cpu | None = None
    bare: Load | None = None
    bare_cpu: Cpu | None = None
    final_restarts = 0
    flushed: Flushed | None = None
    chosen = SHAPES[0]
    try:
        with tempfile.TemporaryDirectory(prefix="bench-trace-page-") as tmp_name:
            tmp = Path(tmp_name)
            settings = _settings(tmp, urls)
            upgrade(settings, list(SERVICES))
            progress("seeding 4 lots and 40,000 serials")
            seeded = _seed(settings)
            _flush_redis(settings)
            for tried in SHAPES if shape is None else ():
                progress(f"gunicorn {tried.label}: {SHAPE_DURATION_S} s")
                proc, base, log = _start(settings, tmp, tried)
                try:
                    _warm_all(base, seeded.paths, tried.processes, tmp)
                    load, cpu = _measured_load(
                        settings, proc, base, seeded.paths, SHAPE_DURATION_S, tmp
                    )
                finally:
                    _stop(proc)
                rows.append((tried, load, _restarts(log), cpu))
                _flush_redis(settings)
                _clear_scans(settings)
            if shape is not None:
                best = shape
            else:
                best = max(rows, key=lambda r: (r[1].p99_ms < TARGET_P99_MS, r[1].rps))[0]
                # As deployed: with the config's own recycling (GUNICORN_MAX_REQUESTS), next
                # to the recorded run without it.
                progress(f"gunicorn {best.label}, {DURATION_S} s, as deployed")
                proc, base, log = _start(settings, tmp, best)
                try:
                    _warm_all(base, seeded.paths, best.processes, tmp)
                    deployed, deployed_cpu = _measured_load(
                        settings, proc, base, seeded.paths, DURATION_S, tmp
                    )
                finally:
                    _stop(proc)
                rows.append(
                    (
                        replace(best, label_note="as deployed"),
                        deployed,
                        _restarts(log),
                        deployed_cpu,
                    )
                )
                _flush_redis(settings)
                _clear_scans(settings)
            chosen = replace(best, recycle=False)
            progress(f"recorded run: gunicorn {chosen.label}, {DURATION_S} s")
            proc, base, log = _start(settings, tmp, chosen)
            try:
                _warm_all(base, seeded.paths, chosen.processes, tmp)
                # The machine's speed right now: the root app's bare JSON route (/healthz)
                # on the same server, to read the trace figures against.
                bare, bare_cpu = _measured_load(
                    settings, proc, base, ["/healthz"], CALIBRATION_S, tmp
                )
                _flush_redis(settings)
                _clear_scans(settings)
                final, final_cpu = _measured_load(
                    settings, proc, base, seeded.paths, DURATION_S, tmp
                )
            finally:
                _stop(proc)
            final_restarts = _restarts(log)
            progress("flushing the queued scans")
            flushed = _flush(settings)
            pg_version = common.BenchDatabase("x", urls["labels"]).server_version()
    finally:
        _drop_databases()
    assert final is not None
    assert final_cpu is not None
    assert bare is not None
    assert bare_cpu is not None
    assert flushed is not None
    lines = [
        "",
        "## Trace page under load (gunicorn, PostgreSQL, Redis) — recorded run",
        "",
        f"- date: {started_at}; machine: {common.machine_line()}",
        f"- command: `.venv/bin/python -m bench.bench_trace_page` (PostgreSQL {pg_version}; "
        f"commit {common.git_revision()}; load average at the start {load_before}, "
        f"at the end {common.load_average()})",
        f"- server: the embedded app under `gunicorn -c deploy/gunicorn.conf.py` (gthread), "
        f"{chosen.label} (`--max-requests 0`), access log on ({_quiet_paths()}); "
        "load generator "
        f"{final.tool} on the same machine, {CONNECTIONS} connections, {CODES:,} item codes "
        f"(1 in 5 as a GS1 Digital Link) over {seeded.batches} batches, a random client "
        "address per request (X-Forwarded-For, TRUSTED_PROXIES=1)",
        "",
        "| processes x threads | s | requests | req/s | p50 ms | p90 ms | p99 ms | max ms "
        "| non-200 | worker restarts | CPU ms/request: server / wrk / Redis | quiet-machine "
        "capacity req/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    table = [(s.label, load, n, cpu) for s, load, n, cpu in rows]
    table.append((f"**{chosen.label} (recorded)**", final, final_restarts, final_cpu))
    for label, load, restarts, cpu in table:
        lines.append(
            f"| {label} | {load.seconds:.0f} | {load.requests:,} | {load.rps:,.0f} | "
            f"{common.fmt_ms(load.p50_ms)} | {common.fmt_ms(load.p90_ms)} | "
            f"{common.fmt_ms(load.p99_ms)} | {common.fmt_ms(load.max_ms)} | {load.errors:,}"
            f"{f' ({load.detail})' if load.detail else ''} "
            + (
                f"| {restarts} | {cpu.server_ms:.3f} / {cpu.client_ms:.3f} / {cpu.redis_ms:.3f} "
                f"| {cpu.quiet_capacity:,.0f} |"
                if not restarts
                else f"| {restarts} | n/a (recycled workers) | n/a |"
            )
        )
    lines += [
        "",
        f"Target >= {TARGET_RPS:,} req/s with p99 < {TARGET_P99_MS:.0f} ms at {CONNECTIONS} "
        f"connections: {_verdict(final)}.",
        "",
        f"The machine at the time: the bare JSON route `/healthz` of the same server answered "
        f"{bare.rps:,.0f} req/s (p50 {common.fmt_ms(bare.p50_ms)} ms, p99 "
        f"{common.fmt_ms(bare.p99_ms)} ms; server CPU {bare_cpu.server_ms:.3f} ms a request), "
        f"against ~2,900 req/s for such a route on this machine when quiet (the issue's "
        f"figure): the trace page served {final.rps / max(bare.rps, 1e-9):.0%} of the bare "
        f"route's rate, which on a quiet machine would be about "
        f"{2_900 * final.rps / max(bare.rps, 1e-9):,.0f} req/s.",
        "",
        f"Scans: {flushed.queued:,} queued in Redis during the recorded run, "
        f"{flushed.rows:,} rows in `scans` after the flush ({flushed.seconds:.2f} s, "
        f"{flushed.rows / max(flushed.seconds, 1e-9):,.0f} rows/s); "
        f"{flushed.alerts:,} counterfeit alerts raised"
        + (
            "."
            if flushed.rows >= final.requests
            else " — FEWER ROWS THAN REQUESTS: the run did not measure the trace page."
        ),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--shape", type=_parse_shape, help="processes x threads, e.g. 3x4")
    print(main(parser.parse_args().shape))
