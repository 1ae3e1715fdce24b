"""Configuration: one table, clear failures, docs kept in step."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.config import SETTINGS_TABLE, ConfigError, load_settings, settings_fields

pytestmark = pytest.mark.smoke


def test_embedded_defaults_need_nothing(tmp_path: Path) -> None:
    settings = load_settings({"VAR_DIR": str(tmp_path)})
    assert settings.mode == "embedded"
    assert settings.database_url("accounts") == f"sqlite:///{tmp_path / 'accounts.sqlite'}"
    assert settings.redis_url is None
    assert settings.port == 8000


def test_production_names_every_missing_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"TRACE_ENV": "production"})
    message = str(caught.value)
    for name in (
        "SECRET_KEY",
        "SERVICE_SECRET",
        "ACCOUNTS_DATABASE_URL",
        "REDIS_URL",
        "JWT_PUBLIC_KEY_FILE",
    ):
        assert name in message
    assert "docs/configuration.md" in message


def test_production_refuses_short_secrets_and_missing_key_files(tmp_path: Path) -> None:
    env = {
        "TRACE_ENV": "production",
        "SECRET_KEY": "short",
        "SERVICE_SECRET": "s" * 40,
        "SERIAL_SIGNING_KEY": "q" * 40,
        "REDIS_URL": "redis://r",
        "JWT_PUBLIC_KEY_FILE": str(tmp_path / "nope.pem"),
        **{
            f"{s}_DATABASE_URL": "postgresql+psycopg://x/y"
            for s in ("ACCOUNTS", "PRODUCTS", "LABELS", "REPORTS")
        },
    }
    with pytest.raises(ConfigError, match="SECRET_KEY must be at least 32 bytes"):
        load_settings(env)
    env["SECRET_KEY"] = "k" * 40
    with pytest.raises(ConfigError, match="not a file"):
        load_settings(env)
    (tmp_path / "nope.pem").write_text("x")
    settings = load_settings(env)
    assert settings.log_format == "json"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "-1"),
        ("TRACE_ENV", "staging"),
        ("ACCESS_TOKEN_MINUTES", "0"),
    ],
)
def test_malformed_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_every_setting_has_a_field_and_a_line_in_the_docs() -> None:
    fields = set(settings_fields())
    docs = Path("docs/configuration.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", docs, flags=re.MULTILINE))
    for setting in SETTINGS_TABLE:
        assert setting.attr in fields
        assert setting.env in documented, f"{setting.env} missing from docs/configuration.md"
    assert documented <= {s.env for s in SETTINGS_TABLE} | {
        "DATABASE_URL",
        "TEST_DB",
        "GUNICORN_BIND",
        "GUNICORN_THREADS",
        "GUNICORN_TIMEOUT",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_QUIET_PATHS",
        "FORWARDED_ALLOW_IPS",
    }
