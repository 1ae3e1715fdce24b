"""Change events for the labels service's cached public cards.

After a commit that changed a product, a lot (e.g. recalled), a diary entry or a
certification, the products service rings `labels.refresh_cards` with the product and lot ids
touched (a SQLAlchemy `before_flush` watch collects them; the task is sent only after the
commit), so a recall shows on the trace page at once rather than after the cache's lifetime.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from services.products.models import Certification, Lot, Product, StageEvent
from shared.db import on_commit

log = logging.getLogger(__name__)

TASK = "labels.refresh_cards"
_KEY = "public_card_changes"


def touched(session: Session, kind: str, ids: Iterable[uuid.UUID]) -> None:
    """Note changes the ORM does not see — bulk `UPDATE`s, such as a recall marking hundreds
    of lots recalled at once (domain/recalls/workflow.py) — so their cards are refreshed too."""
    changes = session.info.get(_KEY)
    if changes is None:
        changes = session.info[_KEY] = {"lot": set(), "product": set(), "establishment": set()}
        on_commit(session, _sender(session))
    changes[kind].update(i for i in ids if i is not None)


def _collect(session: Session) -> None:
    changes = session.info.get(_KEY)
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Lot):
            found = ("lot", obj.id)
        elif isinstance(obj, Product):
            found = ("product", obj.id)
        elif isinstance(obj, StageEvent):
            found = ("lot", obj.lot_id)
        elif isinstance(obj, Certification):
            found = ("establishment", obj.establishment_id)
        else:
            continue
        if changes is None:
            changes = session.info[_KEY] = {"lot": set(), "product": set(), "establishment": set()}
            on_commit(session, _sender(session))
        if found[1] is not None:
            changes[found[0]].add(found[1])


def _sender(session: Session) -> Callable[[], None]:
    def send() -> None:
        _send(session.info.pop(_KEY, None))

    return send


def _send(changes: dict[str, set[uuid.UUID]] | None) -> None:
    if not changes or not any(changes.values()):
        return
    from celery import current_app as celery

    if celery.conf.task_always_eager:
        return  # in-process tests: the labels tests refresh explicitly
    # The keyword names of `labels.refresh_cards` (services/labels/tasks.py).
    kwargs = {f"{name}_ids": sorted(str(i) for i in ids) for name, ids in changes.items()}
    try:
        celery.send_task(TASK, kwargs=kwargs, queue="default", expires=600)
    except Exception:
        # The cards' time to live bounds the staleness; a down broker must not fail a request.
        log.warning("public card doorbell not sent", exc_info=True)


@event.listens_for(Session, "before_flush")
def _watch(session: Session, _context: Any, _instances: Any) -> None:
    _collect(session)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_KEY, None)
