"""Helpers shared by the benchmarks: the machine, percentiles, and a throwaway database.

Benchmarks record numbers; they never assert on them. Timings depend on the machine, so every
result is printed next to a description of the machine it came from.
"""

from __future__ import annotations

import math
import os
import platform
import re
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from shared.config import PROJECT_ROOT, Settings

DEFAULT_SERVER_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
# Far from the test suite's databases (1, 2, 3, ... per xdist worker) because benches flush it.
BENCH_REDIS_DB = 14
BENCH_DATABASE = "trace_bench_accounts"


# --- the machine ------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / (1024 * 1024)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _usable_cores() -> int:
    # A container may be allowed fewer cores than the host has; that is what the bench gets.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def machine() -> dict[str, str]:
    memory = _memory_gib()
    return {
        "cpu": _cpu_model(),
        "cores": f"{_usable_cores()} usable ({os.cpu_count()} online)",
        "memory": f"{memory:.1f} GiB" if memory is not None else "unknown",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(terse=True),
    }


def machine_line() -> str:
    m = machine()
    return f"{m['cpu']}, {m['cores']} cores, {m['memory']} RAM, {m['python']}, {m['os']}"


def load_average() -> str:
    """The 1/5/15-minute load averages: other work on the machine skews every figure."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:  # pragma: no cover - not available
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def git_revision() -> str:
    """The commit measured, marked when the working tree differs from it."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit} + uncommitted changes" if dirty else commit


# --- statistics -------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), for 0 <= pct <= 100."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Stats:
    """Latencies in milliseconds."""

    n: int
    mean: float
    p50: float
    p95: float
    p99: float

    @classmethod
    def of_ns(cls, samples_ns: Sequence[int]) -> Stats:
        ms = [s / 1e6 for s in samples_ns]
        return cls(
            n=len(ms),
            mean=sum(ms) / len(ms),
            p50=percentile(ms, 50),
            p95=percentile(ms, 95),
            p99=percentile(ms, 99),
        )


def fmt_ms(value: float) -> str:
    # Sub-millisecond figures need three decimals to mean anything; login times do not.
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def stats_table(rows: Sequence[tuple[str, Stats]]) -> str:
    lines = [
        "| case | n | mean ms | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, s in rows:
        lines.append(
            f"| {label} | {s.n:,} | {fmt_ms(s.mean)} | {fmt_ms(s.p50)} | "
            f"{fmt_ms(s.p95)} | {fmt_ms(s.p99)} |"
        )
    return "\n".join(lines)


def progress(message: str) -> None:
    # stdout carries only the Markdown, so it can be redirected into RESULTS.md as is.
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- services the benches need ----------------------------------------------------------------


def redis_url() -> str:
    """REDIS_URL, or db 14 on the local server; a URL without a db number gets db 14.

    The benches FLUSHDB this database, so an URL pointing at db 0 by omission must not be used.
    """
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if not re.search(r"/\d+/?$", url.split("?", 1)[0]):
        base, sep, query = url.partition("?")
        url = f"{base.rstrip('/')}/{BENCH_REDIS_DB}{sep}{query}"
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_SERVER_URL


def _pg_url(database: str) -> str:
    url = make_url(_server_url())
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.set(database=database).render_as_string(hide_password=False)


@dataclass(frozen=True)
class BenchDatabase:
    name: str
    url: str

    def server_version(self) -> str:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar())
        finally:
            engine.dispose()

    def drop(self) -> None:
        _drop(self.name)


def _admin_engine() -> Engine:
    # CREATE/DROP DATABASE cannot run inside a transaction block.
    return create_engine(
        _pg_url(make_url(_server_url()).database or "postgres"), isolation_level="AUTOCOMMIT"
    )


def _check_name(name: str) -> None:
    # The name goes into DDL unquoted-by-parameter (PostgreSQL cannot bind identifiers).
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"unsafe database name: {name!r}")


def _drop(name: str) -> None:
    _check_name(name)
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def create_bench_database(name: str = BENCH_DATABASE) -> BenchDatabase:
    """A fresh PostgreSQL database with the accounts migrations applied.

    A database left behind by an interrupted run is dropped first, so reruns start clean.
    """
    from shared.migrate import upgrade

    _check_name(name)
    _drop(name)
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = _pg_url(name)
    upgrade(Settings(accounts_database_url=url), ["accounts"])
    return BenchDatabase(name=name, url=url)
