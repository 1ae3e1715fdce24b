from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.config import Settings
from shared.db import Database
from tests.conftest import build_settings, clear_store

DEMO_PASSWORD = "Mật khẩu kiểm thử đầu cuối 2024"


@pytest.fixture(scope="module")
def e2e_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Separate, committed databases (real processes cannot see a test's transaction)."""
    return build_settings("e2e", tmp_path_factory.mktemp("e2e"), 1)


@pytest.fixture(scope="module")
def seeded(e2e_settings: Settings) -> Settings:
    from services.accounts.seed import seed_demo
    from shared.kv import create_store

    database = Database(e2e_settings.database_url("accounts"), service="accounts")
    with database.transaction() as session:
        seed_demo(session, admin_username="admin", admin_password=DEMO_PASSWORD)
    database.dispose()
    clear_store(create_store(e2e_settings.redis_url, e2e_settings.var_dir))
    return e2e_settings


@pytest.fixture
def logs(tmp_path: Path) -> Path:
    return tmp_path


def login(base: str, username: str, password: str = DEMO_PASSWORD) -> Any:
    import httpx

    return httpx.post(
        f"{base}/api/v1/auth/token", json={"username": username, "password": password}, timeout=10
    )
