"""Labels tasks: the directory copy, the scans queued in Redis, the public cards, the scans'
retention; print jobs are in domain/printing (queue `labels`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from services.labels.domain.directory import COPY
from shared.db import get_database

log = logging.getLogger(__name__)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "labels.sync-directory": {
        "task": "labels.sync_directory",
        "schedule": timedelta(seconds=60),
        "options": {"queue": "default", "expires": 55},
    },
}


@shared_task(name="labels.sync_directory", service="labels", queue="default")
def sync_directory(full: bool = False) -> dict[str, int]:
    """Pull the accounts service's changed units and establishments into the local copy."""
    settings = current_app.config["SETTINGS"]
    with get_database().transaction() as session:
        return COPY.sync(session, settings, full=full)


BEAT_SCHEDULE["labels.flush-scans"] = {
    "task": "labels.flush_scans",
    "schedule": timedelta(seconds=10),
    "options": {"queue": "default", "expires": 9},
}


def _store() -> Any:
    return current_app.extensions["trace_kv"]


@shared_task(name="labels.flush_scans", service="labels", queue="default")
def flush_scans() -> dict[str, int]:
    """Move the scans queued in Redis into the `scans` table (bulk INSERT per chunk) and keep
    the counterfeit alerts they raise. A no-op without Redis (scans are written at once)."""
    from services.labels.domain import scans

    settings = current_app.config["SETTINGS"]
    return scans.flush(get_database(), _store(), settings)


@shared_task(name="labels.refresh_cards", service="labels", queue="default")
def refresh_cards(
    lot_ids: list[str] | None = None,
    product_ids: list[str] | None = None,
    establishment_ids: list[str] | None = None,
) -> dict[str, int]:
    """Re-read the public cards a change touches (a recall, a lot's or product's status, a
    certification, an establishment's account) and tell every web process to drop its
    copies. Rung by the products service after the change commits:

        celery.send_task("labels.refresh_cards", kwargs={"lot_ids": [...]}, queue="default")
    """
    from services.labels.domain import cards

    settings = current_app.config["SETTINGS"]
    database = get_database()
    with database.transaction() as session:
        keys = cards.keys_for(
            session,
            lot_ids=lot_ids or (),
            product_ids=product_ids or (),
            establishment_ids=establishment_ids or (),
        )
    return cards.refresh(database, settings, _store(), keys)


BEAT_SCHEDULE["labels.purge-scans"] = {
    "task": "labels.purge_scans",
    "schedule": crontab(hour=3, minute=40),  # Asia/Ho_Chi_Minh, the quietest hour for scans
    "options": {"queue": "default", "expires": 3600},
}


@shared_task(name="labels.purge_scans", service="labels", queue="default")
def purge_scans() -> int:
    """Delete the scans older than SCAN_RETENTION_DAYS (domain/retention.py)."""
    from services.labels.domain import retention

    settings = current_app.config["SETTINGS"]
    before = retention.scans_cutoff(settings)
    purged = retention.purge_scans(get_database(), before=before)
    log.info("purged %d scans recorded before %s", purged, before.isoformat())
    return purged
