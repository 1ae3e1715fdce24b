"""Celery's entry point: `celery -A shared.worker worker -Q default,imports,labels,reports`.

The app is built on first access (module `__getattr__`), not at import time.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import Celery


@cache
def build() -> Celery:
    from shared.celery_app import create_celery
    from shared.embedded import create_service_apps, settings_for_process

    settings = settings_for_process()
    return create_celery(settings, create_service_apps(settings))


def __getattr__(name: str) -> Any:
    if name in {"app", "celery"}:
        return build()
    raise AttributeError(name)
