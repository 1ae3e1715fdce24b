"""Accounts housekeeping, run by Celery beat on the `default` queue."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from services.accounts.domain import housekeeping
from shared.db import get_database

log = logging.getLogger(__name__)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "accounts.republish-revocations": {
        "task": "accounts.republish_revocations",
        "schedule": timedelta(seconds=60),
        "options": {"queue": "default", "expires": 55},
    },
    "accounts.purge-sessions": {
        "task": "accounts.purge_sessions",
        "schedule": crontab(hour=2, minute=15),
        "options": {"queue": "default"},
    },
}


@shared_task(name="accounts.republish_revocations", service="accounts", queue="default")
def republish_revocations() -> int:
    """Re-send recent token-version bumps and ended sessions to the shared store."""
    deps = current_app.extensions["accounts"]
    with get_database().transaction() as session:
        written = housekeeping.republish_revocations(session, deps.revocations)
    log.info("republished %d revocation entries", written)
    return written


@shared_task(name="accounts.purge_sessions", service="accounts", queue="default")
def purge_sessions() -> int:
    with get_database().transaction() as session:
        purged = housekeeping.purge_sessions(session)
    log.info("purged %d old login sessions", purged)
    return purged
