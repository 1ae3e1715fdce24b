"""Walking the lot graph (Circular 17/2021: one step back, one step forward, to any depth).

`walk` is breadth-first over `lot_links`, one query per level with the whole frontier
(`= ANY` on PostgreSQL), so a lot reaching thousands of others costs a handful of round trips;
every lot is visited once, so splits, merges, diamonds and cycles in bad data terminate and
each lot gets its shortest distance from the start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.models import LotLink

Direction = Literal["backward", "forward"]
CHUNK = 5000


@dataclass
class Walk:
    """What a walk reached: each lot with its distance (0 = the start), and every edge between
    reached lots that the walk crossed, as LotLink rows."""

    start: uuid.UUID
    direction: Direction
    depth: dict[uuid.UUID, int] = field(default_factory=dict)
    links: list[LotLink] = field(default_factory=list)


def _chunks(ids: list[uuid.UUID]) -> Iterable[list[uuid.UUID]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def walk(
    session: Session, start: uuid.UUID, direction: Direction, *, max_depth: int | None = None
) -> Walk:
    result = Walk(start, direction, {start: 0})
    if direction == "forward":
        near, far = LotLink.source_lot_id, LotLink.target_lot_id
    else:
        near, far = LotLink.target_lot_id, LotLink.source_lot_id
    frontier = [start]
    level = 0
    seen_links: set[uuid.UUID] = set()
    while frontier and (max_depth is None or level < max_depth):
        level += 1
        next_frontier: list[uuid.UUID] = []
        for chunk in _chunks(frontier):
            for link in session.scalars(select(LotLink).where(near.in_(chunk))):
                if link.id in seen_links:
                    continue
                seen_links.add(link.id)
                result.links.append(link)
                other = link.target_lot_id if direction == "forward" else link.source_lot_id
                if other not in result.depth:
                    result.depth[other] = level
                    next_frontier.append(other)
        frontier = next_frontier
    return result
