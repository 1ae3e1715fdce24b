"""Configuration: every environment variable the platform reads, in one table.

`SETTINGS_TABLE` is the single source of truth; `docs/configuration.md` is checked against it
by a test. `load_settings()` reads the environment once (in the composition roots: the WSGI
entry points, the worker, the CLI), never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

SERVICES = ("accounts", "products", "labels", "reports")
QUEUES = ("default", "imports", "labels", "reports")
MODES = ("embedded", "production", "test")

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """A required setting is missing or malformed; start-up stops with this message."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("expected a positive whole number")
    return number


def _crontab(value: str) -> str:
    """Five crontab fields, checked the way Celery will read them."""
    from celery.schedules import crontab

    fields = value.split()
    if len(fields) != 5:
        raise ValueError("expected five crontab fields: minute hour day month weekday")
    minute, hour, day_of_month, month_of_year, day_of_week = fields
    crontab(minute, hour, day_of_week, day_of_month, month_of_year)
    return " ".join(fields)


def _mode(value: str) -> str:
    if value not in MODES:
        raise ValueError(f"expected one of {', '.join(MODES)}")
    return value


@dataclass(frozen=True)
class Setting:
    env: str
    attr: str
    description: str
    default: str | None = None
    parse: Callable[[str], Any] = str
    required_in_production: bool = False
    secret: bool = False


SETTINGS_TABLE: tuple[Setting, ...] = (
    Setting(
        "TRACE_ENV",
        "mode",
        "Run mode: `embedded` (one process, SQLite, demo data), "
        "`production` (every secret and server URL required) or `test`.",
        "embedded",
        _mode,
    ),
    Setting(
        "VAR_DIR",
        "var_dir",
        "Directory for SQLite files, generated keys and stored files in embedded mode.",
        str(PROJECT_ROOT / "var"),
    ),
    Setting(
        "SECRET_KEY",
        "secret_key",
        "Flask secret (cookies, CSRF). Generated into `VAR_DIR` in embedded mode.",
        None,
        str,
        True,
        True,
    ),
    Setting(
        "SERVICE_SECRET",
        "service_secret",
        "Shared secret that services use to sign "
        "short-lived service-to-service tokens (HS256, audience `traceability-internal`).",
        None,
        str,
        True,
        True,
    ),
    Setting(
        "SERIAL_SIGNING_KEY",
        "serial_signing_key",
        "Key of the short signature every printed serial carries (labels): a code never issued "
        "is recognised without a lookup. Never rotate it while printed labels are in use. "
        "Generated into `VAR_DIR` in embedded mode.",
        None,
        str,
        True,
        True,
    ),
    Setting(
        "ACCOUNTS_DATABASE_URL",
        "accounts_database_url",
        "SQLAlchemy URL of the accounts service's database.",
        None,
        str,
        True,
        True,
    ),
    Setting(
        "PRODUCTS_DATABASE_URL",
        "products_database_url",
        "SQLAlchemy URL of the products service's database.",
        None,
        str,
        True,
        True,
    ),
    Setting(
        "LABELS_DATABASE_URL",
        "labels_database_url",
        "SQLAlchemy URL of the labels service's database.",
        None,
        str,
        True,
        True,
    ),
    Setting(
        "REPORTS_DATABASE_URL",
        "reports_database_url",
        "SQLAlchemy URL of the reports service's database.",
        None,
        str,
        True,
        True,
    ),
    Setting(
        "REDIS_URL",
        "redis_url",
        "Redis: Celery broker, token revocation and rate limits. "
        "Unset in embedded mode: a SQLite broker and store under `VAR_DIR` are used.",
        None,
        str,
        True,
        True,
    ),
    Setting(
        "JWT_PRIVATE_KEY_FILE",
        "jwt_private_key_file",
        "PEM RSA private key the accounts "
        "service signs access tokens with (RS256). Only the accounts service needs it.",
        None,
        str,
        False,
        True,
    ),
    Setting(
        "JWT_PUBLIC_KEY_FILE",
        "jwt_public_key_file",
        "PEM RSA public key every service verifies access tokens with; also published as JWKS.",
        None,
        str,
        True,
    ),
    Setting(
        "ACCESS_TOKEN_MINUTES",
        "access_token_minutes",
        "Lifetime of an access token.",
        "15",
        _positive_int,
    ),
    Setting(
        "REFRESH_TOKEN_HOURS",
        "refresh_token_hours",
        "Lifetime of a login session (refresh token); each refresh rotates the token.",
        "12",
        _positive_int,
    ),
    Setting(
        "TOKEN_REVOCATION_CACHE_SECONDS",
        "token_revocation_cache_seconds",
        "How long a service trusts its local copy of an account's token version (keep under 5).",
        "2",
        _positive_int,
    ),
    Setting(
        "LOGIN_MAX_FAILURES",
        "login_max_failures",
        "Failed logins per user name (or per "
        "client address, times 5) within the window before answering 429.",
        "10",
        _positive_int,
    ),
    Setting(
        "LOGIN_WINDOW_SECONDS",
        "login_window_seconds",
        "Window of the login throttle.",
        "900",
        _positive_int,
    ),
    Setting(
        "TRUSTED_PROXIES",
        "trusted_proxies",
        "Number of reverse proxies in front of the "
        "app whose X-Forwarded-For is trusted (1 behind the bundled nginx).",
        "0",
        int,
    ),
    Setting(
        "PUBLIC_BASE_URL",
        "public_base_url",
        "The platform's public address (scheme and host, e.g. "
        "`https://truyxuat.quangninh.gov.vn`): QR codes and exported identifiers (EPCIS) "
        "are built on it. Unset: `http://127.0.0.1:$PORT`.",
        None,
    ),
    Setting(
        "ACCOUNTS_URL",
        "accounts_url",
        "Base URL of the accounts service for service-to-service calls. Unset: the embedded server, `http://127.0.0.1:$PORT/accounts`.",
        None,
    ),
    Setting(
        "PRODUCTS_URL",
        "products_url",
        "Base URL of the products service. Unset: the embedded server, `http://127.0.0.1:$PORT/products`.",
        None,
    ),
    Setting(
        "LABELS_URL",
        "labels_url",
        "Base URL of the labels service. Unset: the embedded server, `http://127.0.0.1:$PORT/labels`.",
        None,
    ),
    Setting(
        "REPORTS_URL",
        "reports_url",
        "Base URL of the reports service. Unset: the embedded server, `http://127.0.0.1:$PORT/reports`.",
        None,
    ),
    Setting(
        "HTTP_TIMEOUT_SECONDS",
        "http_timeout_seconds",
        "Timeout of one service-to-service call.",
        "5",
        _positive_int,
    ),
    Setting(
        "HTTP_RETRIES",
        "http_retries",
        "Retries (with exponential backoff) of an idempotent "
        "service-to-service call on a connection error or 502/503/504.",
        "3",
        int,
    ),
    Setting(
        "JOB_STALE_SECONDS",
        "job_stale_seconds",
        "A running job whose heartbeat is older "
        "than this is taken to have lost its worker and is sent again.",
        "60",
        _positive_int,
    ),
    Setting(
        "UPLOAD_MAX_MB",
        "upload_max_mb",
        "Largest uploaded document or image (certificate scans, product photos, diary "
        "attachments), in MiB.",
        "10",
        _positive_int,
    ),
    Setting(
        "LABEL_CHUNK_SIZE",
        "label_chunk_size",
        "Labels per slice of a print job; slices are rendered in parallel by the `labels` "
        "workers and joined.",
        "2000",
        _positive_int,
    ),
    Setting(
        "COUNTERFEIT_MAX_SCANS",
        "counterfeit_max_scans",
        "A serial scanned more often than this is flagged as a possible counterfeit.",
        "20",
        _positive_int,
    ),
    Setting(
        "COUNTERFEIT_MAX_PLACES",
        "counterfeit_max_places",
        "A serial scanned in more distinct places (~10 km cells) than this is flagged.",
        "3",
        _positive_int,
    ),
    Setting(
        "PUBLIC_CARD_TTL_SECONDS",
        "public_card_ttl_seconds",
        "How long the trace page may show a cached product or lot card before re-reading it "
        "from the products service (changes also refresh it at once).",
        "300",
        _positive_int,
    ),
    Setting(
        "PROBLEM_REPORTS_PER_HOUR",
        "problem_reports_per_hour",
        "Problem reports accepted per client address per hour on the public form.",
        "5",
        _positive_int,
    ),
    Setting(
        "TRACE_VIEWS_PER_MINUTE",
        "trace_views_per_minute",
        "Trace page views (the page and its JSON twin together) answered per client address "
        "per minute; beyond it the answer is 429 (against scraping).",
        "120",
        _positive_int,
    ),
    Setting(
        "SCAN_RETENTION_DAYS",
        "scan_retention_days",
        "Days a recorded scan is kept; beat deletes older ones every night. Scan statistics "
        "and the label indicators reach back this far.",
        "730",
        _positive_int,
    ),
    Setting(
        "REPORT_QUARTERLY_CRON",
        "report_quarterly_cron",
        "When beat compiles the quarterly reports (crontab: minute hour day month weekday, "
        "Asia/Ho_Chi_Minh). Default: 00:30 on the 15th of each quarter's last month, just "
        "after the units' deadline.",
        "30 0 15 3,6,9,12 *",
        _crontab,
    ),
    Setting(
        "REPORT_ANNUAL_CRON",
        "report_annual_cron",
        "When beat compiles the annual reports (crontab, Asia/Ho_Chi_Minh). Default: 00:30 "
        "on 10 December, just after the deadline.",
        "30 0 10 12 *",
        _crontab,
    ),
    Setting(
        "REPORT_REMINDER_CRON",
        "report_reminder_cron",
        "When beat reminds units that have not submitted their narrative (crontab, "
        "Asia/Ho_Chi_Minh; from a week before a deadline to a month after it).",
        "0 8 * * *",
        _crontab,
    ),
    Setting(
        "REPORT_LIVE_SECONDS",
        "report_live_seconds",
        "How old today's figures on the dashboards may be before a worker reads the services "
        "again (beat refreshes them this often; a page never waits for a province-wide read "
        "when one is stored).",
        "300",
        _positive_int,
    ),
    Setting(
        "RECALL_DECISION_HOURS",
        "recall_decision_hours",
        "Hours an authority has to issue a recall decision after unsafe food is found "
        "(Circular 17/2021: 24).",
        "24",
        _positive_int,
    ),
    Setting(
        "RECALL_HANDLING_WORKING_DAYS",
        "recall_handling_working_days",
        "Working days an authority has to decide on handling after a recall's result report "
        "(Circular 17/2021: 3).",
        "3",
        _positive_int,
    ),
    Setting("LOG_FORMAT", "log_format", "`json` (default in production) or `text`.", None),
    Setting("LOG_LEVEL", "log_level", "Root log level.", "INFO"),
    Setting("PORT", "port", "Port of the embedded server (`make run`).", "8000", _positive_int),
    Setting("WEB_CONCURRENCY", "web_concurrency", "gunicorn worker processes.", "2", _positive_int),
    Setting(
        "DEMO_ADMIN_USERNAME",
        "demo_admin_username",
        "Login of the demo administrator seeded in embedded mode.",
        "admin",
    ),
    Setting(
        "DEMO_ADMIN_PASSWORD",
        "demo_admin_password",
        "Password of the demo administrator (embedded mode only).",
        "Quang Ninh truy xuat 2024",
        str,
        False,
        True,
    ),
)

_SERVICE_URL_ATTR = {name: f"{name}_database_url" for name in SERVICES}


@dataclass(frozen=True)
class Settings:
    mode: str = "embedded"
    var_dir: str = str(PROJECT_ROOT / "var")
    secret_key: str | None = None
    service_secret: str | None = None
    accounts_database_url: str | None = None
    products_database_url: str | None = None
    labels_database_url: str | None = None
    reports_database_url: str | None = None
    redis_url: str | None = None
    jwt_private_key_file: str | None = None
    jwt_public_key_file: str | None = None
    access_token_minutes: int = 15
    refresh_token_hours: int = 12
    token_revocation_cache_seconds: int = 2
    login_max_failures: int = 10
    login_window_seconds: int = 900
    trusted_proxies: int = 0
    public_base_url: str | None = None
    accounts_url: str | None = None
    products_url: str | None = None
    labels_url: str | None = None
    reports_url: str | None = None
    http_timeout_seconds: int = 5
    http_retries: int = 3
    job_stale_seconds: int = 60
    serial_signing_key: str | None = None
    label_chunk_size: int = 2000
    counterfeit_max_scans: int = 20
    counterfeit_max_places: int = 3
    public_card_ttl_seconds: int = 300
    problem_reports_per_hour: int = 5
    trace_views_per_minute: int = 120
    scan_retention_days: int = 730
    report_quarterly_cron: str = "30 0 15 3,6,9,12 *"
    report_annual_cron: str = "30 0 10 12 *"
    report_reminder_cron: str = "0 8 * * *"
    report_live_seconds: int = 300
    upload_max_mb: int = 10
    recall_decision_hours: int = 24
    recall_handling_working_days: int = 3
    log_format: str | None = None
    log_level: str = "INFO"
    port: int = 8000
    web_concurrency: int = 2
    demo_admin_username: str = "admin"
    demo_admin_password: str = "Quang Ninh truy xuat 2024"  # noqa: S105 - demo mode only
    # Not from the environment: objects a test or an embedding program may hand in.
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir)

    def database_url(self, service: str) -> str:
        url = getattr(self, _SERVICE_URL_ATTR[service])
        if not url:
            raise ConfigError(f"{service.upper()}_DATABASE_URL is not set")
        return str(url)

    @property
    def public_url(self) -> str:
        return str(self.public_base_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    def service_url(self, service: str) -> str:
        url = getattr(self, f"{service}_url") or f"http://127.0.0.1:{self.port}/{service}"
        return str(url).rstrip("/")

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Read the table from the environment, fill embedded defaults, and fail clearly."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for setting in SETTINGS_TABLE:
        raw = env.get(setting.env)
        if raw is None or raw == "":
            if setting.default is None:
                continue
            raw = setting.default
        try:
            values[setting.attr] = setting.parse(raw)
        except ValueError as exc:
            problems.append(f"{setting.env}={raw!r} is invalid: {exc}")
    if problems:
        raise ConfigError("; ".join(problems))
    values.update(overrides)
    settings = Settings(**values)
    return _complete(settings)


def _complete(settings: Settings) -> Settings:
    if settings.is_production:
        missing = [
            s.env
            for s in SETTINGS_TABLE
            if s.required_in_production and not getattr(settings, s.attr)
        ]
        if missing:
            raise ConfigError(
                "production mode needs these environment variables: "
                + ", ".join(missing)
                + " (see docs/configuration.md)"
            )
        for secret_attr in ("secret_key", "service_secret", "serial_signing_key"):
            if len(getattr(settings, secret_attr).encode()) < 32:
                raise ConfigError(f"{secret_attr.upper()} must be at least 32 bytes long")
        for key_attr in ("jwt_public_key_file", "jwt_private_key_file"):
            path = getattr(settings, key_attr)
            if path and not Path(path).is_file():
                raise ConfigError(f"{key_attr.upper()} points at {path}, which is not a file")
        if settings.log_format is None:
            settings = settings.with_(log_format="json")
        return settings
    # Embedded and test modes: SQLite files and generated secrets under VAR_DIR.
    var = settings.var_path
    defaults: dict[str, Any] = {}
    for service in SERVICES:
        attr = _SERVICE_URL_ATTR[service]
        if not getattr(settings, attr):
            defaults[attr] = f"sqlite:///{var / (service + '.sqlite')}"
    if settings.log_format is None:
        defaults["log_format"] = "text"
    return settings.with_(**defaults) if defaults else settings


def setting_names() -> list[str]:
    return [s.env for s in SETTINGS_TABLE]


def settings_fields() -> list[str]:
    return [f.name for f in fields(Settings)]
