"""Alembic, one history per service, run for all by one command:

    python -m shared.cli migrate            # every service, to head
    python -m shared.cli migrate accounts   # one service

Configuration is built here (no alembic.ini per service): the script location is the
service's `migrations/` folder, the URL its `<SERVICE>_DATABASE_URL`.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, pool

from shared.config import PROJECT_ROOT, Settings
from shared.db import create_db_engine, is_sqlite

log = logging.getLogger(__name__)

FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(rev)s_%%(slug)s"


def migrated_services() -> list[str]:
    return sorted(
        p.parent.parent.name for p in (PROJECT_ROOT / "services").glob("*/migrations/env.py")
    )


def alembic_config(service: str, url: str) -> Config:
    config = Config()
    location = PROJECT_ROOT / "services" / service / "migrations"
    config.set_main_option("script_location", str(location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("timezone", "UTC")
    config.attributes["service"] = service
    return config


def upgrade(settings: Settings, services: list[str] | None = None, revision: str = "head") -> None:
    for service in services or migrated_services():
        url = settings.database_url(service)
        if is_sqlite(url):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        log.info("migrating %s", service)
        command.upgrade(alembic_config(service, url), revision)


def service_metadata(service: str) -> MetaData:
    module = importlib.import_module(f"services.{service}.models")
    return module.Base.metadata


def _include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """PostgreSQL-only indexes made by hand in migrations (trigram search) are not in the
    models; autogenerate and `alembic check` leave them alone."""
    return not (type_ == "index" and reflected and (name or "").endswith("_trgm"))


def run_env(context: Any) -> None:
    """The body of every service's migrations/env.py."""
    config: Config = context.config
    service = (
        config.attributes.get("service")
        or Path(config.get_main_option("script_location") or "").parent.name
    )
    metadata = service_metadata(service)
    url = config.get_main_option("sqlalchemy.url") or ""
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "include_object": _include_object,
        "compare_type": True,
        "render_as_batch": is_sqlite(url),
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = (
        create_db_engine(url) if is_sqlite(url) else create_db_engine(url, poolclass=pool.NullPool)
    )
    with engine.connect() as conn:
        context.configure(connection=conn, **options)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
