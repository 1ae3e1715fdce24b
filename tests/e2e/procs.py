"""Start and stop the real processes e2e tests talk to (gunicorn, Celery, the runner)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from shared.config import PROJECT_ROOT, Settings

BIN = Path(sys.executable).parent


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment that makes a child process load exactly these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "COV"))}
    env.update(
        {
            "TRACE_ENV": "test",
            "VAR_DIR": settings.var_dir,
            "PYTHONPATH": str(PROJECT_ROOT),
            "SECRET_KEY": settings.secret_key or "",
            "SERVICE_SECRET": settings.service_secret or "",
            "JWT_PRIVATE_KEY_FILE": settings.jwt_private_key_file or "",
            "JWT_PUBLIC_KEY_FILE": settings.jwt_public_key_file or "",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
        }
    )
    for service in ("accounts", "products", "labels", "reports"):
        env[f"{service.upper()}_DATABASE_URL"] = settings.database_url(service)
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    else:
        env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def start(command: list[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as handle:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=dict(env),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def start_gunicorn(
    app: str, port: int, env: Mapping[str, str], log: Path, workers: int = 2
) -> subprocess.Popen[bytes]:
    command = [
        str(BIN / "gunicorn"),
        "-c",
        str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        app,
    ]
    return start(command, env, log)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up:\n{log.read_text(errors='replace')[-3000:]}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    """Stop the process group; returns the exit code."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    return proc.returncode
