"""Database engine and session per service, and the one place a request's transaction commits.

- `Database` wraps one service's engine and session factory. SQLite (the embedded default) gets
  WAL, foreign keys, a busy timeout and `BEGIN IMMEDIATE`, so concurrent writers queue instead
  of failing half-way; PostgreSQL gets a pool with pre-ping.
- In a request, `request_session()` hands out one session; `after_request` commits it when the
  response is a success and rolls back otherwise; the work registered with `on_commit()` (publish
  an event, enqueue a task) runs only after the commit succeeded.
- Outside requests (tasks, CLI), `Database.transaction()` is the same contract as a context.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, g
from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    String,
    TypeDecorator,
    Uuid,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on PostgreSQL and on SQLite alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


# Each service declares its own base with these (its own MetaData, never shared):
#     class Base(DeclarativeBase):
#         metadata = MetaData(naming_convention=NAMING_CONVENTION)
#         type_annotation_map = TYPE_ANNOTATION_MAP
TYPE_ANNOTATION_MAP: dict[Any, Any] = {datetime: UTCDateTime(), uuid.UUID: Uuid(), str: String()}


class UUIDPrimaryKey:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            poolclass=NullPool,
            **kwargs,
        )
        _sqlite_pragmas(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 5)
        kwargs.setdefault("max_overflow", 10)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(engine: Engine) -> None:
    # pysqlite's own transaction handling would begin lazily (deferred) and deadlock two writers
    # that both read first; take the write lock at BEGIN instead (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One service's database: engine, sessions, and the commit contract."""

    def __init__(self, url: str, *, service: str, engine: Engine | None = None) -> None:
        self.url = url
        self.service = service
        self._engine = engine
        self._sessionmaker: sessionmaker[Session] | None = None
        self.session_options: dict[str, Any] = {}

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = create_db_engine(self.url)
        return self._engine

    def bind(self, connection: Any) -> None:
        """Tests: run every session inside an outer transaction that is rolled back."""
        self.session_options = {"bind": connection, "join_transaction_mode": "create_savepoint"}
        self._sessionmaker = None

    def unbind(self) -> None:
        self.session_options = {}
        self._sessionmaker = None

    def session(self) -> Session:
        if self._sessionmaker is None:
            options = {"bind": self.engine, "expire_on_commit": False, **self.session_options}
            self._sessionmaker = sessionmaker(**options)
        return self._sessionmaker()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            _drop_hooks(session)
            raise
        else:
            run_commit_hooks(session)
        finally:
            session.close()

    def ping(self) -> None:
        # Autocommit: a readiness probe must not queue behind SQLite's write lock.
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()


# --- after-commit work ------------------------------------------------------------------------

_HOOKS_KEY = "after_commit_hooks"


def on_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(_HOOKS_KEY, []).append(callback)


def run_commit_hooks(session: Session) -> None:
    hooks = session.info.pop(_HOOKS_KEY, [])
    for hook in hooks:
        try:
            hook()
        except Exception:
            # The data is committed; a failed side effect is retried by its own housekeeping.
            log.exception("after-commit hook failed")


def _drop_hooks(session: Session) -> None:
    session.info.pop(_HOOKS_KEY, None)


# --- Flask integration ------------------------------------------------------------------------

_EXT = "trace_db"


def init_app(app: Flask, database: Database) -> None:
    app.extensions[_EXT] = database

    @app.after_request
    def _commit(response: Response) -> Response:
        session: Session | None = g.pop("_db_session", None)
        if session is None:
            return response
        try:
            if response.status_code < 400 or g.pop("commit_despite_error", False):
                session.commit()
            else:
                session.rollback()
                _drop_hooks(session)
        except Exception as exc:
            session.rollback()
            _drop_hooks(session)
            session.close()
            return _commit_failure(exc)
        run_commit_hooks(session)
        session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("_db_session", None)
        if session is not None:
            session.rollback()
            _drop_hooks(session)
            session.close()


def _commit_failure(exc: Exception) -> Response:
    from sqlalchemy.exc import IntegrityError, OperationalError
    from sqlalchemy.orm.exc import StaleDataError

    from shared.errors import Conflict, ServiceUnavailable, problem_response

    if isinstance(exc, StaleDataError):
        from shared.errors import PreconditionFailed

        stale = PreconditionFailed()
        return problem_response(stale.status, stale.code, stale.message)
    if isinstance(exc, IntegrityError):
        log.info("commit refused by a constraint: %s", exc.orig)
        err: Conflict | ServiceUnavailable = Conflict()
        return problem_response(err.status, err.code, err.message)
    if isinstance(exc, OperationalError):
        log.warning("commit failed, database unavailable: %s", exc)
        err = ServiceUnavailable()
        return problem_response(err.status, err.code, err.message, headers={"Retry-After": "5"})
    log.exception("commit failed")
    from shared.errors import Message

    return problem_response(
        500,
        "internal_error",
        Message("Lỗi hệ thống; sự cố đã được ghi lại.", "Internal error; it has been logged."),
    )


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions[_EXT]


def request_session() -> Session:
    """The current request's session (one transaction per request)."""
    session: Session | None = g.get("_db_session")
    if session is None:
        session = get_database().session()
        g._db_session = session
    return session
