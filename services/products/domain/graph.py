"""Walking the lot graph (Circular 17/2021: one step back, one step forward, to any depth).

The closure is computed by the database in one statement: a recursive CTE over `lot_links`
(`WITH RECURSIVE reach(lot_id) AS (start UNION one step from reach)`), joined back to the
links whose near end it reached. `UNION` (not `UNION ALL`) discards a lot already reached, so
splits, merges, diamonds and cycles in bad data terminate, and each lot is expanded once with
an index-only scan of `ix_lot_links_source_target` / `ix_lot_links_target_source`. The same
SQL runs on PostgreSQL and on SQLite (both implement recursive `UNION` that way).

Distances come from a breadth-first pass in Python over the edges the query returned (a few
thousand tuples at most for a real trace): cheaper than carrying a depth column through the
CTE, which would defeat `UNION`'s de-duplication and revisit a lot once per path to it.

A walk limited to `max_depth` goes level by level instead (one query per level with the whole
frontier), so it reads only what it returns. Both walk on (id, source, target) alone; the
LotLink rows of a `Walk` are loaded when first asked for. `reach` returns the links' data as
tuples, for the trace.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, Literal, NamedTuple, TypeVar

from sqlalchemy import String, Text, Uuid, cast, func, literal, select
from sqlalchemy.orm import Session

from services.products.models import LotLink

Direction = Literal["backward", "forward"]
CHUNK = 5000
_L = TypeVar("_L")
_K = TypeVar("_K", str, uuid.UUID)


def id_text(session: Session, column: Any) -> Any:
    """A UUID column as its canonical text (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`), made by
    the database. A trace handles thousands of ids and only ever prints them: as text they are
    decoded in C and hash in C, where uuid.UUID objects cost microseconds each to build, hash
    and compare (a fifth of a trace's CPU)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(column, Text)
    # SQLite keeps a UUID as 32 hex digits.
    parts = [
        func.substr(column, first, length, type_=String)
        for first, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    ]
    return parts[0] + "-" + parts[1] + "-" + parts[2] + "-" + parts[3] + "-" + parts[4]


class EdgeRow(NamedTuple):
    """A link as a plain tuple, its ids as text (see `id_text`): a trace reads thousands and
    needs no ORM identity (building ORM objects would cost more than the query)."""

    id: str
    source_lot_id: str
    target_lot_id: str
    kind: str
    quantity: Decimal | None
    unit: str | None
    occurred_at: datetime | None
    place: str | None
    shipment_id: str | None


class Walk:
    """What a walk reached: each lot with its distance (0 = the start), and every edge between
    reached lots that the walk crossed, as LotLink rows in breadth-first order.

    `links` is loaded from the session on first use: the callers so far (recall impact, EPCIS
    export, public page) need only the distances, and building ten thousand ORM objects costs
    more than the walk itself."""

    def __init__(
        self,
        start: uuid.UUID,
        direction: Direction,
        depth: dict[uuid.UUID, int] | None = None,
        links: list[LotLink] | None = None,
    ) -> None:
        self.start = start
        self.direction = direction
        self.depth: dict[uuid.UUID, int] = depth if depth is not None else {}
        self._links = links
        self._load: Callable[[], list[LotLink]] | None = None

    @property
    def links(self) -> list[LotLink]:
        if self._links is None:
            self._links = self._load() if self._load is not None else []
        return self._links

    @links.setter
    def links(self, value: list[LotLink]) -> None:
        self._links = value

    def __repr__(self) -> str:
        return f"Walk({self.start}, {self.direction!r}, {len(self.depth)} lots)"


@dataclass
class Reach:
    """A walk's result for presentation: lot ids as text, the links as EdgeRow tuples in
    breadth-first order."""

    start: str
    direction: Direction
    depth: dict[str, int] = field(default_factory=dict)
    links: list[EdgeRow] = field(default_factory=list)


def _ends(direction: Direction) -> tuple[Any, Any]:
    """(near, far): a step goes from a reached lot at the near end to the lot at the far end."""
    if direction == "forward":
        return LotLink.source_lot_id, LotLink.target_lot_id
    if direction == "backward":
        return LotLink.target_lot_id, LotLink.source_lot_id
    raise ValueError(f"unknown direction: {direction!r}")


def _getters(direction: Direction) -> tuple[Any, Any]:
    """(near end, far end) of a loaded link, as fast attribute getters."""
    source, target = attrgetter("source_lot_id"), attrgetter("target_lot_id")
    return (source, target) if direction == "forward" else (target, source)


def _closure_links(start: uuid.UUID, direction: Direction, *entities: Any) -> Any:
    """SELECT `entities` FROM every link whose near end is reachable from `start`."""
    near, far = _ends(direction)
    # The cast keeps the seed's type equal to the recursive term's (PostgreSQL insists).
    seed = select(cast(literal(start, Uuid()), Uuid()).label("lot_id"))
    reach = seed.cte("reach", recursive=True)
    reach = reach.union(select(far).where(near == reach.c.lot_id))
    return select(*entities).where(near.in_(select(reach.c.lot_id)))


def _breadth_first(
    start: _K,
    links: Sequence[_L],
    near_of: Callable[[_L], _K],
    far_of: Callable[[_L], _K],
) -> tuple[dict[_K, int], list[_L]]:
    """Distances from `start` and the links in the order a level-by-level walk crosses them."""
    by_near: dict[_K, list[_L]] = defaultdict(list)
    for link in links:
        by_near[near_of(link)].append(link)
    depth = {start: 0}
    ordered: list[_L] = []
    frontier = [start]
    level = 0
    while frontier:
        level += 1
        next_frontier: list[_K] = []
        for lot_id in frontier:
            found = by_near.get(lot_id)
            if not found:
                continue
            ordered.extend(found)
            for link in found:
                other = far_of(link)
                if other not in depth:
                    depth[other] = level
                    next_frontier.append(other)
        frontier = next_frontier
    return depth, ordered


def reach(session: Session, start: uuid.UUID, direction: Direction) -> Reach:
    """Every lot reachable from `start` (to any depth) and the links crossed, with everything
    a trace shows of them, in one statement; ids as text."""
    columns = (
        id_text(session, LotLink.id),
        id_text(session, LotLink.source_lot_id),
        id_text(session, LotLink.target_lot_id),
        LotLink.kind,
        LotLink.quantity,
        LotLink.unit,
        LotLink.occurred_at,
        LotLink.place,
        id_text(session, LotLink.shipment_id),
    )
    # Core execution on the session's connection: the ORM's row wrapping costs ~10 % here.
    # That skips autoflush, so flush first, as an ORM query would.
    session.flush()
    result = session.connection().execute(_closure_links(start, direction, *columns))
    rows = [EdgeRow._make(row) for row in result.all()]  # all(): one fetch, not row by row
    depth, ordered = _breadth_first(str(start), rows, *_getters(direction))
    return Reach(str(start), direction, depth, ordered)


def _chunks(ids: Sequence[uuid.UUID]) -> Iterable[Sequence[uuid.UUID]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _load_links(session: Session, ids: list[uuid.UUID], stmt: Any = None) -> list[LotLink]:
    """The LotLink rows with these ids, in this order: read with `stmt` when given (the
    closure query again — cheaper than sending ten thousand ids back), else by id."""
    found: dict[uuid.UUID, LotLink] = {}
    if stmt is not None:
        found.update((link.id, link) for link in session.scalars(stmt))
    else:
        for chunk in _chunks(ids):
            by_id = select(LotLink).where(LotLink.id.in_(chunk))
            found.update((link.id, link) for link in session.scalars(by_id))
    return [found[link_id] for link_id in ids if link_id in found]


def _lazy(session: Session, result: Walk, ids: list[uuid.UUID], stmt: Any = None) -> Walk:
    result._load = lambda: _load_links(session, ids, stmt)
    return result


_STEP_COLUMNS = (LotLink.id, LotLink.source_lot_id, LotLink.target_lot_id)


def _walk_levels(session: Session, start: uuid.UUID, direction: Direction, max_depth: int) -> Walk:
    """A walk that stops after `max_depth` steps: one query per level with the whole frontier,
    so it reads only what it returns."""
    depth = {start: 0}
    near, _ = _ends(direction)
    far_of = _getters(direction)[1]
    frontier = [start]
    level = 0
    crossed: list[uuid.UUID] = []
    seen_links: set[uuid.UUID] = set()
    while frontier and level < max_depth:
        level += 1
        next_frontier: list[uuid.UUID] = []
        for chunk in _chunks(frontier):
            for link in session.execute(select(*_STEP_COLUMNS).where(near.in_(chunk))):
                if link.id in seen_links:
                    continue
                seen_links.add(link.id)
                crossed.append(link.id)
                other = far_of(link)
                if other not in depth:
                    depth[other] = level
                    next_frontier.append(other)
        frontier = next_frontier
    return _lazy(session, Walk(start, direction, depth), crossed)


def walk(
    session: Session, start: uuid.UUID, direction: Direction, *, max_depth: int | None = None
) -> Walk:
    """Every lot reachable from `start` going `direction`, each with its shortest distance, and
    every link crossed (LotLink rows, in breadth-first order). `max_depth` stops after that
    many steps."""
    if max_depth is not None:
        return _walk_levels(session, start, direction, max_depth)
    session.flush()  # Core execution below: no autoflush
    rows = session.connection().execute(_closure_links(start, direction, *_STEP_COLUMNS)).all()
    depth, ordered = _breadth_first(start, rows, *_getters(direction))
    ids = [row.id for row in ordered]
    return _lazy(
        session, Walk(start, direction, depth), ids, _closure_links(start, direction, LotLink)
    )
