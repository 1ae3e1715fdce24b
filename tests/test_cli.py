"""The command line a deployment uses: migrate, create the first administrator, check config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared.config import PROJECT_ROOT

pytestmark = pytest.mark.smoke


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shared.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_migrate_then_create_admin_then_log_in(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "VAR_DIR": str(tmp_path),
        "TRACE_ENV": "embedded",
    }
    assert _cli("migrate", env=env).returncode == 0
    created = _cli("create-admin", "Quản.Trị", env=env)
    assert created.returncode == 0, created.stderr
    assert "administrator quan.tri created; one-time password: " in created.stdout
    again = _cli("create-admin", "quan.tri", env=env)
    assert again.returncode != 0
    assert "already taken" in again.stderr


def test_seed_demo_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}},
        "VAR_DIR": str(tmp_path),
        "TRACE_ENV": "embedded",
    }
    assert _cli("migrate", env=env).returncode == 0
    first = _cli("seed-demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "Demo products: " in first.stdout
    assert (
        "Demo labels: 7 QR codes, 65 scans, 1 counterfeit alert, 1 problem report, "
        "1 label batch" in first.stdout
    )
    again = _cli("seed-demo", env=env)
    assert again.returncode == 0, again.stderr
    assert "Demo products: " not in again.stdout
    assert "Demo labels: " not in again.stdout
    assert "htx.halong" in again.stdout


def test_check_config_fails_clearly_in_production() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    env["TRACE_ENV"] = "production"
    result = _cli("check-config", env=env)
    assert result.returncode != 0
    assert "ACCOUNTS_DATABASE_URL" in result.stderr
