"""Labels tasks: the directory copy; print jobs are in domain/printing (queue `labels`)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
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
