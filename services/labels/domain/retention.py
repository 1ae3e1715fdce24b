"""Retention of recorded scans (lượt quét): those older than SCAN_RETENTION_DAYS are deleted
by a nightly beat task (tasks.py, `labels.purge_scans`).

Scans are deleted, not summed up: the scan statistics (at most 366 days at a time) and the
label indicators the reports service compiles (kept in its own report versions) reach back as
far as the setting; counterfeit alerts keep their own counts and are not touched.

The deletion runs in chunks, each its own short transaction (served by `ix_scans_at`), so
recording new scans is never held up for long. Two runs at once are harmless: a row the other
run deleted first is simply not there any more.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select

from services.labels.models import Scan
from shared.db import Database, utcnow

CHUNK = 5_000


def scans_cutoff(settings: Any, now: datetime | None = None) -> datetime:
    """Scans recorded before this instant are past their retention."""
    return (now or utcnow()) - timedelta(days=settings.scan_retention_days)


def purge_scans(database: Database, *, before: datetime, chunk: int = CHUNK) -> int:
    """Delete the scans recorded before `before`; returns how many were deleted."""
    total = 0
    while True:
        with database.transaction() as session:
            old = select(Scan.id).where(Scan.at < before).limit(chunk)
            result = session.execute(
                delete(Scan).where(Scan.id.in_(old)).execution_options(synchronize_session=False)
            )
            deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
        total += deleted
        if deleted < chunk:
            return total
