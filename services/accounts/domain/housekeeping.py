"""Periodic upkeep: heal the revocation store; drop long-dead login sessions."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from services.accounts.domain.revocation import Revocations
from services.accounts.models import Account, LoginSession
from shared.auth import session_key, token_version_key
from shared.db import utcnow

SESSION_RETENTION = timedelta(days=30)


def republish_revocations(session: Session, revocations: Revocations) -> int:
    """Re-send what changed within a token lifetime: covers a failed publish or a Redis that
    restarted empty. Returns how many entries were written."""
    since = utcnow() - timedelta(seconds=revocations.ttl_seconds)
    written = 0
    for account_id, version in session.execute(
        select(Account.id, Account.token_version).where(Account.updated_at >= since)
    ):
        revocations.store.set(token_version_key(account_id), str(version), revocations.ttl_seconds)
        written += 1
    for (session_id,) in session.execute(
        select(LoginSession.id).where(LoginSession.revoked_at >= since)
    ):
        revocations.store.set(session_key(str(session_id)), "1", revocations.ttl_seconds)
        written += 1
    return written


def purge_sessions(session: Session) -> int:
    cutoff = utcnow() - SESSION_RETENTION
    result = session.execute(
        delete(LoginSession).where(
            or_(LoginSession.expires_at < cutoff, LoginSession.revoked_at < cutoff)
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
