"""The exports: which events go into one `EPCISDocument` — a lot's trace both ways, one
establishment's period, or every establishment's in a scope over a period — and the document
assembled from them with the master data of what they name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from services.products.domain.epcis.events import (
    _Builder,
    _chunks,
    lot_sources,
    stages,
    transformations,
)
from services.products.domain.epcis.formats import timestamp
from services.products.domain.epcis.identifiers import Ids, base_url
from services.products.domain.epcis.masterdata import _master_data
from services.products.domain.epcis.shipping import shipments
from services.products.domain.graph import walk
from services.products.models import Lot, LotLink, LotSource, Shipment, StageEvent
from shared.db import utcnow
from shared.errors import NotFound

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
SCHEMA_VERSION = "2.0"

Visible = Callable[[uuid.UUID], bool]
Scope = Callable[[Any], ColumnElement[bool]]


def document(
    builder: _Builder,
    *,
    visible: Visible | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    always: set[uuid.UUID] | None = None,
) -> dict[str, Any]:
    """The events `visible` admits within [start, end), with the master data of what they
    name, of the lots in `extra_lots` the caller may read, and of the lots `always`."""
    events = [
        e
        for e in builder.events.values()
        if (visible is None or any(visible(o) for o in e.owners))
        and (start is None or e.at >= start)
        and (end is None or e.at < end)
    ]
    events.sort(key=lambda e: (e.at, e.body["eventID"]))
    lot_ids = (
        set().union(*(e.lots for e in events))
        | {
            i
            for i in builder.extra_lots
            if visible is None or visible(builder.lots[i].establishment_id)
        }
        | (always or set())
    )
    builder.load_lots(lot_ids)
    est_ids = set().union(*(e.establishments for e in events)) | {
        builder.lots[i].establishment_id for i in lot_ids
    }
    builder.load_establishments(est_ids)
    party_ids = set().union(*(e.parties for e in events))
    document: dict[str, Any] = {
        "@context": [EPCIS_CONTEXT, {"trace": builder.ids.vocabulary()}],
        "type": "EPCISDocument",
        "schemaVersion": SCHEMA_VERSION,
        "creationDate": timestamp(utcnow()),
    }
    vocabularies = _master_data(builder, lot_ids, est_ids, party_ids)
    if vocabularies:
        document["epcisHeader"] = {"epcisMasterData": {"vocabularyList": vocabularies}}
    document["epcisBody"] = {"eventList": [e.body for e in events]}
    return document


def _complete_groups(
    session: Session, made: set[uuid.UUID], split: set[uuid.UUID]
) -> list[LotLink]:
    """Every input/merge link into the lots `made` and every split link out of the lots
    `split`, so one transformation reads the same in every export."""
    found: dict[uuid.UUID, LotLink] = {}
    for chunk in _chunks(made):
        query = select(LotLink).where(
            LotLink.target_lot_id.in_(chunk), LotLink.kind.in_(("input", "merge"))
        )
        found.update((link.id, link) for link in session.scalars(query))
    for chunk in _chunks(split):
        query = select(LotLink).where(LotLink.source_lot_id.in_(chunk), LotLink.kind == "split")
        found.update((link.id, link) for link in session.scalars(query))
    return list(found.values())


def for_lot(
    session: Session,
    lot_id: uuid.UUID,
    include_trace: bool = True,
    *,
    visible: Visible | None = None,
    base: str | None = None,
) -> dict[str, Any]:
    """The lot's events — and, with `include_trace`, those of every lot it came from or went
    into, backward and forward to any depth — with their master data. `visible` (an
    establishment id → may the caller read its data?) keeps each establishment's own events
    to its readers; a shipment is seen by both ends."""
    lot = session.get(Lot, lot_id)
    if lot is None:
        raise NotFound()
    lot_ids = {lot_id}
    if include_trace:
        lot_ids |= set(walk(session, lot_id, "backward").depth)
        lot_ids |= set(walk(session, lot_id, "forward").depth)
    builder = _Builder(session, Ids(base or base_url()))
    builder.load_lots(lot_ids)
    builder.extra_lots = {i for i in lot_ids if i in builder.lots}
    for chunk in _chunks(lot_ids):
        stages(builder, session.scalars(select(StageEvent).where(StageEvent.lot_id.in_(chunk))))
        shipments(
            builder,
            session.scalars(
                select(Shipment).where(
                    or_(Shipment.lot_id.in_(chunk), Shipment.received_lot_id.in_(chunk))
                )
            ),
        )
        lot_sources(builder, session.scalars(select(LotSource).where(LotSource.lot_id.in_(chunk))))
    made: set[uuid.UUID] = set()
    split: set[uuid.UUID] = set()
    for chunk in _chunks(lot_ids):
        touching = select(LotLink).where(
            or_(LotLink.source_lot_id.in_(chunk), LotLink.target_lot_id.in_(chunk)),
            LotLink.kind != "shipment",
        )
        for link in session.scalars(touching):
            if link.kind == "split":
                split.add(link.source_lot_id)
            else:
                made.add(link.target_lot_id)
    transformations(builder, _complete_groups(session, made, split))
    return document(builder, visible=visible, always={lot_id})


def _collect_period(
    session: Session, where: Scope | None, start: datetime, end: datetime, base: str | None
) -> dict[str, Any]:
    def scoped(column: Any) -> ColumnElement[bool]:
        return where(column) if where is not None else true()

    builder = _Builder(session, Ids(base or base_url()))
    stages(
        builder,
        session.scalars(
            select(StageEvent).where(
                scoped(StageEvent.establishment_id),
                StageEvent.occurred_at >= start,
                StageEvent.occurred_at < end,
                StageEvent.voided_at.is_(None),
            )
        ),
    )
    shipments(
        builder,
        session.scalars(
            select(Shipment).where(
                scoped(Shipment.establishment_id),
                Shipment.shipped_at >= start,
                Shipment.shipped_at < end,
            )
        ),
        receiving=False,
    )
    shipments(
        builder,
        session.scalars(
            select(Shipment).where(
                scoped(Shipment.recipient_establishment_id),
                Shipment.received_at >= start,
                Shipment.received_at < end,
            )
        ),
        shipping=False,
    )
    lot_sources(
        builder,
        session.scalars(
            select(LotSource)
            .join(Lot, Lot.id == LotSource.lot_id)
            .where(
                scoped(Lot.establishment_id),
                LotSource.received_at >= start,
                LotSource.received_at < end,
            )
        ),
    )
    # Transformations: groups with a link in the period at an establishment in scope; the
    # group's time (its latest link) decides.
    made: set[uuid.UUID] = set()
    split: set[uuid.UUID] = set()
    link_time = LotLink.occurred_at
    in_window = or_(
        and_(link_time.is_not(None), link_time >= start, link_time < end),
        and_(link_time.is_(None), LotLink.created_at >= start, LotLink.created_at < end),
    )
    made.update(
        session.scalars(
            select(LotLink.target_lot_id)
            .join(Lot, Lot.id == LotLink.target_lot_id)
            .where(scoped(Lot.establishment_id), LotLink.kind.in_(("input", "merge")), in_window)
        )
    )
    split.update(
        session.scalars(
            select(LotLink.source_lot_id)
            .join(Lot, Lot.id == LotLink.source_lot_id)
            .where(scoped(Lot.establishment_id), LotLink.kind == "split", in_window)
        )
    )
    transformations(builder, _complete_groups(session, made, split))
    return document(builder, start=start, end=end)


def for_establishment(
    session: Session,
    establishment_id: uuid.UUID,
    start: datetime,
    end: datetime,
    *,
    base: str | None = None,
) -> dict[str, Any]:
    """What happened at one establishment in [start, end): its diary, the transformations of
    its lots, its shipments, its receipts, its deliveries from outside suppliers."""
    return _collect_period(session, lambda column: column == establishment_id, start, end, base)


def for_period(
    session: Session,
    start: datetime,
    end: datetime,
    *,
    where: Scope | None = None,
    base: str | None = None,
) -> dict[str, Any]:
    """What happened at every establishment `where` admits (a clause on an establishment id
    column, e.g. `scope.scope_filter`; None for all) in [start, end) — the report to the
    ministry."""
    return _collect_period(session, where, start, end, base)
