"""Token verification and login cost, against the issue's targets.

Targets: token verification adds under 0.5 ms per request; login (argon2id) p50 under 150 ms.

    .venv/bin/python -m bench.bench_auth > section.md     # progress goes to stderr

Needs PostgreSQL (DATABASE_URL, default postgres@127.0.0.1:5432, trust auth) and Redis
(REDIS_URL, default db 14 on 127.0.0.1:6379; the bench FLUSHes that database). It creates and
drops its own database, and starts gunicorn on a free loopback port for the concurrent case.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask

from bench import common
from bench.common import Stats, fmt_ms, progress, stats_table
from services.accounts.domain import passwords
from services.accounts.domain.login import TokenIssuer
from services.accounts.models import Account
from shared.auth import ISSUER, USER_AUDIENCE, TokenVerifier, current_principal
from shared.config import PROJECT_ROOT, Settings
from shared.db import Database, get_database
from shared.keys import generate_rsa_pair
from shared.kv import RedisStore

COMMAND = ".venv/bin/python -m bench.bench_auth"
VERIFY_TARGET_MS = 0.5
LOGIN_TARGET_MS = 150.0

WARM_N = 20_000
COLD_N = 5_000
CONTEXT_N = 5_000
HEALTHZ_N = 2_000
LOGIN_N = 100
ARGON2_N = 50
GUNICORN_LOGINS = 200
GUNICORN_THREADS = 4
GUNICORN_WORKERS = 2
SAME_ACCOUNT_LOGINS = 40
SINGLE_CLIENT_LOGINS = 30

ADMIN = "admin"
PASSWORD = "Quang Ninh truy xuat 2024"
TOKEN_PATH = "/api/v1/auth/token"


@dataclass(frozen=True)
class Keys:
    private_file: Path
    public_file: Path

    @property
    def private_pem(self) -> str:
        return self.private_file.read_text()

    @property
    def public_pem(self) -> str:
        return self.public_file.read_text()


def _timed(call: Callable[[], object], n: int, warmup: int = 0) -> list[int]:
    for _ in range(warmup):
        call()
    samples: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(n):
        start = clock()
        call()
        samples.append(clock() - start)
    return samples


def _bench_account() -> Account:
    # Transient (never flushed), so column defaults are not applied: set what the token reads.
    return Account(
        id=uuid.uuid4(),
        username="bench",
        role="admin",
        token_version=1,
        unit_id=None,
        establishment_id=None,
        must_change_password=False,
    )


def _issue_token(keys: Keys) -> str:
    issuer = TokenIssuer(
        private_key_pem=keys.private_pem,
        access_ttl=timedelta(minutes=15),
        refresh_ttl=timedelta(hours=12),
    )
    return issuer.access_token(_bench_account(), uuid.uuid4())


# --- a) TokenVerifier.verify ------------------------------------------------------------------


def bench_verify(keys: Keys, redis_url: str, token: str) -> list[tuple[str, Stats]]:
    store = RedisStore(redis_url)
    warm = TokenVerifier(
        public_key_pem=keys.public_pem, service_secret="bench", store=store, cache_seconds=2.0
    )
    # A cache lifetime shorter than one call: every verify() asks Redis, as after a cache miss.
    cold = TokenVerifier(
        public_key_pem=keys.public_pem, service_secret="bench", store=store, cache_seconds=1e-9
    )
    public_key = load_pem_public_key(keys.public_pem.encode())
    if not isinstance(public_key, RSAPublicKey):
        raise TypeError("the bench key pair must be RSA")
    progress(f"verify(), warm cache, {WARM_N:,} calls")
    warm_samples = _timed(lambda: warm.verify(token), WARM_N, warmup=500)
    progress(f"verify(), cold cache, {COLD_N:,} calls")
    cold_samples = _timed(lambda: cold.verify(token), COLD_N, warmup=200)
    progress("RS256 decode alone and one Redis MGET, for the breakdown")
    decode_samples = _timed(
        lambda: jwt.decode(
            token, public_key, algorithms=["RS256"], audience=USER_AUDIENCE, issuer=ISSUER
        ),
        COLD_N,
        warmup=200,
    )
    mget_samples = _timed(lambda: store.get_many(["tokver:x", "sess:y"]), COLD_N, warmup=200)
    store.client.close()
    return [
        ("verify(), warm revocation cache (2 s)", Stats.of_ns(warm_samples)),
        ("verify(), cold cache (Redis MGET every call)", Stats.of_ns(cold_samples)),
        ("breakdown: RS256 jwt.decode alone", Stats.of_ns(decode_samples)),
        ("breakdown: Redis MGET of the 2 revocation keys", Stats.of_ns(mget_samples)),
    ]


# --- b) added per request in Flask -------------------------------------------------------------


@dataclass(frozen=True)
class Overhead:
    healthz: Stats
    bare: Stats
    verified: Stats

    @property
    def added_p50(self) -> float:
        return self.verified.p50 - self.bare.p50

    @property
    def added_mean(self) -> float:
        return self.verified.mean - self.bare.mean

    @property
    def added_p95(self) -> float:
        return self.verified.p95 - self.bare.p95


def bench_request_overhead(app: Flask, token: str) -> Overhead:
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    progress(f"GET /healthz through the test client, {HEALTHZ_N:,} requests")
    healthz = _timed(lambda: client.get("/healthz"), HEALTHZ_N, warmup=100)

    def bare() -> None:
        with app.test_request_context("/x", headers=headers):
            pass

    def verified() -> None:
        with app.test_request_context("/x", headers=headers):
            current_principal()

    for _ in range(300):
        bare()
        verified()
    # Interleaved, so drift (CPU frequency, a neighbour's load) hits both series alike.
    progress(f"request context with and without current_principal(), {CONTEXT_N:,} each")
    clock = time.perf_counter_ns
    bare_samples: list[int] = []
    verified_samples: list[int] = []
    for _ in range(CONTEXT_N):
        start = clock()
        bare()
        middle = clock()
        verified()
        end = clock()
        bare_samples.append(middle - start)
        verified_samples.append(end - middle)
    return Overhead(
        healthz=Stats.of_ns(healthz),
        bare=Stats.of_ns(bare_samples),
        verified=Stats.of_ns(verified_samples),
    )


# --- c) login through the test client, and argon2id alone -------------------------------------


def load_user(index: int) -> str:
    return f"bench.load{index}"


def seed(database_url: str) -> str:
    """Demo accounts plus one account per load thread; returns the admin's password hash."""
    from sqlalchemy import select

    from services.accounts.domain import accounts as account_ops
    from services.accounts.seed import SYSTEM, seed_demo

    database = Database(database_url, service="accounts")
    try:
        with database.transaction() as session:
            seed_demo(session, admin_username=ADMIN, admin_password=PASSWORD)
            password_hash = passwords.hash_password(PASSWORD)
            for index in range(GUNICORN_THREADS):
                account = account_ops.grant(
                    session,
                    actor=SYSTEM,
                    role="admin",
                    display_name=f"Bench load {index}",
                    username=load_user(index),
                    reason="benchmark",
                ).account
                account.password_hash = password_hash
                account.must_change_password = False
        with database.transaction() as session:
            stored = session.scalar(select(Account.password_hash).where(Account.username == ADMIN))
    finally:
        database.dispose()
    if not stored:
        raise RuntimeError("seeding did not create the admin account")
    return stored


def _check_login(status: int, body: Any) -> None:
    # Not a timing assert: a failed login would time the wrong path (the throttle, a 401).
    if status != 200:
        raise RuntimeError(f"login answered {status}: {body!r}")


def bench_login_sequential(app: Flask) -> Stats:
    client = app.test_client()
    credentials = {"username": ADMIN, "password": PASSWORD}

    def one() -> None:
        response = client.post(TOKEN_PATH, json=credentials)
        _check_login(response.status_code, response.get_data(as_text=True)[:300])

    progress(f"POST {TOKEN_PATH} through the test client, {LOGIN_N} logins")
    return Stats.of_ns(_timed(one, LOGIN_N, warmup=3))


def bench_argon2(stored_hash: str) -> Stats:
    progress(f"passwords.verify_password alone, {ARGON2_N} runs")
    return Stats.of_ns(
        _timed(lambda: passwords.verify_password(stored_hash, PASSWORD), ARGON2_N, warmup=2)
    )


# --- d) login under concurrency through gunicorn ----------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    single: Stats
    stats: Stats
    wall_seconds: float
    # Same account from every thread at once: answers by status (a correctness observation).
    same_account_statuses: dict[int, int]

    @property
    def throughput(self) -> float:
        return self.stats.n / self.wall_seconds


def _run_threads(
    base: str, usernames: list[str], per_thread: int, warmup: int
) -> tuple[list[int], list[int], float]:
    """Each thread logs in `per_thread` times as its user; returns latencies, statuses, wall."""
    barrier = threading.Barrier(len(usernames) + 1)
    lock = threading.Lock()
    samples: list[int] = []
    statuses: list[int] = []
    errors: list[BaseException] = []

    def worker(username: str) -> None:
        credentials = {"username": username, "password": PASSWORD}
        # One keep-alive connection per thread, like a browser or a pooled API client.
        with httpx.Client(base_url=base, timeout=30) as client:
            try:
                for _ in range(warmup):
                    client.post(TOKEN_PATH, json=credentials)
            finally:
                barrier.wait()
            for _ in range(per_thread):
                start = time.perf_counter_ns()
                response = client.post(TOKEN_PATH, json=credentials)
                elapsed = time.perf_counter_ns() - start
                with lock:
                    samples.append(elapsed)
                    statuses.append(response.status_code)

    def guarded(username: str) -> None:
        try:
            worker(username)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(name,)) for name in usernames]
    for thread in threads:
        thread.start()
    barrier.wait()  # the clock starts once every thread is warm
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return samples, statuses, wall


def _gunicorn_env(settings: Settings, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TRACE_ENV="test",
        VAR_DIR=settings.var_dir,
        ACCOUNTS_DATABASE_URL=settings.database_url("accounts"),
        PRODUCTS_DATABASE_URL=settings.database_url("products"),
        LABELS_DATABASE_URL=settings.database_url("labels"),
        REPORTS_DATABASE_URL=settings.database_url("reports"),
        REDIS_URL=settings.redis_url or "",
        SECRET_KEY=settings.secret_key or "",
        SERVICE_SECRET=settings.service_secret or "",
        JWT_PRIVATE_KEY_FILE=settings.jwt_private_key_file or "",
        JWT_PUBLIC_KEY_FILE=settings.jwt_public_key_file or "",
        WEB_CONCURRENCY=str(GUNICORN_WORKERS),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
    )
    return env


def _wait_healthy(proc: subprocess.Popen[bytes], base: str, log_file: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_file.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # graceful: the master stops its workers
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def bench_login_gunicorn(settings: Settings, tmp: Path) -> LoadResult:
    port = common.free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = tmp / "gunicorn.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "deploy/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{port}",
        "services.accounts.app:create_app()",
    ]
    progress(f"starting gunicorn ({GUNICORN_WORKERS} workers) on {base}")
    with log_file.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=_gunicorn_env(settings, port),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_healthy(proc, base, log_file)
        # One client first: the service time without queueing, to read the concurrent figures by.
        progress(f"{SINGLE_CLIENT_LOGINS} logins from 1 thread")
        single, single_statuses, _ = _run_threads(
            base, [load_user(0)], SINGLE_CLIENT_LOGINS, warmup=2
        )
        # One account per client thread: concurrent logins of one account conflict (see below).
        progress(f"{GUNICORN_LOGINS} logins from {GUNICORN_THREADS} threads, one account each")
        samples, statuses, wall = _run_threads(
            base,
            [load_user(i) for i in range(GUNICORN_THREADS)],
            GUNICORN_LOGINS // GUNICORN_THREADS,
            warmup=2,
        )
        failed = [status for status in statuses + single_statuses if status != 200]
        if failed:
            tail = log_file.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{len(failed)} logins failed ({sorted(set(failed))}):\n{tail}")
        progress(f"{SAME_ACCOUNT_LOGINS} logins of one account from {GUNICORN_THREADS} threads")
        _, same_statuses, _ = _run_threads(
            base,
            [ADMIN] * GUNICORN_THREADS,
            SAME_ACCOUNT_LOGINS // GUNICORN_THREADS,
            warmup=0,
        )
        return LoadResult(
            single=Stats.of_ns(single),
            stats=Stats.of_ns(samples),
            wall_seconds=wall,
            same_account_statuses=dict(sorted(Counter(same_statuses).items())),
        )
    finally:
        _stop(proc)


# --- the whole run ----------------------------------------------------------------------------


def _settings(tmp: Path, accounts_url: str, redis_url: str, keys: Keys) -> Settings:
    var = tmp / "var"
    var.mkdir(parents=True, exist_ok=True)
    return Settings(
        mode="test",
        var_dir=str(var),
        secret_key="bench-secret-key",
        service_secret="bench-service-secret",
        accounts_database_url=accounts_url,
        # Only the accounts service runs here; the others' URLs must merely be set.
        products_database_url=f"sqlite:///{var / 'products.sqlite'}",
        labels_database_url=f"sqlite:///{var / 'labels.sqlite'}",
        reports_database_url=f"sqlite:///{var / 'reports.sqlite'}",
        redis_url=redis_url,
        jwt_private_key_file=str(keys.private_file),
        jwt_public_key_file=str(keys.public_file),
        log_format="text",
        log_level="WARNING",
    )


def _verdict(value: float, target: float) -> str:
    return "**met**" if value < target else "**not met**"


def _heading(title: str, when: str, machine: str, load: str) -> str:
    return (
        f"### {title}\n\nRun {when} on {machine}; command: `{COMMAND}`; "
        f"load average when this part started: {load}.\n"
    )


def main() -> str:
    started = time.perf_counter()
    when = common.utc_now()
    load_before = common.load_average()
    machine = common.machine_line()
    redis_url = common.redis_url()
    with tempfile.TemporaryDirectory(prefix="trace-bench-") as tmp_name:
        tmp = Path(tmp_name)
        private_file, public_file = generate_rsa_pair(tmp / "keys")
        keys = Keys(private_file, public_file)
        token = _issue_token(keys)
        store = RedisStore(redis_url)
        store.client.flushdb()
        redis_version = str(store.client.info("server")["redis_version"])
        store.client.close()

        progress("creating and migrating the bench database")
        bench_db = common.create_bench_database()
        try:
            pg_version = bench_db.server_version()
            settings = _settings(tmp, bench_db.url, redis_url, keys)
            loads = {"a": common.load_average()}
            verify_rows = bench_verify(keys, redis_url, token)

            from services.accounts.app import create_app

            app = create_app(settings)
            loads["b"] = common.load_average()
            overhead = bench_request_overhead(app, token)

            progress("seeding the demo accounts")
            stored_hash = seed(bench_db.url)
            RedisStore(redis_url).client.flushdb()  # no throttle state from earlier runs
            loads["c"] = common.load_average()
            login_seq = bench_login_sequential(app)
            argon2 = bench_argon2(stored_hash)
            get_database(app).dispose()

            loads["d"] = common.load_average()
            load = bench_login_gunicorn(settings, tmp)
        finally:
            progress("dropping the bench database")
            bench_db.drop()
    elapsed = time.perf_counter() - started
    load_after = common.load_average()

    warm, cold = verify_rows[0][1], verify_rows[1][1]
    sections = [
        "## Token verification and login (`bench/bench_auth.py`)",
        "",
        f"- Date: {when}",
        f"- Machine: {machine}",
        f"- Command: `{COMMAND}` (from the project root; whole run took {elapsed:.0f} s)",
        f"- Load average (1/5/15 min) at start: {load_before}; at end: {load_after} "
        f"({os.cpu_count()} CPUs; anything else running skews these figures)",
        f"- Code: git {common.git_revision()}",
        f"- Services: PostgreSQL {pg_version}, Redis {redis_version}, both on loopback",
        f"- Libraries: PyJWT {version('PyJWT')}, cryptography {version('cryptography')}, "
        f"argon2-cffi {version('argon2-cffi')}, Flask {version('flask')}, "
        f"gunicorn {version('gunicorn')}",
        "",
        _heading("a) Token verification: `TokenVerifier.verify()`", when, machine, loads["a"]),
        "A user access token (RS256, 2048-bit key) verified in a loop. Warm: the revocation "
        "check is answered from the 2 s local cache (Redis is asked about once per 2 s, which "
        "shows in p99 at most). Cold: the cache lifetime is shorter than a call, so every "
        "verification also does one Redis MGET round trip.",
        "",
        stats_table(verify_rows),
        "",
        f"Target < {VERIFY_TARGET_MS} ms per verification: warm cache "
        f"{_verdict(warm.p50, VERIFY_TARGET_MS)} at p50 ({fmt_ms(warm.p50)} ms) and "
        f"{_verdict(warm.p95, VERIFY_TARGET_MS)} at p95 ({fmt_ms(warm.p95)} ms); "
        f"cold cache (every call asks Redis) {_verdict(cold.p50, VERIFY_TARGET_MS)} at p50 "
        f"({fmt_ms(cold.p50)} ms) and {_verdict(cold.p95, VERIFY_TARGET_MS)} at p95 "
        f"({fmt_ms(cold.p95)} ms).",
        "",
        _heading("b) Added per request in the Flask app", when, machine, loads["b"]),
        "The accounts app from `create_app(settings)`. A request context carrying the "
        "`Authorization: Bearer` header, entered and left, with and without "
        "`current_principal()` inside (interleaved); the difference is what verification "
        "adds to a request. A whole `GET /healthz` (no auth) through the test client is "
        "there for scale.",
        "",
        stats_table(
            [
                ("GET /healthz via test client (no auth, for scale)", overhead.healthz),
                ("request context, no verification", overhead.bare),
                ("request context + current_principal()", overhead.verified),
            ]
        ),
        "",
        f"Added per request: p50 {fmt_ms(overhead.added_p50)} ms, "
        f"mean {fmt_ms(overhead.added_mean)} ms, p95 {fmt_ms(overhead.added_p95)} ms "
        "(differences of the two rows above).",
        "",
        f"Target < {VERIFY_TARGET_MS} ms added per request: "
        f"{_verdict(overhead.added_p50, VERIFY_TARGET_MS)} at p50, "
        f"{_verdict(overhead.added_p95, VERIFY_TARGET_MS)} at p95.",
        "",
        _heading("c) Login, sequential, through the Flask test client", when, machine, loads["c"]),
        f"`POST {TOKEN_PATH}` with the seeded admin's name and password, one after another "
        "(after 3 warm-up logins). Each login: throttle check (Redis), account lookup, "
        "argon2id verification (64 MiB, t=2, p=2), a new login session row, an audit row, "
        "the RS256 signature of the access token, and the commit. The argon2id verification "
        "alone is the second row.",
        "",
        stats_table(
            [
                ("POST /auth/token (whole request)", login_seq),
                ("passwords.verify_password alone (argon2id)", argon2),
            ]
        ),
        "",
        f"Target login p50 < {LOGIN_TARGET_MS:.0f} ms: p50 {fmt_ms(login_seq.p50)} ms: "
        f"{_verdict(login_seq.p50, LOGIN_TARGET_MS)} "
        f"(p95 {fmt_ms(login_seq.p95)} ms).",
        "",
        _heading("d) Login under concurrency through gunicorn", when, machine, loads["d"]),
        f"`gunicorn -c deploy/gunicorn.conf.py` with WEB_CONCURRENCY={GUNICORN_WORKERS} "
        f"(gthread, 4 threads each) on a loopback port. First {SINGLE_CLIENT_LOGINS} logins "
        "from a single client (no queueing); then "
        f"{GUNICORN_THREADS} client threads "
        f"(httpx, one keep-alive connection each, each logging in as its own account) make "
        f"{GUNICORN_LOGINS} logins in all, after 2 warm-up logins per thread. Latency is seen "
        "by the client, so it includes queueing whenever more logins are in flight than "
        "there are cores.",
        "",
        stats_table(
            [
                ("POST /auth/token, 1 client", load.single),
                (f"POST /auth/token, {GUNICORN_THREADS} concurrent clients", load.stats),
            ]
        ),
        "",
        f"Throughput: {load.throughput:.1f} logins/s "
        f"({load.stats.n} in {load.wall_seconds:.1f} s).",
        "",
        f"Target login p50 < {LOGIN_TARGET_MS:.0f} ms: p50 {fmt_ms(load.stats.p50)} ms "
        f"under {GUNICORN_THREADS} concurrent clients: "
        f"{_verdict(load.stats.p50, LOGIN_TARGET_MS)} (p95 {fmt_ms(load.stats.p95)} ms).",
        "",
        f"Observation, not a timing: {SAME_ACCOUNT_LOGINS} logins of one and the same account "
        f"from {GUNICORN_THREADS} threads at once answered "
        + ", ".join(f"{status}: {count}" for status, count in load.same_account_statuses.items())
        + ". Every login updates the account row (`last_login_at`), which carries an "
        "optimistic `version`; when logins of one account overlap, all but one lose that "
        "race, and any answer other than 200 above is such a refused login.",
        "",
    ]
    return "\n".join(sections)


if __name__ == "__main__":
    print(main())
