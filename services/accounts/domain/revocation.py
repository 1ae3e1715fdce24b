"""Publishing token-version bumps and ended sessions to the shared store, after commit.

The database is the truth (accounts.token_version, login_sessions.revoked_at); the store is
what every service's verifier reads. A publish happens only after the transaction commits, and
the `republish_recent_revocations` housekeeping task re-sends recent bumps every minute, so a
failed publish or a Redis restart heals by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from shared.auth import session_key, token_version_key
from shared.db import on_commit
from shared.kv import KeyValueStore


@dataclass(frozen=True)
class Revocations:
    store: KeyValueStore
    # Longer than an access token lives: after that no token the entry refuses can exist.
    ttl_seconds: int
    # This process's verifier: told at once, so its own cache never lags behind.
    forget: Callable[[uuid.UUID], None] | None = None

    def publish_version(self, session: Session, account_id: uuid.UUID, version: int) -> None:
        key, value = token_version_key(account_id), str(version)

        def publish() -> None:
            self.store.set(key, value, self.ttl_seconds)
            if self.forget:
                self.forget(account_id)

        on_commit(session, publish)

    def publish_session_end(
        self, session: Session, session_id: uuid.UUID, account_id: uuid.UUID
    ) -> None:
        key = session_key(str(session_id))

        def publish() -> None:
            self.store.set(key, "1", self.ttl_seconds)
            if self.forget:
                self.forget(account_id)

        on_commit(session, publish)
