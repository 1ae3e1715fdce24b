"""A province-scale lot graph in a PostgreSQL database of its own, for the trace benchmarks.

    .venv/bin/python -m bench.graph            # build it (or say it is already there)
    .venv/bin/python -m bench.graph --force    # build it again

1,000,000 lots and 3,000,000 links in supply networks of the shapes a province has:

- thousands of small local chains (30–400 lots: a farm, a collector, a shop or two), a few of
  them with bad data (a link back upstream: a cycle);
- 16 district networks of ~13,000 lots (farms → collectors → processors → distributors →
  wholesalers → shops), where tracing a lot reaches about a thousand others;
- 3 provincial hubs of ~34,000 lots (a large processor and its distribution), where a farm's
  lot reaches about ten thousand lots forward — the recall that hurts.

Inside a network each lot takes its inputs at random from the stage before (3 links per lot
overall), so splits, merges and diamonds are everywhere; a link between two establishments is
a `shipment`. Farms' lots have outside suppliers (`lot_sources`), shops' lots go to outside
customers (`shipments`). Everything is drawn from a seeded generator, so a rebuild is the
same graph.

The database (`trace_bench_products`) is created and migrated with `shared.migrate.upgrade`,
filled with COPY (indexes and constraints of the two big tables dropped during the load and
rebuilt after from the migrations' own definitions, covering INCLUDE columns and all, as a
bulk load should), vacuumed and analysed. The start lots the benchmark traces are picked
while generating (their closures computed exactly, in memory) and kept in a `bench_graph`
table, so a later run reuses the database as it is — unless it was built by older
migrations (its indexes decide what is measured), then it is built again.
"""

from __future__ import annotations

import argparse
import collections
import io
import itertools
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import create_engine, text

from bench import common

DATABASE = "trace_bench_products"
VERSION = 4  # bump when the generator changes: an older database is rebuilt
SEED = 20260301
LOTS = 1_000_000
LINKS_PER_LOT = 3

# Stages of a network and the share of its lots at each; a stage's establishments keep about
# this many lots each.
STAGES = ("farm", "collector", "processor", "distributor", "wholesaler", "shop")
DISTRICT_SHAPE = (0.30, 0.10, 0.03, 0.12, 0.15, 0.30)
HUB_SHAPE = (0.30, 0.10, 0.01, 0.14, 0.15, 0.30)
LOTS_PER_ESTABLISHMENT = {
    "farm": 6,
    "collector": 25,
    "processor": 60,
    "distributor": 40,
    "wholesaler": 30,
    "shop": 12,
}
ESTABLISHMENTS = {  # per stage, in the whole province
    "farm": 12_000,
    "collector": 1_500,
    "processor": 300,
    "distributor": 800,
    "wholesaler": 1_400,
    "shop": 4_000,
}
PRODUCTS_PER_ESTABLISHMENT = 2
DISTRICT_NETWORKS, DISTRICT_SIZE = 16, 13_000
HUBS, HUB_SIZE = 3, 34_000
SMALL_SIZES = (30, 400)
CYCLE_SHARE = 0.01  # small chains with one link back upstream (bad data)
SUPPLIER_SHARE = 0.20  # farm lots with an outside supplier
CUSTOMER_SHARE = 0.30  # shop lots sold to an outside customer
# What the benchmark traces.
TARGET_REACH, REACH_TOLERANCE, STARTS = 1_000, 100, 60
TARGET_FORWARD = 10_000

_MASK = (1 << 64) - 1
_KIND = {"lot": 1, "link": 2, "product": 3, "establishment": 4, "source": 5, "shipment": 6}
_UNITS = ("kg", "kg", "kg", "tấn", "hộp", "thùng")
_DISTRICTS = (
    "Hạ Long",
    "Cẩm Phả",
    "Uông Bí",
    "Móng Cái",
    "Đông Triều",
    "Quảng Yên",
    "Đầm Hà",
    "Hải Hà",
    "Tiên Yên",
    "Bình Liêu",
    "Ba Chẽ",
    "Vân Đồn",
    "Cô Tô",
)


def _mix(x: int) -> int:
    """splitmix64's finaliser: a bijection on 64-bit integers (distinct in, distinct out)."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def uuid_text(kind: str, number: int) -> str:
    """A random-looking but reproducible UUID (as PostgreSQL reads it: 32 hex digits).

    Random like uuid4 in the index (no friendly locality a sequence would give), unique
    because the high half is a bijection of (number, kind)."""
    key = (number << 3) | _KIND[kind]
    return f"{_mix(key):016x}{_mix(key ^ 0x5DEECE66D):016x}"


@dataclass
class Start:
    lot_id: str
    establishment_id: str
    reach: int
    backward: int
    forward: int


@dataclass
class GraphInfo:
    url: str
    lots: int
    links: int
    sources: int
    shipments: int
    establishments: int
    products: int
    starts: list[Start] = field(default_factory=list)
    hub_start: Start | None = None
    built_seconds: float = 0.0
    built_at: str = ""
    reused: bool = False

    @classmethod
    def from_json(cls, url: str, data: dict[str, Any]) -> GraphInfo:
        data = dict(data)
        starts = [Start(**s) for s in data.pop("starts")]
        hub = Start(**data.pop("hub_start"))
        return cls(url=url, starts=starts, hub_start=hub, reused=True, **data)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("url", "reused"):
            data.pop(key)
        return data


# --- the shape ----------------------------------------------------------------------------------


@dataclass
class Network:
    first: int  # global index of its first lot
    stages: list[tuple[int, int, str]]  # (first, count, stage) per stage
    kind: str  # small | district | hub


def _plan(rng: random.Random) -> list[Network]:
    sizes: list[tuple[int, str, Sequence[float]]] = [(HUB_SIZE, "hub", HUB_SHAPE)] * HUBS
    sizes += [(DISTRICT_SIZE, "district", DISTRICT_SHAPE)] * DISTRICT_NETWORKS
    left = LOTS - sum(s for s, _, _ in sizes)
    while left > 0:
        size = min(left, rng.randint(*SMALL_SIZES))
        if left - size < SMALL_SIZES[0]:
            size = left
        stage_count = rng.choice((3, 4, 4, 5))
        sizes.append((size, "small", _small_shape(rng, stage_count)))
        left -= size
    rng.shuffle(sizes)
    networks: list[Network] = []
    first = 0
    for size, kind, shares in sizes:
        stages: list[tuple[int, int, str]] = []
        counts = [max(1, int(size * share)) for share in shares]
        counts[-1] = size - sum(counts[:-1])
        names = _stage_names(len(shares))
        start = first
        for count, name in zip(counts, names, strict=True):
            stages.append((start, count, name))
            start += count
        networks.append(Network(first, stages, kind))
        first += size
    return networks


def _small_shape(rng: random.Random, stage_count: int) -> list[float]:
    weights = [rng.uniform(0.6, 1.4) for _ in range(stage_count)]
    total = sum(weights)
    return [w / total for w in weights]


def _stage_names(count: int) -> tuple[str, ...]:
    return {
        3: ("farm", "collector", "shop"),
        4: ("farm", "collector", "processor", "shop"),
        5: ("farm", "collector", "processor", "distributor", "shop"),
        6: STAGES,
    }[count]


def _links(rng: random.Random, network: Network, wanted: int) -> list[tuple[int, int]]:
    """`wanted` distinct links, each from a lot of a stage to a lot of the next stage (every
    lot past the first stage has at least one input)."""
    edges: set[tuple[int, int]] = set()
    stages = network.stages
    for (s0, c0, _), (s1, c1, _) in itertools.pairwise(stages):
        for target in range(s1, s1 + c1):
            edges.add((s0 + rng.randrange(c0), target))
    capacity = sum(c0 * c1 for (_, c0, _), (_, c1, _) in itertools.pairwise(stages))
    wanted = min(wanted, capacity)
    # Each step of the chain gets the same share of the remaining links, so the narrow
    # processing stage becomes a hub: its lots merge many inputs and split into many outputs.
    pairs = [pair for pair in itertools.pairwise(stages) if pair[0][1] * pair[1][1] > 1]
    while len(edges) < wanted:
        (s0, c0, _), (s1, c1, _) = rng.choice(pairs)
        edges.add((s0 + rng.randrange(c0), s1 + rng.randrange(c1)))
    return list(edges)


def _reach(adjacent: dict[int, list[int]], start: int) -> set[int]:
    seen = {start}
    stack = [start]
    while stack:
        for other in adjacent.get(stack.pop(), ()):
            if other not in seen:
                seen.add(other)
                stack.append(other)
    return seen


def _closures(
    edges: list[tuple[int, int]], starts: Sequence[int]
) -> list[tuple[int, int, int, int]]:
    """(lot, backward size, forward size, both ways size) for each start, counting the start
    itself: the reference figures for the lots the benchmark traces."""
    forward: dict[int, list[int]] = collections.defaultdict(list)
    backward: dict[int, list[int]] = collections.defaultdict(list)
    for source, target in edges:
        forward[source].append(target)
        backward[target].append(source)
    out = []
    for start in starts:
        back, fwd = _reach(backward, start), _reach(forward, start)
        out.append((start, len(back), len(fwd), len(back | fwd)))
    return out


# --- writing ------------------------------------------------------------------------------------


class _Buffer:
    """Rows for COPY, sent in chunks of a few MB."""

    def __init__(self, copy: Any, limit: int = 4 << 20) -> None:
        self.copy = copy
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.rows = 0

    def add(self, line: str) -> None:
        self.parts.append(line)
        self.size += len(line)
        self.rows += 1
        if self.size >= self.limit:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.copy.write("".join(self.parts))
            self.parts, self.size = [], 0


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


@dataclass
class _Directory:
    units: list[tuple[str, str, str]]  # id, path, name
    establishments: dict[str, list[int]]  # stage → establishment numbers
    establishment_ids: list[str]
    product_ids: list[str]


def _write_directory(cursor: Any, rng: random.Random) -> _Directory:
    root = uuid_text("establishment", 10_000_000)
    units = [(root, f"/{root}/", "Tỉnh Quảng Ninh")]
    for n, name in enumerate(_DISTRICTS):
        unit = uuid_text("establishment", 10_000_001 + n)
        units.append((unit, f"/{root}/{unit}/", name))
    with cursor.copy(
        "COPY directory_units (id, parent_id, path, code, name, status, synced_at) FROM STDIN"
    ) as copy:
        for n, (unit, path, name) in enumerate(units):
            parent = "\\N" if n == 0 else root
            copy.write(f"{unit}\t{parent}\t{path}\tU{n:02d}\t{name}\tactive\t2026-01-01 00:00+00\n")
    establishments: dict[str, list[int]] = {}
    ids: list[str] = []
    product_ids: list[str] = []
    with cursor.copy(
        "COPY directory_establishments (id, unit_id, unit_path, name, address, phone, "
        "business_registration_no, food_safety_status, ocop, status, account_status, synced_at) "
        "FROM STDIN"
    ) as copy:
        number = 0
        for stage in STAGES:
            establishments[stage] = []
            for _ in range(ESTABLISHMENTS[stage]):
                unit, path, district = units[1 + rng.randrange(len(_DISTRICTS))]
                eid = uuid_text("establishment", number)
                ids.append(eid)
                establishments[stage].append(number)
                copy.write(
                    f"{eid}\t{unit}\t{path}\tCơ sở {stage} số {number}\t"
                    f"Thôn {number % 17 + 1}, {district}, Quảng Ninh\t09{number:08d}\t"
                    f"57{number:08d}\tcertificate\tf\tactive\tactive\t2026-01-01 00:00+00\n"
                )
                number += 1
    with cursor.copy(
        "COPY products (id, establishment_id, name, name_folded, code, origin, preservation, "
        "standards, is_key_product, is_packaged_processed, status, version, created_at, "
        "updated_at) FROM STDIN"
    ) as copy:
        for number, eid in enumerate(ids):
            for k in range(PRODUCTS_PER_ESTABLISHMENT):
                pid = uuid_text("product", number * PRODUCTS_PER_ESTABLISHMENT + k)
                product_ids.append(pid)
                copy.write(
                    f"{pid}\t{eid}\tSản phẩm {k + 1} của cơ sở {number}\t"
                    f"san pham {k + 1} cua co so {number}\tSP{k + 1}\tQuảng Ninh\tfresh\t[]\t"
                    f"f\tf\tactive\t1\t2026-01-01 00:00+00\t2026-01-01 00:00+00\n"
                )
    return _Directory(units, establishments, ids, product_ids)


@dataclass
class _Counts:
    lots: int = 0
    links: int = 0
    sources: int = 0
    shipments: int = 0


def _generate(cursor: Any, rng: random.Random) -> tuple[_Counts, list[Start], Start]:
    directory = _write_directory(cursor, rng)
    networks = _plan(rng)
    counts = _Counts()
    lot_owner: list[int] = [0] * LOTS  # establishment number per lot
    candidates: list[Start] = []
    hub_best: Start | None = None
    links_left = LOTS * LINKS_PER_LOT
    lots_left = LOTS
    day0 = date(2025, 1, 1)
    with cursor.copy(
        "COPY lots (id, product_id, establishment_id, code, production_date, expiry_date, "
        "quantity, unit, origin, status, version, created_at, updated_at) FROM STDIN"
    ) as lot_copy:
        lots = _Buffer(lot_copy)
        for network in networks:
            day = day0 + timedelta(days=rng.randrange(540))
            for stage_number, (first, count, stage) in enumerate(network.stages):
                pool = directory.establishments[stage]
                owners = [
                    pool[rng.randrange(len(pool))]
                    for _ in range(max(1, count // LOTS_PER_ESTABLISHMENT[stage]))
                ]
                made = day + timedelta(days=2 * stage_number)
                origin = "produced" if stage_number == 0 else "processed"
                unit = _UNITS[stage_number % len(_UNITS)]
                for lot in range(first, first + count):
                    owner = owners[rng.randrange(len(owners))]
                    lot_owner[lot] = owner
                    product = directory.product_ids[owner * PRODUCTS_PER_ESTABLISHMENT + (lot & 1)]
                    lots.add(
                        f"{uuid_text('lot', lot)}\t{product}\t"
                        f"{directory.establishment_ids[owner]}\tL{lot:07d}\t{made}\t"
                        f"{made + timedelta(days=365)}\t{100 + lot % 900}.500\t{unit}\t{origin}\t"
                        f"active\t1\t{made} 08:00+07\t{made} 08:00+07\n"
                    )
        lots.flush()
        counts.lots = lots.rows
    with cursor.copy(
        "COPY lot_links (id, source_lot_id, target_lot_id, kind, quantity, unit, occurred_at, "
        "place, created_at) FROM STDIN"
    ) as link_copy:
        links = _Buffer(link_copy)
        for network in networks:
            size = sum(c for _, c, _ in network.stages)
            # Spread the remaining links over the remaining lots: exactly 3 per lot overall.
            wanted = round(links_left * size / lots_left)
            edges = _links(rng, network, wanted)
            if network.kind == "small" and rng.random() < CYCLE_SHARE:
                # Bad data: a shop's lot recorded as an input of a farm's (one link turned).
                last_first, last_count, _ = network.stages[-1]
                edges[-1] = (last_first + rng.randrange(last_count), network.first)
            links_left -= len(edges)
            lots_left -= size
            stage_of = {}
            for number, (first, count, _) in enumerate(network.stages):
                for lot in range(first, first + count):
                    stage_of[lot] = number
            for source, target in edges:
                kind = (
                    "shipment"
                    if lot_owner[source] != lot_owner[target]
                    else ("input", "merge", "split", "input", "input", "input")[stage_of[target]]
                )
                when = f"2025-{1 + network.first % 12:02d}-{1 + 2 * stage_of[target]:02d} 09:00+07"
                links.add(
                    f"{uuid_text('link', links.rows)}\t{uuid_text('lot', source)}\t"
                    f"{uuid_text('lot', target)}\t{kind}\t{5 + (source + target) % 50}.250\tkg\t"
                    f"{when}\tKho số {target % 9 + 1}\t{when}\n"
                )
            candidates.extend(_pick_starts(rng, network, edges, lot_owner, directory))
            if network.kind == "hub":
                found = _pick_hub_start(rng, network, edges, lot_owner, directory)
                if hub_best is None or abs(found.forward - TARGET_FORWARD) < abs(
                    hub_best.forward - TARGET_FORWARD
                ):
                    hub_best = found
        links.flush()
        counts.links = links.rows
    counts.sources, counts.shipments = _write_leaves(cursor, rng, networks, lot_owner, directory)
    rng.shuffle(candidates)
    assert hub_best is not None
    return counts, candidates[:STARTS], hub_best


def _pick_starts(
    rng: random.Random,
    network: Network,
    edges: list[tuple[int, int]],
    lot_owner: list[int],
    directory: _Directory,
) -> list[Start]:
    """Processors' lots of a district network whose trace both ways reaches ~TARGET_REACH
    lots: about a hundred farms' and collectors' lots behind, the rest ahead."""
    if network.kind != "district":
        return []
    first, count, _ = network.stages[2]
    picked: list[Start] = []
    sample = rng.sample(range(first, first + count), min(count, 150))
    for lot, back, fwd, reach in _closures(edges, sample):
        if back > 1 and fwd > 1 and abs(reach - TARGET_REACH) <= REACH_TOLERANCE:
            picked.append(
                Start(
                    uuid_text("lot", lot),
                    directory.establishment_ids[lot_owner[lot]],
                    reach,
                    back,
                    fwd,
                )
            )
        if len(picked) >= 5:
            break
    return picked


def _pick_hub_start(
    rng: random.Random,
    network: Network,
    edges: list[tuple[int, int]],
    lot_owner: list[int],
    directory: _Directory,
) -> Start:
    first, count, _ = network.stages[0]
    forward: dict[int, list[int]] = collections.defaultdict(list)
    for source, target in edges:
        forward[source].append(target)
    sizes = [
        (len(_reach(forward, lot)), lot) for lot in rng.sample(range(first, first + count), 150)
    ]
    fwd, lot = min(sizes, key=lambda pair: abs(pair[0] - TARGET_FORWARD))
    back = 1  # a farm's lot: its origins are outside the system
    return Start(uuid_text("lot", lot), directory.establishment_ids[lot_owner[lot]], fwd, back, fwd)


def _write_leaves(
    cursor: Any,
    rng: random.Random,
    networks: list[Network],
    lot_owner: list[int],
    directory: _Directory,
) -> tuple[int, int]:
    sources = shipments = 0
    with cursor.copy(
        "COPY lot_sources (id, lot_id, supplier_name, supplier_address, supplier_code, "
        "supplier_lot_code, product_name, quantity, unit, received_at, place, created_at) "
        "FROM STDIN"
    ) as copy:
        buffer = _Buffer(copy)
        for network in networks:
            first, count, _ = network.stages[0]
            for lot in range(first, first + count):
                if rng.random() < SUPPLIER_SHARE:
                    buffer.add(
                        f"{uuid_text('source', buffer.rows)}\t{uuid_text('lot', lot)}\t"
                        f"Đại lý vật tư {lot % 500}\tChợ {_DISTRICTS[lot % 13]}\t"
                        f"NCC{lot % 500:04d}\tVT-{lot}\tGiống, phân bón\t{1 + lot % 20}\tkg\t"
                        f"2024-12-20 08:00+07\tTại vườn\t2024-12-20 08:00+07\n"
                    )
        buffer.flush()
        sources = buffer.rows
    with cursor.copy(
        "COPY shipments (id, lot_id, establishment_id, recipient_name, recipient_address, "
        "quantity, unit, shipped_at, place, status, created_at, version) FROM STDIN"
    ) as copy:
        buffer = _Buffer(copy)
        for network in networks:
            first, count, _ = network.stages[-1]
            for lot in range(first, first + count):
                if rng.random() < CUSTOMER_SHARE:
                    buffer.add(
                        f"{uuid_text('shipment', buffer.rows)}\t{uuid_text('lot', lot)}\t"
                        f"{directory.establishment_ids[lot_owner[lot]]}\t"
                        f"Khách hàng {lot % 997}\tPhường {lot % 30 + 1}, Hạ Long\t"
                        f"{1 + lot % 10}\tkg\t2025-06-01 10:00+07\tTại cửa hàng\tsent\t"
                        f"2025-06-01 10:00+07\t1\n"
                    )
        buffer.flush()
        shipments = buffer.rows
    return sources, shipments


# --- the database -------------------------------------------------------------------------------

_BIG_TABLES = ("lots", "lot_links")


def _exists(name: str) -> bool:
    admin = common._admin_engine()
    try:
        with admin.connect() as conn:
            return bool(
                conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                ).scalar()
            )
    finally:
        admin.dispose()


def load_info(url: str) -> GraphInfo | None:
    """The graph already built in the database, if it is the current generator's."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT to_regclass('bench_graph')")).scalar() is None:
                return None
            row = conn.execute(text("SELECT value FROM bench_graph WHERE key = 'info'")).scalar()
            schema = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()
    if not row or row.get("version") != VERSION or row.get("lots") != LOTS:
        return None
    if schema != _schema_head():
        return None  # built by older migrations (indexes change what is measured): rebuild
    data = {k: v for k, v in row.items() if k != "version"}
    return GraphInfo.from_json(url, data)


def _schema_head() -> str | None:
    from alembic.script import ScriptDirectory

    from shared.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("products", "sqlite://")).get_current_head()


def _constraints_and_indexes(cursor: Any) -> tuple[list[str], list[str], list[str]]:
    """(drops, creates of keys/uniques, creates of foreign keys), for the big tables."""
    cursor.execute(
        """
        SELECT c.conname, c.conrelid::regclass::text, pg_get_constraintdef(c.oid), c.contype
        FROM pg_constraint c
        WHERE c.contype IN ('p', 'u', 'f')
          AND (c.conrelid = ANY(%(t)s::regclass[]) OR c.confrelid = ANY(%(t)s::regclass[]))
        """,
        {"t": list(_BIG_TABLES)},
    )
    keys: list[tuple[str, str, str]] = []
    foreign: list[tuple[str, str, str]] = []
    for name, table, definition, kind in cursor.fetchall():
        (foreign if kind == "f" else keys).append((name, table, definition))
    cursor.execute(
        """
        SELECT i.indexname, i.tablename, i.indexdef FROM pg_indexes i
        WHERE i.tablename = ANY(%(t)s) AND i.schemaname = 'public'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        {"t": list(_BIG_TABLES)},
    )
    indexes = cursor.fetchall()
    drops = [f'ALTER TABLE "{t}" DROP CONSTRAINT "{n}"' for n, t, _ in foreign]
    drops += [f'ALTER TABLE "{t}" DROP CONSTRAINT "{n}"' for n, t, _ in keys]
    drops += [f'DROP INDEX "{n}"' for n, _, _ in indexes]
    creates = [f'ALTER TABLE "{t}" ADD CONSTRAINT "{n}" {d}' for n, t, d in keys]
    creates += [definition for _, _, definition in indexes]
    return drops, creates, [f'ALTER TABLE "{t}" ADD CONSTRAINT "{n}" {d}' for n, t, d in foreign]


def build(force: bool = False) -> GraphInfo:
    """The graph database: reused when it holds the current generator's graph, else built."""
    url = common._pg_url(DATABASE)
    if not force and _exists(DATABASE):
        info = load_info(url)
        if info is not None:
            common.progress(f"reusing the graph in {DATABASE} (built {info.built_at})")
            return info
    from shared.config import Settings
    from shared.migrate import upgrade

    started = time.perf_counter()
    common._drop(DATABASE)
    admin = common._admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
    finally:
        admin.dispose()
    upgrade(Settings(products_database_url=url), ["products"])
    import psycopg

    rng = random.Random(SEED)
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as raw, raw.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '512MB'")
        drops, creates, foreign = _constraints_and_indexes(cursor)
        for statement in drops:
            cursor.execute(statement)
        common.progress(f"generating {LOTS:,} lots and {LOTS * LINKS_PER_LOT:,} links (COPY)")
        counts, starts, hub = _generate(cursor, rng)
        loaded = time.perf_counter()
        common.progress(f"loaded in {loaded - started:.0f} s; rebuilding keys and indexes")
        for statement in creates + foreign:
            cursor.execute(statement)
        info = GraphInfo(
            url=url,
            lots=counts.lots,
            links=counts.links,
            sources=counts.sources,
            shipments=counts.shipments,
            establishments=sum(ESTABLISHMENTS.values()),
            products=sum(ESTABLISHMENTS.values()) * PRODUCTS_PER_ESTABLISHMENT,
            starts=starts,
            hub_start=hub,
        )
        raw.commit()
    common.progress("vacuum analyze (visibility map for index-only scans, statistics)")
    with psycopg.connect(dsn, autocommit=True) as raw:
        raw.execute("VACUUM (ANALYZE)")
    info.built_seconds = round(time.perf_counter() - started, 1)
    info.built_at = common.utc_now()
    with psycopg.connect(dsn) as raw:
        raw.execute("CREATE TABLE bench_graph (key text PRIMARY KEY, value jsonb NOT NULL)")
        raw.execute(
            "INSERT INTO bench_graph VALUES ('info', %s::jsonb)",
            (json.dumps({"version": VERSION, **info.to_json()}),),
        )
    common.progress(f"graph built in {info.built_seconds:.0f} s")
    return info


def _iter_lines(info: GraphInfo) -> Iterator[str]:
    yield f"- database `{DATABASE}`: {info.lots:,} lots, {info.links:,} links, "
    yield f"{info.sources:,} outside suppliers, {info.shipments:,} outside shipments, "
    yield f"{info.establishments:,} establishments, {info.products:,} products"


def describe(info: GraphInfo) -> str:
    return "".join(_iter_lines(info))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    args = parser.parse_args(argv)
    info = build(force=args.force)
    out = io.StringIO()
    out.write(describe(info) + "\n")
    out.write(f"- built in {info.built_seconds} s at {info.built_at}\n")
    sizes = [s.reach for s in info.starts]
    out.write(f"- {len(sizes)} start lots reaching {min(sizes)}–{max(sizes)} lots both ways\n")
    if info.hub_start:
        out.write(f"- hub start lot reaching {info.hub_start.forward:,} lots forward\n")
    print(out.getvalue(), end="")


if __name__ == "__main__":
    main()
