"""Test harness: real PostgreSQL and Redis (or, with TEST_DB=sqlite, the embedded default).

- Each xdist worker gets its own databases (`trace_test_<worker>_<service>`), built by running
  the migrations, and its own Redis database number.
- Each test runs inside a transaction that is rolled back at the end (the app's commits become
  savepoint releases), and starts with an empty shared store.
- Tests that need committed data (real workers, real gunicorn) use `committed_settings`, a
  second set of databases that is truncated after each such test.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.config import SERVICES, Settings
from shared.embedded import available_services
from shared.keys import generate_rsa_pair
from shared.kv import RedisStore, SqliteStore, create_store

TEST_DB = os.environ.get("TEST_DB", "postgresql")
SERVER_URL = os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


def pytest_configure(config: pytest.Config) -> None:
    if TEST_DB not in {"postgresql", "sqlite"}:
        raise pytest.UsageError("TEST_DB must be postgresql or sqlite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if TEST_DB == "sqlite":
        skip = pytest.mark.skip(reason="PostgreSQL-only (run without TEST_DB=sqlite)")
        for item in items:
            if "postgres_only" in item.keywords:
                item.add_marker(skip)


def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def worker_index() -> int:
    match = re.search(r"(\d+)$", worker_id())
    return int(match.group(1)) if match else 0


def _pg_url(database: str) -> str:
    url = make_url(SERVER_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.set(database=database).render_as_string(hide_password=False)


def create_databases(tag: str, base_dir: Path) -> dict[str, str]:
    """Fresh, migrated databases for every service; returns their URLs."""
    from shared.migrate import upgrade

    urls: dict[str, str] = {}
    if TEST_DB == "sqlite":
        for service in SERVICES:
            path = base_dir / f"{tag}-{service}.sqlite"
            path.unlink(missing_ok=True)
            urls[service] = f"sqlite:///{path}"
    else:
        admin = create_engine(
            _pg_url(make_url(SERVER_URL).database or "postgres"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as conn:
            for service in SERVICES:
                name = f"trace_{tag}_{worker_id()}_{service}"
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
                urls[service] = _pg_url(name)
        admin.dispose()
    settings = Settings(**{f"{s}_database_url": u for s, u in urls.items()})
    upgrade(settings, [s for s in available_services() if s in urls])
    return urls


def redis_url(offset: int) -> str:
    return f"{REDIS_BASE.rstrip('/')}/{1 + worker_index() * 2 + offset}"


def build_settings(tag: str, base_dir: Path, redis_offset: int, **overrides: Any) -> Settings:
    keys = base_dir / "keys"
    private_key, public_key = generate_rsa_pair(keys)
    urls = create_databases(tag, base_dir)
    use_redis = TEST_DB == "postgresql"
    values: dict[str, Any] = {
        "mode": "test",
        "var_dir": str(base_dir / f"var-{tag}"),
        "secret_key": f"test-secret-key-{tag}-0123456789abcdef0123456789",
        "service_secret": f"test-service-secret-{tag}-0123456789abcdef0123456789",
        "serial_signing_key": f"test-serial-key-{tag}-0123456789abcdef0123456789",
        "jwt_private_key_file": str(private_key),
        "jwt_public_key_file": str(public_key),
        "redis_url": redis_url(redis_offset) if use_redis else None,
        "log_format": "text",
        **{f"{s}_database_url": u for s, u in urls.items()},
    }
    values.update(overrides)
    settings = Settings(**values)
    Path(settings.var_dir).mkdir(parents=True, exist_ok=True)
    return settings


@pytest.fixture(scope="session")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("trace")


@pytest.fixture(scope="session")
def settings(base_dir: Path) -> Settings:
    return build_settings("test", base_dir, 0)


@pytest.fixture(scope="session")
def store(settings: Settings) -> RedisStore | SqliteStore:
    return create_store(settings.redis_url, settings.var_dir)  # type: ignore[return-value]


def clear_store(store: Any) -> None:
    if isinstance(store, RedisStore):
        store.client.flushdb()
    else:
        from shared.kv import _kv

        with store.engine.begin() as conn:
            conn.execute(_kv.delete())


@pytest.fixture(scope="session")
def app_settings(settings: Settings, store: Any) -> Settings:
    return settings.with_(extra={"kv_store": store})


@pytest.fixture(scope="session")
def accounts_app(app_settings: Settings) -> Iterator[Any]:
    from services.accounts.app import create_app
    from shared.db import get_database

    app = create_app(app_settings)
    app.config["TESTING"] = True
    yield app
    get_database(app).dispose()


def in_process_gateway(apps: dict[str, Any]) -> Any:
    """An httpx transport that routes `http://gateway/<service>/…` to the apps in this process,
    so service-to-service calls in tests reach the real services without a server."""
    import httpx
    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    gateway = DispatcherMiddleware(NotFound(), {f"/{n}": a.wsgi_app for n, a in apps.items()})
    return httpx.WSGITransport(app=gateway)


@pytest.fixture(scope="session")
def products_app(app_settings: Settings, accounts_app: Any) -> Iterator[Any]:
    from services.products.app import create_app
    from shared.db import get_database

    settings = app_settings.with_(
        accounts_url="http://gateway/accounts",
        extra={
            **app_settings.extra,
            "http_transport": in_process_gateway({"accounts": accounts_app}),
        },
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    get_database(app).dispose()


@pytest.fixture(scope="session")
def labels_app(app_settings: Settings, accounts_app: Any, products_app: Any) -> Iterator[Any]:
    from services.labels.app import create_app
    from shared.db import get_database

    settings = app_settings.with_(
        accounts_url="http://gateway/accounts",
        products_url="http://gateway/products",
        extra={
            **app_settings.extra,
            "http_transport": in_process_gateway(
                {"accounts": accounts_app, "products": products_app}
            ),
        },
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    get_database(app).dispose()


@pytest.fixture(scope="session")
def reports_app(
    app_settings: Settings, accounts_app: Any, products_app: Any, labels_app: Any
) -> Iterator[Any]:
    from services.reports.app import create_app
    from shared.db import get_database

    settings = app_settings.with_(
        accounts_url="http://gateway/accounts",
        products_url="http://gateway/products",
        labels_url="http://gateway/labels",
        extra={
            **app_settings.extra,
            "http_transport": in_process_gateway(
                {"accounts": accounts_app, "products": products_app, "labels": labels_app}
            ),
        },
    )
    app = create_app(settings)
    app.config["TESTING"] = True
    yield app
    get_database(app).dispose()


@pytest.fixture(scope="session", autouse=True)
def celery_eager(
    app_settings: Settings,
    accounts_app: Any,
    products_app: Any,
    labels_app: Any,
    reports_app: Any,
) -> Any:
    """In-process tests run tasks eagerly, right after the request's commit (no broker);
    tests/e2e runs them through real workers."""
    from shared import jobs
    from shared.celery_app import create_celery

    app = create_celery(
        app_settings,
        {
            "accounts": accounts_app,
            "products": products_app,
            "labels": labels_app,
            "reports": reports_app,
        },
    )
    app.conf.update(task_always_eager=True, task_eager_propagates=True)
    # One connection per test (rolled back): a heartbeat thread must not share it.
    jobs.HEARTBEAT_SECONDS = 3600
    return app


@pytest.fixture
def db(accounts_app: Any, store: Any) -> Iterator[Any]:
    """The accounts database, inside a transaction rolled back after the test."""
    from shared.db import get_database

    database = get_database(accounts_app)
    clear_store(store)
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind(connection)
    try:
        yield database
    finally:
        database.unbind()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


def bound_database(app: Any) -> Iterator[Any]:
    """An app's database inside a transaction rolled back after the test."""
    from shared.db import get_database

    database = get_database(app)
    connection = database.engine.connect()
    transaction = connection.begin()
    database.bind(connection)
    try:
        yield database
    finally:
        database.unbind()
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def products_db(products_app: Any, store: Any) -> Iterator[Any]:
    """The products database, inside a transaction rolled back after the test."""
    clear_store(store)
    yield from bound_database(products_app)


@pytest.fixture
def labels_db(labels_app: Any, store: Any) -> Iterator[Any]:
    """The labels database, inside a transaction rolled back after the test."""
    clear_store(store)
    yield from bound_database(labels_app)


@pytest.fixture
def reports_db(reports_app: Any, store: Any) -> Iterator[Any]:
    """The reports database, inside a transaction rolled back after the test."""
    clear_store(store)
    yield from bound_database(reports_app)


@pytest.fixture
def session(db: Any) -> Iterator[Any]:
    session = db.session()
    yield session
    session.close()


@pytest.fixture
def client(accounts_app: Any, db: Any) -> Any:
    return accounts_app.test_client()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
