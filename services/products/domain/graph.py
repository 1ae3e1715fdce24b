"""Walking the lot graph (Circular 17/2021: one step back, one step forward, to any depth).

The closure is computed by the database in one statement: a recursive CTE over `lot_links`
(`WITH RECURSIVE reach(lot_id) AS (start UNION one step from reach)`), joined back to the
links whose near end it reached. `UNION` (not `UNION ALL`) discards a lot already reached, so
splits, merges, diamonds and cycles in bad data terminate, and each lot is expanded once.
Both the steps and the links' data are index-only scans of `ix_lot_links_source_covering` /
`ix_lot_links_target_covering`, whose INCLUDE columns hold everything a trace shows of a link
(the table itself is not read). The same SQL runs on PostgreSQL and on SQLite (both
implement recursive `UNION` that way).

Distances come from a breadth-first pass in Python over the edges the query returned (a few
thousand tuples at most for a real trace): cheaper than carrying a depth column through the
CTE, which would defeat `UNION`'s de-duplication and revisit a lot once per path to it. Ids
travel as text made by the database (see `text_id`).

A walk limited to `max_depth` goes level by level instead (one query per level with the whole
frontier), so it reads only what it returns. The LotLink rows of a `Walk` are loaded when
first asked for. `reach` returns the links' data as tuples, for the trace; `distances` only
the lots and their distances, for recall impact.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, Literal, NamedTuple, TypeVar

from sqlalchemy import (
    ARRAY,
    DateTime,
    String,
    Text,
    Uuid,
    any_,
    bindparam,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.orm import Session

from services.products.models import LotLink

Direction = Literal["backward", "forward"]
CHUNK = 5000
_L = TypeVar("_L")
_K = TypeVar("_K", str, uuid.UUID)


class Statement:
    """A Core SELECT built once per kind of database and kept, run with named parameters.

    A trace runs a handful of statements over thousands of rows; building a statement and
    having SQLAlchemy compile-cache it, execute it and wrap its rows costs more Python than
    the rows themselves. So on PostgreSQL the statement is compiled to SQL once and run on the
    driver's cursor, its rows the driver's plain tuples, without SQLAlchemy's result
    processing (read timestamps with `utc_time`). On SQLite it runs through SQLAlchemy as
    usual (its values need the types' processing).
    `build` gets the dialect's name; `ids_in` makes an `IN ids` condition for `rows_in`."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        self._build = build
        self._built: dict[str, Any] = {}

    def _prepared(self, dialect: Any) -> Any:
        built = self._built.get(dialect.name)
        if built is None:
            built = self._build(dialect.name)
            if dialect.name == "postgresql":
                compiled = built.compile(dialect=dialect)
                # The statement's own literals are parameters too: keep their values.
                built = (str(compiled), compiled.params)
            self._built[dialect.name] = built
        return built

    def rows(self, session: Session, **params: Any) -> list[Any]:
        """The rows (tuples: unpack them by position), on the session's connection: flush
        first if the session may hold changes the statement must see."""
        connection = session.connection()
        built = self._prepared(connection.dialect)
        if isinstance(built, tuple):
            sql, defaults = built
            cursor = connection.connection.cursor()
            try:
                cursor.execute(sql, {**defaults, **params})
                return list(cursor.fetchall())
            finally:
                cursor.close()
        return list(connection.execute(built, params).all())

    def rows_in(self, session: Session, ids: Collection[str], **params: Any) -> list[Any]:
        """`rows` with the `ids_in` condition over `ids` (text): on PostgreSQL one statement
        with the ids as one array literal (adapting a thousand UUIDs one by one costs more
        than the look-ups), on SQLite chunks of IN."""
        values = list(ids)
        if not values:
            return []
        if session.get_bind().dialect.name == "postgresql":
            return self.rows(session, ids="{" + ",".join(values) + "}", **params)
        found: list[Any] = []
        for i in range(0, len(values), CHUNK):
            chunk = [uuid.UUID(value) for value in values[i : i + CHUNK]]
            found.extend(self.rows(session, ids=chunk, **params))
        return found


def ids_in(dialect: str, column: Any) -> Any:
    """The condition `column IN :ids` of a `Statement` run with `rows_in`."""
    if dialect == "postgresql":
        return column == any_(cast(bindparam("ids", type_=String()), ARRAY(Uuid())))
    return column.in_(bindparam("ids", expanding=True))


def text_id(dialect: str, column: Any) -> Any:
    """A UUID column as its canonical text (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`), made by
    the database, in a statement built for `dialect`. A trace handles thousands of ids and
    only ever prints them: as text they are decoded in C and hash in C, where uuid.UUID
    objects cost microseconds each to build, hash and compare (a fifth of a trace's CPU)."""
    if dialect == "postgresql":
        return cast(column, Text)
    # SQLite keeps a UUID as 32 hex digits.
    parts = [
        func.substr(column, first, length, type_=String)
        for first, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
    ]
    return parts[0] + "-" + parts[1] + "-" + parts[2] + "-" + parts[3] + "-" + parts[4]


def utc_time(dialect: str, column: Any) -> Any:
    """A timestamp column for a `Statement`: on PostgreSQL the UTC wall-clock time without a
    zone (the driver would make each value in the server's zone, converting it back costs
    more than the rest of a row), on SQLite the model's aware UTC value. `utc` finishes it."""
    if dialect == "postgresql":
        return func.timezone("UTC", column, type_=DateTime())
    return column


def utc(value: datetime | None) -> datetime | None:
    """A `utc_time` value as the models give it: aware, in UTC."""
    return None if value is None else value.replace(tzinfo=UTC)


class EdgeRow(NamedTuple):
    """A link as a plain tuple, its ids as text (see `text_id`): a trace reads thousands and
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

    `links` is loaded from the session on first use: the callers so far (EPCIS export, public
    page) need only the distances, and building ten thousand ORM objects costs more than the
    walk itself."""

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
    if direction == "forward":
        return source, target
    if direction == "backward":
        return target, source
    raise ValueError(f"unknown direction: {direction!r}")


def _crossed(start: Any, direction: Direction, *columns: Any) -> Any:
    """SELECT `columns` FROM every link whose near end is reachable from `start`: the lots
    first (a recursive CTE, each lot expanded once), then their links. Walking the links
    themselves would read a lot's links once per link into it — a merge of a thousand inputs
    into a lot split a thousand ways would read a million rows."""
    near, far = _ends(direction)
    # The cast keeps the seed's type equal to the recursive term's (PostgreSQL insists).
    seed = select(cast(start, Uuid()).label("lot_id"))
    lots = seed.cte("reach", recursive=True)
    lots = lots.union(select(far).where(near == lots.c.lot_id))
    return select(*columns).where(near.in_(select(lots.c.lot_id)))


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


def _levels(start: str, pairs: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Distances from `start` over (near, far) pairs: `_breadth_first` without the links."""
    ahead: dict[str, list[str]] = defaultdict(list)
    for near, far in pairs:
        ahead[near].append(far)
    depth = {start: 0}
    frontier = [start]
    level = 0
    while frontier:
        level += 1
        next_frontier: list[str] = []
        for lot_id in frontier:
            for other in ahead.get(lot_id, ()):
                if other not in depth:
                    depth[other] = level
                    next_frontier.append(other)
        frontier = next_frontier
    return depth


_START = bindparam("start", type_=Uuid())


def _reach_statement(direction: Direction) -> Statement:
    def build(dialect: str) -> Any:
        columns = [getattr(LotLink, name) for name in EdgeRow._fields]
        return _crossed(
            _START,
            direction,
            *(
                text_id(dialect, column)
                if column.key.endswith("id")
                else utc_time(dialect, column)
                if column.key == "occurred_at"
                else column
                for column in columns
            ),
        )

    return Statement(build)


def _pairs_statement(direction: Direction) -> Statement:
    near, far = _ends(direction)

    def build(dialect: str) -> Any:
        return _crossed(_START, direction, text_id(dialect, near), text_id(dialect, far))

    return Statement(build)


_REACH = {direction: _reach_statement(direction) for direction in ("backward", "forward")}
_PAIRS = {direction: _pairs_statement(direction) for direction in ("backward", "forward")}


def reach(session: Session, start: uuid.UUID, direction: Direction) -> Reach:
    """Every lot reachable from `start` (to any depth) and the links crossed, with everything
    a trace shows of them, in one statement; ids as text."""
    ends = _getters(direction)  # a bad direction fails here, not as a KeyError
    session.flush()  # the statement runs on the connection, without autoflush
    rows = [
        EdgeRow(link, source, target, kind, quantity, unit, utc(at), place, shipment)
        for link, source, target, kind, quantity, unit, at, place, shipment in _REACH[
            direction
        ].rows(session, start=start)
    ]
    depth, ordered = _breadth_first(str(start), rows, *ends)
    return Reach(str(start), direction, depth, ordered)


def distances(session: Session, start: uuid.UUID, direction: Direction) -> dict[str, int]:
    """Every lot reachable from `start` (the start included) with its shortest distance, ids
    as text, in breadth-first order: one statement over (source, target) pairs alone."""
    _ends(direction)  # a bad direction fails here, not as a KeyError
    session.flush()
    return _levels(str(start), _PAIRS[direction].rows(session, start=start))


def _chunks(ids: Sequence[uuid.UUID]) -> Iterable[Sequence[uuid.UUID]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _load_ordered(session: Session, start: uuid.UUID, direction: Direction) -> list[LotLink]:
    """The LotLink rows a walk crossed, in breadth-first order."""
    links = list(session.scalars(_crossed(literal(start, Uuid()), direction, LotLink)))
    return _breadth_first(start, links, *_getters(direction))[1]


def _load_links(session: Session, ids: list[uuid.UUID]) -> list[LotLink]:
    """The LotLink rows with these ids, in this order."""
    found: dict[uuid.UUID, LotLink] = {}
    for chunk in _chunks(ids):
        by_id = select(LotLink).where(LotLink.id.in_(chunk))
        found.update((link.id, link) for link in session.scalars(by_id))
    return [found[link_id] for link_id in ids if link_id in found]


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
    result = Walk(start, direction, depth)
    result._load = lambda: _load_links(session, crossed)
    return result


def walk(
    session: Session, start: uuid.UUID, direction: Direction, *, max_depth: int | None = None
) -> Walk:
    """Every lot reachable from `start` going `direction`, each with its shortest distance, and
    every link crossed (LotLink rows, in breadth-first order). `max_depth` stops after that
    many steps."""
    if max_depth is not None:
        return _walk_levels(session, start, direction, max_depth)
    depth = {uuid.UUID(lot): level for lot, level in distances(session, start, direction).items()}
    result = Walk(start, direction, depth)
    result._load = lambda: _load_ordered(session, start, direction)
    return result
