"""Reports tasks: compile jobs (queue `reports`), the quarterly and annual schedule (Celery
beat, Asia/Ho_Chi_Minh, crontab from settings), reminders, the directory copy, the reaper."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.schedules import crontab
from flask import current_app

from services.reports.domain import compile as compiling
from services.reports.domain import live, narratives
from services.reports.domain.directory import COPY
from services.reports.domain.periods import Period
from services.reports.models import Job
from shared import jobs
from shared.clock import LOCAL_TZ, local_today
from shared.db import get_database, utcnow

log = logging.getLogger(__name__)


def _cron(expression: str) -> crontab:
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    return crontab(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
    )


def beat_schedule(settings: Any) -> dict[str, dict[str, Any]]:
    """The reports' beat entries; the crontabs are read in Celery's timezone, which the
    platform sets to Asia/Ho_Chi_Minh (shared/celery_app.py)."""
    return {
        "reports.sync-directory": {
            "task": "reports.sync_directory",
            "schedule": timedelta(seconds=60),
            "options": {"queue": "default", "expires": 55},
        },
        "reports.reap-jobs": {
            "task": "reports.reap_jobs",
            "schedule": timedelta(seconds=30),
            "options": {"queue": "default", "expires": 25},
        },
        "reports.quarterly": {
            "task": "reports.compile_scheduled",
            "schedule": _cron(settings.report_quarterly_cron),
            "kwargs": {"kind": "quarterly"},
            "options": {"queue": "reports"},
        },
        "reports.annual": {
            "task": "reports.compile_scheduled",
            "schedule": _cron(settings.report_annual_cron),
            "kwargs": {"kind": "annual"},
            "options": {"queue": "reports"},
        },
        "reports.live-figures": {
            "task": "reports.refresh_live",
            "schedule": timedelta(seconds=settings.report_live_seconds),
            "options": {"queue": "default", "expires": settings.report_live_seconds},
        },
        "reports.remind": {
            "task": "reports.send_reminders",
            "schedule": _cron(settings.report_reminder_cron),
            "options": {"queue": "default"},
        },
    }


@shared_task(name="reports.sync_directory", service="reports", queue="default")
def sync_directory(full: bool = False) -> dict[str, int]:
    """Copy the accounts service's unit tree (reports need the tree, not the establishments:
    their counts come from the indicators endpoints)."""
    settings = current_app.config["SETTINGS"]
    with get_database().transaction() as session:
        return {"units": COPY.sync_units(session, settings)}


@shared_task(
    name="reports.compile", service="reports", queue="reports", bind=True, max_retries=None
)
def compile_report(self: Any, job_id: str) -> str:
    settings = current_app.config["SETTINGS"]
    store = current_app.extensions["trace_files"]
    database = get_database()
    return jobs.execute(
        self,
        database,
        Job,
        job_id,
        lambda context: compiling.run(context, database, settings, store),
    )


@shared_task(name="reports.compile_scheduled", service="reports", queue="reports")
def compile_scheduled(kind: str) -> str | None:
    """Beat's entry: the report of the period due now, for the province and every unit, once
    per period (a second firing — a restarted beat — adds nothing)."""
    period = Period.of(kind, *_due_period(kind))
    with get_database().transaction() as session:
        if compiling.scheduled_already(session, period, None):
            log.info("scheduled %s report for %s already requested", kind, period.label_en)
            return None
        job = compiling.request(
            session, period, None, trigger="schedule", actor=None, each_unit=True
        )
        jobs.enqueue(session, job, compile_report, queue="reports")
        return str(job.id)


def _due_period(kind: str) -> tuple[int, int | None]:
    today = utcnow().astimezone(LOCAL_TZ).date()
    if kind == "annual":
        return today.year, None
    return today.year, (today.month - 1) // 3 + 1


@shared_task(name="reports.refresh_live", service="reports", queue="default")
def refresh_live(kind: str = "annual", year: int | None = None, quarter: int = 0) -> dict[str, str]:
    """Read the sources for the dashboards (domain/live.py): the current year by default."""
    from services.reports.api.common import as_of_for

    settings = current_app.config["SETTINGS"]
    today = local_today()
    period = Period.of(kind, year or today.year, quarter if kind == "quarterly" else None)
    as_of = as_of_for(period, None)
    read_at = live.refresh(settings, current_app.extensions["trace_kv"], period, as_of)
    return {"period": period.kind, "as_of": as_of.isoformat(), "read_at": read_at.isoformat()}


@shared_task(name="reports.send_reminders", service="reports", queue="default")
def send_reminders() -> int:
    with get_database().transaction() as session:
        return narratives.send_reminders(session, local_today())


@shared_task(name="reports.reap_jobs", service="reports", queue="default")
def reap_jobs() -> int:
    with get_database().transaction() as session:
        reaped = jobs.reap(session, Job)
        for job in reaped:
            jobs.enqueue(session, job, compile_report, queue="reports")
    return len(reaped)
