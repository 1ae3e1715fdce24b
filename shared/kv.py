"""A small shared key-value store with expiry: token revocation and rate limits.

Redis in production (shared by every gunicorn worker and service); in the embedded default a
SQLite file under VAR_DIR, which every process of the one machine shares just the same. Both
give the same few atomic operations, so the code above them does not know which it has.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Column, Float, MetaData, String, Table, delete, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shared.db import create_db_engine


class KeyValueStore(Protocol):
    def get_many(self, keys: Sequence[str]) -> list[str | None]: ...
    def set(self, key: str, value: str, ttl: int) -> None: ...
    def incr(self, key: str, ttl: int) -> int: ...
    def delete(self, key: str) -> None: ...
    def ping(self) -> None: ...


class RedisStore:
    def __init__(self, url: str, prefix: str = "trace:") -> None:
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=2,
            socket_connect_timeout=2,
            decode_responses=True,
            health_check_interval=30,
        )

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        return list(self.client.mget([self.prefix + k for k in keys]))

    def set(self, key: str, value: str, ttl: int) -> None:
        self.client.set(self.prefix + key, value, ex=ttl)

    def incr(self, key: str, ttl: int) -> int:
        pipe = self.client.pipeline()
        pipe.incr(self.prefix + key)
        pipe.expire(self.prefix + key, ttl, nx=True)
        count, _ = pipe.execute()
        return int(count)

    def delete(self, key: str) -> None:
        self.client.delete(self.prefix + key)

    def ping(self) -> None:
        self.client.ping()


_meta = MetaData()
_kv = Table(
    "kv",
    _meta,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)


class SqliteStore:
    """The embedded store: one SQLite file shared by the server's and worker's processes."""

    def __init__(self, path: str) -> None:
        self.engine = create_db_engine(f"sqlite:///{path}")
        _meta.create_all(self.engine)

    def get_many(self, keys: Sequence[str]) -> list[str | None]:
        now = time.time()
        with self.engine.begin() as conn:
            rows = dict(
                conn.execute(
                    select(_kv.c.key, _kv.c.value).where(
                        _kv.c.key.in_(list(keys)), _kv.c.expires_at > now
                    )
                ).all()
            )
        return [rows.get(k) for k in keys]

    def set(self, key: str, value: str, ttl: int) -> None:
        stmt = sqlite_insert(_kv).values(key=key, value=value, expires_at=time.time() + ttl)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_kv.c.key],
            set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at},
        )
        with self.engine.begin() as conn:
            conn.execute(stmt)

    def incr(self, key: str, ttl: int) -> int:
        now = time.time()
        with self.engine.begin() as conn:  # BEGIN IMMEDIATE: the read-modify-write is atomic
            row = conn.execute(
                select(_kv.c.value, _kv.c.expires_at).where(_kv.c.key == key)
            ).first()
            if row is None or row.expires_at <= now:
                count, expires = 1, now + ttl
            else:
                count, expires = int(row.value) + 1, row.expires_at
            stmt = sqlite_insert(_kv).values(key=key, value=str(count), expires_at=expires)
            stmt = stmt.on_conflict_do_update(
                index_elements=[_kv.c.key],
                set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at},
            )
            conn.execute(stmt)
            if count == 1:
                conn.execute(delete(_kv).where(_kv.c.expires_at <= now))
        return count

    def delete(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(_kv).where(_kv.c.key == key))

    def ping(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(select(1))


def create_store(redis_url: str | None, var_dir: str, prefix: str = "trace:") -> KeyValueStore:
    if redis_url:
        return RedisStore(redis_url, prefix)
    from pathlib import Path

    Path(var_dir).mkdir(parents=True, exist_ok=True)
    return SqliteStore(str(Path(var_dir) / "kv.sqlite"))
