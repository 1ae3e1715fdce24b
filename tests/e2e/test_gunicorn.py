"""The accounts service under real gunicorn with several workers, PostgreSQL and Redis.

- Brute force spread over the workers is still throttled, and the answer does not reveal
  whether the login name exists [RELIABILITY 17].
- Suspending an account ends its tokens in every worker of every process within 5 s
  [RELIABILITY 19].
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.config import Settings
from tests.conftest import free_port
from tests.e2e.conftest import login
from tests.e2e.procs import settings_env, start_gunicorn, stop, wait_http

pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(180)]

APP = "services.accounts.app:create_app()"


@pytest.fixture(scope="module")
def servers(seeded: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two gunicorn instances (as two replicas of a service), three workers each."""
    logs = tmp_path_factory.mktemp("gunicorn")
    env = settings_env(seeded)
    procs, bases = [], []
    try:
        for i in range(2):
            port = free_port()
            log = logs / f"gunicorn-{i}.log"
            proc = start_gunicorn(APP, port, env, log, workers=3)
            procs.append(proc)
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/healthz", proc, log)
            bases.append(base)
        yield bases
    finally:
        for proc in procs:
            stop(proc)


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in {"request_id"}}


def test_brute_force_across_workers_is_throttled_the_same_for_unknown_users(
    servers: list[str], seeded: Settings
) -> None:
    limit = seeded.login_max_failures
    answers: dict[str, list[httpx.Response]] = {}
    for name in ("halong.canbo", "khong.ton.tai"):
        answers[name] = [login(servers[i % 2], name, "sai mật khẩu rồi") for i in range(limit + 2)]
    for responses in answers.values():
        assert [r.status_code for r in responses[:limit]] == [401] * limit
        assert [r.status_code for r in responses[limit:]] == [429, 429]
    for i in range(limit + 2):
        known, unknown = answers["halong.canbo"][i], answers["khong.ton.tai"][i]
        assert _comparable(known.json()) == _comparable(unknown.json())
    assert answers["halong.canbo"][-1].headers["Retry-After"]


def test_suspension_ends_tokens_in_every_worker_within_five_seconds(
    servers: list[str], seeded: Settings
) -> None:
    owner = login(servers[0], "htx.halong").json()["access_token"]
    admin = login(servers[1], "admin").json()["access_token"]
    me = [
        httpx.get(f"{servers[i % 2]}/api/v1/auth/me", headers={"Authorization": f"Bearer {owner}"})
        for i in range(12)
    ]
    assert {r.status_code for r in me} == {200}  # every worker has now cached "valid"
    account_id = me[0].json()["id"]

    suspended = httpx.post(
        f"{servers[1]}/api/v1/accounts/{account_id}/suspend",
        headers={"Authorization": f"Bearer {admin}"},
        json={"reason": "Kiểm thử thu hồi phiên"},
    )
    assert suspended.status_code == 200
    started = time.monotonic()
    refused_after: float | None = None
    while time.monotonic() - started < 10:
        statuses = {
            httpx.get(
                f"{base}/api/v1/auth/me", headers={"Authorization": f"Bearer {owner}"}
            ).status_code
            for base in servers
            for _ in range(6)
        }
        if statuses == {401}:
            refused_after = time.monotonic() - started
            break
        time.sleep(0.1)
    assert refused_after is not None, "old token still accepted after 10 s"
    assert refused_after < 5.0
    Path(seeded.var_dir, "revocation-latency.txt").write_text(f"{refused_after:.2f}\n")


def test_the_same_account_logs_in_from_several_places_at_once(servers: list[str]) -> None:
    """Logins write bookkeeping (last login) without the optimistic version: none refuses
    another (they did, with 412/500, before)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda i: login(servers[i % 2], "admin").status_code, range(18)))
    assert statuses == [200] * 18
