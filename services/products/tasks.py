"""Products tasks: keeping the directory copy fresh, and recall deadlines."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from flask import current_app

from services.products.domain import directory
from shared.db import get_database

log = logging.getLogger(__name__)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "products.sync-directory": {
        "task": "products.sync_directory",
        "schedule": timedelta(seconds=60),
        "options": {"queue": "default", "expires": 55},
    },
}


@shared_task(name="products.sync_directory", service="products", queue="default")
def sync_directory(full: bool = False) -> dict[str, int]:
    """Pull the accounts service's changed units and establishments into the local copy.
    Rung by the accounts service after a change; run by beat as the safety net."""
    settings = current_app.config["SETTINGS"]
    with get_database().transaction() as session:
        return directory.sync(session, settings, full=full)
