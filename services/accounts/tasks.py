"""Accounts housekeeping, run by Celery beat on the `default` queue."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from services.accounts.domain import bulk_grant, housekeeping, imports
from services.accounts.models import Job
from shared import jobs
from shared.db import get_database

log = logging.getLogger(__name__)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "accounts.republish-revocations": {
        "task": "accounts.republish_revocations",
        "schedule": timedelta(seconds=60),
        "options": {"queue": "default", "expires": 55},
    },
    "accounts.reap-jobs": {
        "task": "accounts.reap_jobs",
        "schedule": timedelta(seconds=30),
        "options": {"queue": "default", "expires": 25},
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


def _run(task: Any, job_id: str, body: Any) -> str:
    """A job task: the job row and the service's file store, then the domain body."""
    store = current_app.extensions["trace_files"]
    return jobs.execute(task, get_database(), Job, job_id, lambda context: body(context, store))


@shared_task(
    bind=True,
    name="accounts.run_import",
    service="accounts",
    queue="imports",
    max_retries=jobs.MAX_ATTEMPTS,
)
def run_import(self: Any, job_id: str) -> str:
    """Import an Excel list of establishments (see domain/imports.py)."""
    return _run(
        self,
        job_id,
        lambda context, store: imports.run(
            context, load_file=lambda key: store.path(key).read_bytes()
        ),
    )


@shared_task(
    bind=True,
    name="accounts.run_bulk_grant",
    service="accounts",
    queue="default",
    max_retries=jobs.MAX_ATTEMPTS,
)
def run_bulk_grant(self: Any, job_id: str) -> str:
    """Grant accounts to many establishments (see domain/bulk_grant.py)."""
    return _run(
        self,
        job_id,
        lambda context, store: bulk_grant.run(
            context, save_file=store.save, file_exists=store.exists
        ),
    )


TASK_OF_KIND = {"import": (run_import, "imports"), "bulk_grant": (run_bulk_grant, "default")}


@shared_task(name="accounts.reap_jobs", service="accounts", queue="default")
def reap_jobs() -> int:
    """Send again the jobs whose worker vanished or whose message the broker lost."""
    with get_database().transaction() as session:
        stale = jobs.reap(session, Job)
        for job in stale:
            task, queue = TASK_OF_KIND[job.kind]
            jobs.enqueue(session, job, task, queue=queue)
    if stale:
        log.warning("re-enqueued %d stale jobs", len(stale))
    return len(stale)
