"""Print-job tasks of the labels service (domain/printing.py): chunks and the join run on the
`labels` queue, the reaper on `default` (beat, every 30 s).

Wiring: this module is listed in shared/celery_app.TASK_MODULES, and BEAT_SCHEDULE below is
merged into the beat schedule. A worker consuming `labels` imports WeasyPrint, pikepdf and the
code font before it forks its pool (`worker_init`), so every child starts warm.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.signals import worker_init
from flask import current_app

from services.labels.domain import codes, printing
from shared import jobs
from shared.db import get_database

log = logging.getLogger(__name__)

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "labels.reap-print-jobs": {
        "task": "labels.reap_print_jobs",
        "schedule": timedelta(seconds=30),
        "options": {"queue": "default", "expires": 25},
    },
}


def _payload() -> printing.Payload:
    settings = current_app.config["SETTINGS"]
    key, base = settings.serial_signing_key, settings.public_url

    def payload(batch: Any, serial: int) -> tuple[str, str]:
        return codes.item_payload(key, base, batch, serial)

    return payload


@shared_task(
    bind=True,
    name="labels.render_chunk",
    service="labels",
    queue=printing.QUEUE,
    max_retries=jobs.MAX_ATTEMPTS,
)
def render_chunk(self: Any, job_id: str, index: int) -> str:
    """Render one slice of a print job into the file store."""
    store = current_app.extensions["trace_files"]
    return printing.run_chunk(self, get_database(), store, job_id, int(index), _payload())


@shared_task(
    bind=True,
    name="labels.join_chunks",
    service="labels",
    queue=printing.QUEUE,
    max_retries=jobs.MAX_ATTEMPTS,
)
def join_chunks(self: Any, job_id: str) -> str:
    """Concatenate a print job's finished slices into the batch's PDF; the job is done."""
    store = current_app.extensions["trace_files"]
    return printing.run_join(self, get_database(), store, job_id)


@shared_task(name="labels.reap_print_jobs", service="labels", queue="default")
def reap_print_jobs() -> int:
    """Send again the chunks and joins whose worker vanished or whose message was lost."""
    with get_database().transaction() as session:
        reaped = printing.reap(session)
        printing.send_reaped(session, reaped)
    if len(reaped):
        log.warning(
            "print jobs: re-sent %d chunks and %d joins, failed %d jobs",
            len(reaped.chunks),
            len(reaped.joins),
            len(reaped.failed),
        )
    return len(reaped)


def warm_up() -> None:
    """Import the renderer's libraries, load the code font and lay out one label (~3-7 s the
    first time in a process: WeasyPrint's import, fontconfig, Pango's font loading)."""
    from services.labels.domain.render import Template, render_labels

    render_labels(
        Template.from_json({"preset": "roll-40x30"}),
        {"product_name": "Chả mực Hạ Long", "establishment_name": "Hợp tác xã Đầm Hà"},
        [("https://example.vn/q/0000000-0000", "0000000-0000")],
    )


@worker_init.connect
def _warm_labels_worker(sender: Any = None, **_: Any) -> None:
    """In the worker's main process, before its pool forks: only for workers of `labels`."""
    try:
        queues = set(sender.app.amqp.queues.consume_from or {})
    except AttributeError:
        return
    if printing.QUEUE in queues:
        warm_up()
