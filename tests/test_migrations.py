"""Migrations: one head per service, upgrade from empty and back, `alembic check` clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory

from shared.migrate import alembic_config, migrated_services
from tests.conftest import TEST_DB, create_databases

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def fresh_urls(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return create_databases("migr", tmp_path_factory.mktemp("migr"))


@pytest.mark.parametrize("service", migrated_services())
def test_one_head(service: str) -> None:
    script = ScriptDirectory.from_config(alembic_config(service, "sqlite://"))
    assert len(script.get_heads()) == 1


@pytest.mark.parametrize("service", migrated_services())
def test_revision_files_are_named_with_a_date(service: str) -> None:
    versions = Path("services") / service / "migrations" / "versions"
    for path in versions.glob("*.py"):
        assert path.name[:8].isdigit(), f"{path.name}: revisions start with YYYYMMDD"


@pytest.mark.parametrize("service", migrated_services())
def test_models_match_migrations(service: str, fresh_urls: dict[str, str]) -> None:
    """`alembic check`: the models and the migrated schema agree (no pending autogenerate)."""
    command.check(alembic_config(service, fresh_urls[service]))


@pytest.mark.parametrize("service", migrated_services())
def test_downgrade_to_base_and_up_again(service: str, fresh_urls: dict[str, str]) -> None:
    config = alembic_config(service, fresh_urls[service])
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    command.check(config)


def test_suite_runs_on_the_expected_database(settings: Any) -> None:
    url = settings.database_url("accounts")
    assert url.startswith("sqlite") == (TEST_DB == "sqlite")
