"""The annual report at province scale (issue 6): compiled with its XLSX and PDF in under 60 s.

Province scale: 30,000 establishments, 100,000 products, 1,000,000 lots, 10,000,000 label
serials, 5,000,000 scans. Four databases of their own (`reports_bench_<service>`), created and
migrated with `shared.migrate.upgrade`, filled once from a seeded generator and reused by
later runs (`--force` builds them again):

- accounts: the unit tree of data/appendix01_accounts_2023.csv under a province root; 30,000
  establishments over its leaf units (certificate/commitment status, OCOP), one assignment
  each (2 % re-assigned during the year), ~10 % with an operating account granted over
  2023–2024 (some revoked);
- products: the directory copy (same ids); 100,000 products (4 % OCOP-rated, 5 % key, 30 %
  packaged-processed); 10 lots each (1,000,000, about two thirds created in 2024); one diary
  entry (stage event) for 70 % of the lots of 60 % of the products (those whose
  establishment keeps a diary), so "traceable" is ~60 % of the packaged-processed products;
- labels: the directory copy; product-level QR codes for 20 % of the products; 20,000 label
  batches of 500 serials (10,000,000) ordered in 2024; 250 scans per batch (5,000,000) over
  2024; a few hundred counterfeit alerts;
- reports: the 2024 account plan, data/appendix02_account_plan_2024.csv's monthly figures for
  its leaf units, and six submitted narratives.

Lots, diary entries and scans take their ids from `gen_random_uuid()`, so they differ between
builds (their counts and dates do not: `setseed` first).

Small tables are written with COPY from Python; lots, diary entries and scans are derived
from them inside PostgreSQL (`INSERT … SELECT` over `generate_series`, `setseed` first), which
keeps the whole build to about a minute and a half on 2 cores.

Measured: `compile.run` (the job body) for the 2024 annual report of the province, with the
four services answering over their real HTTP APIs in this process (an httpx WSGI transport,
as tests/conftest.py's `in_process_gateway`), broken down into phases by wrapping the
functions it calls; then the scheduled variant (`each_unit=True`: one report per unit).

    .venv/bin/python -m bench.bench_reports            # build once, then measure
    .venv/bin/python -m bench.bench_reports --force    # build the data again
    .venv/bin/python -m bench.bench_reports --runs 5 --no-each-unit
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import random
import resource
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import psycopg
from sqlalchemy import create_engine, text

from bench import common
from shared.config import PROJECT_ROOT

SERVICES = ("accounts", "products", "labels", "reports")
PREFIX = "reports_bench_"
VERSION = 2  # bump when the generator changes: older databases are rebuilt
SEED = 20261204
YEAR = 2024
ESTABLISHMENTS = 30_000
PRODUCTS = 100_000
LOTS_PER_PRODUCT = 10
BATCHES, SERIALS_PER_BATCH = 20_000, 500
SCANS_PER_BATCH = 250
ACCOUNT_SHARE = 0.10
# Products whose establishment keeps a diary, and the share of their lots with an entry.
TRACED_PRODUCTS, TRACED_LOTS = 0.60, 0.70
QR_SHARE = 0.20  # products with a product-level QR code
TARGET_S = 60.0
APPENDIX01 = PROJECT_ROOT / "data" / "appendix01_accounts_2023.csv"
APPENDIX02 = PROJECT_ROOT / "data" / "appendix02_account_plan_2024.csv"


def _db(service: str) -> str:
    return f"{PREFIX}{service}"


def _url(service: str) -> str:
    return common._pg_url(_db(service))


def _conninfo(service: str) -> str:
    return _url(service).replace("postgresql+psycopg://", "postgresql://")


# --- the data ---------------------------------------------------------------------------------


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _moment(rng: random.Random, start: date, end: date) -> datetime:
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    span = (datetime(end.year, end.month, end.day, tzinfo=UTC) - first).total_seconds()
    return first + timedelta(seconds=rng.random() * span)


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S+00")


class _Lines:
    """COPY text lines, written to the server in large chunks."""

    def __init__(self, copy: Any) -> None:
        self.copy, self.parts = copy, list[str]()

    def add(self, *values: object) -> None:
        self.parts.append("\t".join("\\N" if v is None else str(v) for v in values) + "\n")
        if len(self.parts) >= 50_000:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.copy.write("".join(self.parts))
            self.parts = []


@contextmanager
def _copy(cursor: Any, table: str, columns: str) -> Iterator[_Lines]:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        lines = _Lines(copy)
        yield lines
        lines.flush()


class _Units:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []  # id, parent_id, path, code, name, level
        self.leaves: list[dict[str, Any]] = []


def _unit_tree(rng: random.Random) -> _Units:
    with APPENDIX01.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["level"] != "total"]
    units = _Units()
    root = {"id": _uuid(rng), "parent_id": None, "code": "QN", "name": "Tỉnh Quảng Ninh"}
    root |= {"level": "province", "path": f"/{root['id']}/"}
    by_code = {"": root}
    units.rows.append(root)
    for row in rows:
        parent = by_code[row["parent_code"]]
        unit = {"id": _uuid(rng), "parent_id": parent["id"], "code": row["code"]}
        unit |= {"name": row["name"], "level": row["level"]}
        unit["path"] = f"{parent['path']}{unit['id']}/"
        by_code[row["code"]] = unit
        units.rows.append(unit)
    parents = {u["parent_id"] for u in units.rows}
    units.leaves = [u for u in units.rows if u["id"] not in parents]
    return units


def _establishments(rng: random.Random, units: _Units) -> list[dict[str, Any]]:
    # Districts manage most establishments; departments' sub-units fewer.
    weights = [6.0 if u["level"] == "district" else 2.0 for u in units.leaves]
    out = []
    for n in range(ESTABLISHMENTS):
        unit = rng.choices(units.leaves, weights)[0]
        created = _moment(rng, date(2019, 1, 1), date(2024, 12, 31))
        status = rng.choices(("certificate", "commitment", "none"), (60, 35, 5))[0]
        out.append(
            {
                "id": _uuid(rng),
                "n": n,
                "unit": unit,
                "created": created,
                "food_safety_status": status,
                "ocop": rng.random() < 0.03,
                "active": rng.random() < 0.98,
            }
        )
    return out


def _fill_accounts(
    units: _Units, establishments: list[dict[str, Any]], rng: random.Random
) -> tuple[int, int]:
    rows = accounts = 0
    with psycopg.connect(_conninfo("accounts")) as conn, conn.cursor() as cur:
        now = _ts(datetime(2024, 1, 1, tzinfo=UTC))
        with _copy(
            cur,
            "units",
            "id, parent_id, path, code, name, name_folded, level, status, version, "
            "created_at, updated_at",
        ) as out:
            for u in units.rows:
                out.add(u["id"], u["parent_id"], u["path"], u["code"], u["name"],
                        u["code"].lower(), u["level"], "active", 1, now, now)  # fmt: skip
        with _copy(
            cur,
            "establishments",
            "id, name, name_folded, unit_id, version, created_at, updated_at, activities, "
            "sectors, food_safety_status, ocop, status, search_text",
        ) as out:
            for e in establishments:
                name = f"Cơ sở {e['unit']['code']} {e['n']}"
                folded = f"co so {e['unit']['code'].lower()} {e['n']}"
                out.add(e["id"], name, folded, e["unit"]["id"], 1, _ts(e["created"]),
                        _ts(e["created"]), "", "", e["food_safety_status"], e["ocop"],
                        "active" if e["active"] else "closed", folded)  # fmt: skip
        # Every establishment's assignment since it was created; 2 % moved during the year
        # (their earlier unit is another leaf, until the move).
        with _copy(cur, "establishment_assignments", "establishment_id, unit_id, valid_from, "
                   "valid_to") as out:  # fmt: skip
            for e in establishments:
                if rng.random() < 0.02:
                    moved = _moment(rng, date(YEAR, 1, 1), date(YEAR, 12, 31))
                    before = rng.choice(units.leaves)["id"]
                    out.add(e["id"], before, _ts(e["created"]), _ts(moved))
                    out.add(e["id"], e["unit"]["id"], _ts(moved), None)
                    rows += 2
                else:
                    out.add(e["id"], e["unit"]["id"], _ts(e["created"]), None)
                    rows += 1
        with _copy(
            cur,
            "accounts",
            "id, username, display_name, role, establishment_id, status, password_hash, "
            "must_change_password, token_version, version, created_at, updated_at",
        ) as out:
            for e in establishments:
                if rng.random() >= ACCOUNT_SHARE:
                    continue
                granted = max(e["created"], _moment(rng, date(2023, 1, 1), date(2024, 12, 31)))
                status = "revoked" if rng.random() < 0.03 else "active"
                accounts += 1
                out.add(_uuid(rng), f"cs{e['n']:05d}", f"Cơ sở {e['n']}", "establishment",
                        e["id"], status, "x", False, 1, 1, _ts(granted), _ts(granted))  # fmt: skip
    return rows, accounts


def _fill_directory(cur: Any, units: _Units, establishments: list[dict[str, Any]]) -> None:
    synced = _ts(datetime(2024, 12, 31, tzinfo=UTC))
    with _copy(cur, "directory_units", "id, parent_id, path, code, name, status, synced_at") as out:
        for u in units.rows:
            out.add(u["id"], u["parent_id"], u["path"], u["code"], u["name"], "active", synced)
    with _copy(
        cur,
        "directory_establishments",
        "id, unit_id, unit_path, name, food_safety_status, ocop, status, account_status, synced_at",
    ) as out:
        for e in establishments:
            out.add(e["id"], e["unit"]["id"], e["unit"]["path"], f"Cơ sở {e['n']}",
                    e["food_safety_status"], e["ocop"], "active" if e["active"] else "closed",
                    "none", synced)  # fmt: skip


def _products(rng: random.Random, establishments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for n in range(PRODUCTS):
        owner = establishments[rng.randrange(len(establishments))]
        created = max(owner["created"], _moment(rng, date(2019, 6, 1), date(2024, 12, 31)))
        ocop = rng.random() < 0.04
        out.append(
            {
                "id": _uuid(rng),
                "n": n,
                "establishment": owner,
                "created": created,
                "ocop_stars": rng.choice((3, 3, 4, 5)) if ocop else None,
                "ocop_decision_date": _moment(rng, date(2020, 1, 1), date(2024, 12, 31)).date()
                if ocop
                else None,
                "key": rng.random() < 0.05,
                "packaged": rng.random() < 0.30,
                "active": rng.random() < 0.95,
            }
        )
    return out


def _fill_products(
    units: _Units, establishments: list[dict[str, Any]], products: list[dict[str, Any]]
) -> dict[str, int]:
    with psycopg.connect(_conninfo("products")) as conn, conn.cursor() as cur:
        _fill_directory(cur, units, establishments)
        with _copy(
            cur,
            "products",
            "id, establishment_id, name, name_folded, code, preservation, standards, ocop_stars, "
            "ocop_decision_date, is_key_product, is_packaged_processed, status, version, "
            "created_at, updated_at",
        ) as out:
            for p in products:
                out.add(p["id"], p["establishment"]["id"], f"Sản phẩm {p['n']}",
                        f"san pham {p['n']}", f"SP{p['n']:06d}",
                        "processed" if p["packaged"] else "fresh", "[]", p["ocop_stars"],
                        p["ocop_decision_date"], p["key"], p["packaged"],
                        "active" if p["active"] else "discontinued", 1, _ts(p["created"]),
                        _ts(p["created"]))  # fmt: skip
        cur.execute("SELECT setseed(0.42)")
        # 10 lots per product between its creation and the end of the year (half in the year).
        cur.execute(
            f"""
            INSERT INTO lots (id, product_id, establishment_id, code, origin, status, version,
                              created_at, updated_at)
            SELECT gen_random_uuid(), pid, eid, code, 'produced', 'active', 1, t, t
            FROM (SELECT p.id AS pid, p.establishment_id AS eid, 'L' || g AS code,
                         CASE WHEN random() < 0.5
                         THEN timestamptz '{YEAR}-01-01' + random() * interval '365 days'
                         ELSE greatest(p.created_at, timestamptz '{YEAR}-01-01'
                                       - random() * interval '1000 days') END AS t
                  FROM products p, generate_series(1, {LOTS_PER_PRODUCT}) g) x
            """  # noqa: S608 - only the module's constants are interpolated
        )
        cur.execute(
            f"""
            INSERT INTO stage_events (id, lot_id, establishment_id, kind, occurred_at,
                                      attachments, created_at)
            SELECT gen_random_uuid(), l.id, l.establishment_id, 'production', l.created_at,
                   '[]', l.created_at + interval '1 hour'
            FROM lots l JOIN products p ON p.id = l.product_id
            WHERE ('x' || substr(md5(p.id::text), 1, 8))::bit(32)::int & 1023
                  < {int(TRACED_PRODUCTS * 1024)}
              AND random() < {TRACED_LOTS}
            """  # noqa: S608 - only the module's constants are interpolated
        )
        counts = {}
        for table in ("products", "lots", "stage_events"):
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
            counts[table] = _scalar(cur)
    return counts


def _fill_labels(
    units: _Units,
    establishments: list[dict[str, Any]],
    products: list[dict[str, Any]],
    rng: random.Random,
) -> dict[str, int]:
    with psycopg.connect(_conninfo("labels")) as conn, conn.cursor() as cur:
        _fill_directory(cur, units, establishments)
        with _copy(cur, "qr_codes", "id, code, level, establishment_id, product_id, status, "
                   "created_at, updated_at") as out:  # fmt: skip
            for p in products:
                if rng.random() < QR_SHARE:
                    at = _ts(max(p["created"], _moment(rng, date(2022, 1, 1), date(2024, 12, 31))))
                    status = "void" if rng.random() < 0.02 else "active"
                    out.add(_uuid(rng), f"P{p['n']:07d}", "product", p["establishment"]["id"],
                            p["id"], status, at, at)  # fmt: skip
        with _copy(
            cur,
            "label_batches",
            "id, number, establishment_id, unit_path, product_id, quantity, serial_start, "
            "serial_end, template, content, voided_at, created_at, updated_at",
        ) as out:
            packaged = [p for p in products if p["packaged"]]
            for n in range(BATCHES):
                p = rng.choice(packaged)
                start = 1 + n * SERIALS_PER_BATCH
                at = _ts(_moment(rng, date(YEAR, 1, 1), date(YEAR, 12, 31)))
                voided = at if rng.random() < 0.01 else None
                out.add(_uuid(rng), f"B{YEAR}-{n:06d}", p["establishment"]["id"],
                        p["establishment"]["unit"]["path"], p["id"], SERIALS_PER_BATCH, start,
                        start + SERIALS_PER_BATCH - 1, "{}", "{}", voided, at, at)  # fmt: skip
        cur.execute("SELECT setseed(0.24)")
        cur.execute(
            f"""
            INSERT INTO scans (at, level, code, serial, batch_id, product_id, establishment_id,
                               ua_class, outcome)
            SELECT least(b.created_at + random() * interval '200 days',
                         timestamptz '{YEAR}-12-31 16:59'),
                   'item', b.number || '-' || s, s, b.id, b.product_id, b.establishment_id,
                   'browser', 'ok'
            FROM label_batches b,
                 LATERAL (SELECT b.serial_start + (random() * {SERIALS_PER_BATCH - 1})::int
                          AS s FROM generate_series(1, {SCANS_PER_BATCH}) g) r
            """  # noqa: S608 - only the module's constants are interpolated
        )
        cur.execute(
            """
            INSERT INTO counterfeit_alerts (id, code, reason, serial, batch_id, product_id,
                establishment_id, unit_path, scans, places, first_seen, last_seen, status,
                created_at, updated_at)
            SELECT gen_random_uuid(), b.number || '-' || b.serial_start, 'too_many_scans',
                   b.serial_start, b.id, b.product_id, b.establishment_id, b.unit_path, 60, '[]',
                   b.created_at, b.created_at, 'open', b.created_at, b.created_at
            FROM label_batches b WHERE random() < 0.02
            """
        )
        counts = {}
        for table in ("qr_codes", "label_batches", "scans", "counterfeit_alerts"):
            cur.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
            counts[table] = _scalar(cur)
        cur.execute("SELECT sum(serial_end - serial_start + 1) FROM label_batches")
        counts["serials"] = _scalar(cur)
    return counts


def _scalar(cursor: Any) -> int:
    row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _fill_reports(units: _Units, rng: random.Random) -> int:
    """The plan: the appendix's monthly figures for the units it names, and for the province
    root the appendix's province row; narratives for a few units."""
    by_code = {u["code"]: u for u in units.rows}
    with APPENDIX02.open(encoding="utf-8") as handle:
        plan = list(csv.DictReader(handle))
    entries = 0
    with psycopg.connect(_conninfo("reports")) as conn, conn.cursor() as cur:
        now = _ts(datetime(YEAR, 3, 1, tzinfo=UTC))
        with _copy(cur, "plan_entries", "unit_id, year, month, accounts, updated_at") as out:
            for row in plan:
                unit = by_code.get(row["code"])
                if unit is None or unit not in units.leaves:
                    continue  # a parent's row is the sum of its children's
                for month in range(1, 13):
                    value = row.get(f"m{month:02d}")
                    if value:
                        out.add(unit["id"], YEAR, month, int(value), now)
                        entries += 1
        with _copy(
            cur,
            "narratives",
            "id, unit_id, kind, year, quarter, done, not_done, reasons, proposals, status, "
            "submitted_at, version, created_at, updated_at",
        ) as out:
            for unit in rng.sample(units.leaves, 6):
                out.add(_uuid(rng), unit["id"], "annual", YEAR, 0,
                        "Đã cấp tài khoản cho các cơ sở trên địa bàn. " * 8,
                        "Chưa đạt chỉ tiêu tem truy xuất. " * 4,
                        "Cơ sở nhỏ lẻ, thiếu nhân lực. " * 4, "Tăng cường tập huấn. " * 4,
                        "submitted", now, 1, now, now)  # fmt: skip
    return entries


def _exists() -> bool:
    engine = create_engine(common._pg_url("postgres"))
    try:
        with engine.connect() as conn:
            found = set(
                conn.scalars(
                    text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                    {"p": f"{PREFIX}%"},
                )
            )
    finally:
        engine.dispose()
    if not {_db(s) for s in SERVICES} <= found:
        return False
    with psycopg.connect(_conninfo("reports")) as conn:
        row = conn.execute("SELECT to_regclass('bench_reports')").fetchone()
        if row is None or row[0] is None:
            return False
        marker = conn.execute("SELECT version FROM bench_reports").fetchone()
        return marker is not None and int(marker[0]) == VERSION


def build(force: bool = False) -> str:
    """Create, migrate and fill the four databases unless they are already there."""
    if not force and _exists():
        return "reused"
    from shared.config import Settings
    from shared.migrate import upgrade

    started = time.perf_counter()
    admin = common._admin_engine()
    try:
        with admin.connect() as conn:
            for service in SERVICES:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{_db(service)}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{_db(service)}"'))
    finally:
        admin.dispose()
    urls: dict[str, Any] = {f"{s}_database_url": _url(s) for s in SERVICES}
    upgrade(Settings(**urls), list(SERVICES))
    rng = random.Random(SEED)
    units = _unit_tree(rng)
    establishments = _establishments(rng, units)
    common.progress(f"accounts: {len(units.rows)} units, {len(establishments):,} establishments")
    assignments, accounts = _fill_accounts(units, establishments, rng)
    products = _products(rng, establishments)
    common.progress("products: 100,000 products, 1,000,000 lots, diary entries …")
    product_counts = _fill_products(units, establishments, products)
    common.progress("labels: QR codes, 10,000,000 serials, 5,000,000 scans …")
    label_counts = _fill_labels(units, establishments, products, rng)
    plan = _fill_reports(units, rng)
    for service in SERVICES:
        with psycopg.connect(_conninfo(service), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
    summary = (
        f"{len(units.rows)} units, {len(establishments):,} establishments, "
        f"{assignments:,} assignments, {accounts:,} operating accounts; "
        + ", ".join(f"{v:,} {k}" for k, v in {**product_counts, **label_counts}.items())
        + f"; {plan} plan entries; built in {time.perf_counter() - started:.0f} s"
    )
    with psycopg.connect(_conninfo("reports")) as conn:
        conn.execute("CREATE TABLE bench_reports (version int, summary text)")
        conn.execute("INSERT INTO bench_reports VALUES (%s, %s)", (VERSION, summary))
    return "built"


def summary() -> str:
    with psycopg.connect(_conninfo("reports")) as conn:
        row = conn.execute("SELECT summary FROM bench_reports").fetchone()
    return str(row[0]) if row else "unknown"


# --- the measurement --------------------------------------------------------------------------


class Phases:
    """Wall time per phase of one compilation, from wrappers around what `compile.run` calls."""

    def __init__(self) -> None:
        self.times: dict[str, float] = defaultdict(float)
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, name: str, label: Callable[..., str] | str) -> None:
        original = getattr(owner, name)
        phases = self

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                key = label(*args, **kwargs) if callable(label) else label
                phases.times[key] += time.perf_counter() - started

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def close(self) -> None:
        for undo in reversed(self._undo):
            undo()


class _Context:
    """What `compile.run` needs of `shared.jobs.JobContext` (no claim, no heartbeat)."""

    def __init__(self, job_id: uuid.UUID, params: dict[str, Any]) -> None:
        self.job_id, self.params, self.created_by = job_id, params, None

    def progress(self, done: int, total: int | None = None) -> None:
        pass


def _apps(tmp: Path) -> tuple[dict[str, Any], Any]:
    import httpx
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    from shared.config import Settings
    from shared.keys import generate_rsa_pair

    private, public = generate_rsa_pair(tmp / "keys")
    urls: dict[str, Any] = {f"{s}_database_url": _url(s) for s in SERVICES}
    settings = Settings(
        mode="test",
        var_dir=str(tmp),
        secret_key="b" * 40,
        service_secret="s" * 40,
        serial_signing_key="k" * 40,
        jwt_private_key_file=str(private),
        jwt_public_key_file=str(public),
        redis_url=common.redis_url(),
        log_level="WARNING",
        accounts_url="http://gateway/accounts",
        products_url="http://gateway/products",
        labels_url="http://gateway/labels",
        reports_url="http://gateway/reports",
        **urls,
    )
    apps: dict[str, Any] = {}
    gateway = DispatcherMiddleware(NotFound(), {})
    settings = settings.with_(extra={"http_transport": httpx.WSGITransport(app=gateway)})
    for service in SERVICES:
        module = __import__(f"services.{service}.app", fromlist=["create_app"])
        apps[service] = module.create_app(settings)
    gateway.mounts.update({f"/{n}": a.wsgi_app for n, a in apps.items()})
    return apps, settings


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Top-level phases of `compile.run` (their sum and "other" make the total); the source calls
# are indented under the phase that makes them.
TOP = ("unit tree sync", "sources.read", "compute", "XLSX", "PDF", "store files")
ROWS = (
    ("unit tree sync", "unit tree sync (accounts directory)"),
    ("sources.read", "sources.read (all source calls)"),
    ("read accounts/api/v1/internal/indicators/establishments", "↳ accounts: establishments"),
    ("read accounts/api/v1/internal/indicators/grants", "↳ accounts: grants"),
    ("read products/api/v1/internal/indicators", "↳ products: indicators"),
    ("read labels/api/v1/internal/indicators", "↳ labels: indicators"),
    ("compute", "compute (roll-up, targets; sum over reports)"),
    ("XLSX", "XLSX (sum over reports)"),
    ("PDF", "PDF (sum over reports)"),
    ("store files", "store files"),
)


def _measure(runs: int, each_unit: bool) -> str:
    from services.reports.domain import compile as compiling
    from services.reports.domain import exports, indicators, sources
    from services.reports.models import Report
    from shared.db import get_database
    from shared.http import ServiceClient

    columns: list[tuple[str, int, float, dict[str, float]]] = []
    with TemporaryDirectory(prefix="bench-reports-") as tmp_dir:
        tmp = Path(tmp_dir)
        apps, settings = _apps(tmp)
        reports = apps["reports"]
        database = get_database(reports)
        store = reports.extensions["trace_files"]
        rss = {"apps built": _rss_mib()}
        sizes: dict[str, int] = defaultdict(int)

        phases = Phases()
        phases.wrap(
            ServiceClient,
            "get",
            lambda self, path, **kw: f"read {self.base_url.rsplit('/', 1)[-1]}{path}",
        )
        phases.wrap(sources, "read", "sources.read")
        phases.wrap(indicators, "compute", "compute")
        phases.wrap(exports, "to_xlsx", "XLSX")
        phases.wrap(exports, "to_pdf", "PDF")
        phases.wrap(type(compiling.COPY), "sync_units", "unit tree sync")
        original_save = store.save

        def save(key: str, data: bytes) -> None:
            sizes[key.rsplit(".", 1)[-1]] = len(data)
            original_save(key, data)

        store.save = save
        phases.wrap(store, "save", "store files")

        def one(each: bool) -> tuple[float, dict[str, float], list[dict[str, Any]]]:
            params = {"kind": "annual", "year": YEAR, "quarter": 0, "unit_id": None,
                      "trigger": "schedule" if each else "on_demand", "as_of": None,
                      "each_unit": each}  # fmt: skip
            phases.times.clear()
            context: Any = _Context(uuid.uuid4(), params)
            started = time.perf_counter()
            result = compiling.run(context, database, settings, store)
            return time.perf_counter() - started, dict(phases.times), result["reports"]

        try:
            first: list[dict[str, Any]] = []
            for attempt in range(runs):
                common.progress(f"annual report of the province: run {attempt + 1}/{runs}")
                total, times, stored = one(False)
                first = first or stored
                columns.append((f"province #{attempt + 1}", len(stored), total, times))
            province_sizes = dict(sizes)
            rss["province runs"] = _rss_mib()
            if each_unit:
                common.progress("scheduled: annual report for every unit")
                total, times, stored = one(True)
                columns.append(("every unit (scheduled)", len(stored), total, times))
                rss["scheduled run"] = _rss_mib()
            with database.transaction() as session:
                report = session.get_one(Report, uuid.UUID(first[0]["report_id"]))
                root = report.figures["units"][0]
                check = {"unit": root.get("code"), **root["total"]}
        finally:
            phases.close()
            for app in apps.values():
                get_database(app).dispose()

    lines = ["| phase, seconds | " + " | ".join(c[0] for c in columns) + " |"]
    lines.append("|---|" + "---:|" * len(columns))
    lines.append("| reports stored | " + " | ".join(str(c[1]) for c in columns) + " |")
    for key, label in ROWS:
        cells = (f"{c[3].get(key, 0.0):.2f}" for c in columns)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    other = (c[2] - sum(c[3].get(k, 0.0) for k in TOP) for c in columns)
    lines.append("| other (narratives, versions, DB writes) | "
                 + " | ".join(f"{v:.2f}" for v in other) + " |")  # fmt: skip
    lines.append("| **total `compile.run`** | " + " | ".join(f"**{c[2]:.2f}**" for c in columns)
                 + " |")  # fmt: skip
    shown = ("establishments", "with_account", "products", "packaged_processed",
             "packaged_processed_traceable", "ocop_or_key_products", "ocop_or_key_with_qr",
             "lots_created", "labels_issued", "scans", "planned_accounts")  # fmt: skip
    lines += [
        "",
        f"Province totals in the report ({check['unit']}; a sanity check of the data): "
        + ", ".join(f"{k} {check[k]:,}" for k in shown if isinstance(check.get(k), int))
        + f". Files of the province report: XLSX {province_sizes.get('xlsx', 0) / 1024:.0f} KiB,"
        f" PDF {province_sizes.get('pdf', 0) / 1024:.0f} KiB.",
        "",
        "Peak RSS of the process (the four services and the compilation, in one process): "
        + ", ".join(f"{v:.0f} MiB after the {k}" for k, v in rss.items())
        + f". Target: under {TARGET_S:.0f} s for the province's annual report with XLSX and PDF.",
    ]
    return "\n".join(lines)


def _build_in_child(force: bool) -> str:
    """Build in a child process, so the peak RSS measured is the compilation's."""
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        return str(pool.apply(build, (force,)))


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild the data even if present")
    parser.add_argument("--runs", type=int, default=3, help="province compilations (default 3)")
    parser.add_argument(
        "--no-each-unit", action="store_true", help="skip the scheduled per-unit variant"
    )
    args = parser.parse_args(argv if argv is not None else [])
    load_before = common.load_average()
    started = time.perf_counter()
    how = _build_in_child(args.force)
    common.progress(f"data {how} in {time.perf_counter() - started:.0f} s: {summary()}")
    table = _measure(args.runs, not args.no_each_unit)
    return "\n".join(
        [
            "## Reports: the annual report at province scale (`bench_reports`)",
            "",
            f"- date: {common.utc_now()}; commit {common.git_revision()}",
            f"- machine: {common.machine_line()}",
            f"- load average (1/5/15 min): {load_before} at the start, "
            f"{common.load_average()} at the end",
            f"- data ({how}): {summary()}",
            "",
            table,
            "",
        ]
    )


if __name__ == "__main__":
    import sys

    print(main(sys.argv[1:]))
