"""The one Celery app, wired as in Flask's `examples/celery`.

Queues: `default`, `imports`, `labels`, `reports` — one per kind of work, so operators scale
each independently. Tasks are declared in each service's `tasks.py` with `@shared_task` and a
`service` attribute; the task class pushes that service's Flask app context, so a task body
reaches its service's database exactly as a view does. The broker is Redis when `REDIS_URL`
is set, else kombu's SQLAlchemy transport on a SQLite file (embedded default).

Tasks are `acks_late` with `reject_on_worker_lost`, JSON only, results ignored: a job's truth is
its row in the owning service's database, and the broker is only a doorbell.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from celery import Celery, Task
from celery.signals import before_task_publish, task_postrun, task_prerun
from flask import Flask
from kombu import Queue

from shared.config import QUEUES, Settings
from shared.logs import accept_request_id, bind_request_id, bind_task_id, current_request_id

TASK_MODULES = (
    "services.accounts.tasks",
    "services.products.tasks",
    "services.labels.tasks",
    "services.labels.printing_tasks",
    "services.reports.tasks",
)


def broker_url(settings: Settings) -> str:
    if settings.redis_url:
        return settings.redis_url
    path = Path(settings.var_dir) / "broker.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqla+sqlite:///{path}"


_configured: Celery | None = None


def _conf(settings: Settings) -> dict[str, Any]:
    return {
        "broker_url": broker_url(settings),
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": ({"visibility_timeout": 3600} if settings.redis_url else {}),
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "task_default_queue": "default",
        "task_queues": [Queue(name) for name in QUEUES],
        "timezone": "Asia/Ho_Chi_Minh",
        "enable_utc": True,
    }


def create_celery(settings: Settings, flask_apps: Mapping[str, Flask]) -> Celery:
    """The app a worker (or beat, or a test) runs: tasks execute in their service's context."""
    global _configured
    from datetime import timedelta

    from shared import jobs

    jobs.STALE_AFTER = timedelta(seconds=settings.job_stale_seconds)

    class ServiceTask(Task):
        abstract = True
        service: str = "accounts"

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with flask_apps[self.service].app_context():
                return self.run(*args, **kwargs)

    app = Celery("traceability", task_cls=ServiceTask)
    app.conf.update(
        _conf(settings), beat_schedule=_beat_schedule(settings), include=list(TASK_MODULES)
    )
    app.set_default()
    app.flask_apps = dict(flask_apps)
    for flask_app in flask_apps.values():
        flask_app.extensions["celery"] = app
    _configured = app
    return app


def ensure_producer(settings: Settings) -> Celery:
    """Web processes only send tasks: make sure the default app points at our broker (and
    never replace an app a worker or a test configured)."""
    global _configured
    if _configured is None:
        app = Celery("traceability")
        app.conf.update(_conf(settings))
        app.set_default()
        _configured = app
    return _configured


def _beat_schedule(settings: Settings) -> dict[str, Any]:
    from services.accounts.tasks import BEAT_SCHEDULE as accounts_schedule
    from services.labels.printing_tasks import BEAT_SCHEDULE as printing_schedule
    from services.labels.tasks import BEAT_SCHEDULE as labels_schedule
    from services.products.tasks import BEAT_SCHEDULE as products_schedule
    from services.reports.tasks import beat_schedule as reports_schedule

    return {
        **accounts_schedule,
        **products_schedule,
        **labels_schedule,
        **printing_schedule,
        **reports_schedule(settings),
    }


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """The request that enqueued a task lends it its id, so one id follows the work."""
    request_id = current_request_id()
    if headers is not None and request_id and "request_id" not in headers:
        headers["request_id"] = request_id


@task_prerun.connect
def _bind_ids(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    headers = getattr(getattr(task, "request", None), "headers", None) or {}
    bind_request_id(accept_request_id(headers.get("request_id")))
    bind_task_id(task_id)


@task_postrun.connect
def _unbind_ids(**_: Any) -> None:
    bind_request_id(None)
    bind_task_id(None)
