"""Today's figures for the pages: the sources read once for every officer, kept in the shared
store.

A province-wide reading of the accounts, products and labels services takes seconds at
province scale (bench/RESULTS.md); a dashboard must answer in well under 200 ms. So the pages
read a stored snapshot of the current period — the same `Snapshot` a compilation reads, one for
the whole province, from which any unit's figures are a roll-up of a few milliseconds — and:

- a stored snapshot younger than `REPORT_LIVE_SECONDS` is used as it is;
- an older one is still shown (with the time it was read), and one worker is asked to read
  the sources again (a counter in the store lets only the first page ask);
- with none stored (a new period, a cold store) the page reads the sources itself, once, and
  stores what it read; beat refreshes the current year every `REPORT_LIVE_SECONDS`, so this is
  rare.

Compiled reports never use this: a compilation reads its own sources (domain/compile.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from services.reports.domain import sources
from services.reports.domain.periods import Period
from shared.db import utcnow
from shared.kv import KeyValueStore

log = logging.getLogger(__name__)

KEEP_SECONDS = 2 * 86400
ASK_AGAIN_SECONDS = 120
TABLES = (
    "establishments",
    "grants",
    "products",
    "labels",
    "ocop_or_key_products",
    "ocop_or_key_with_qr",
)


def key(period: Period, as_of: date) -> str:
    return f"reports:live:{period.kind}:{period.start.isoformat()}:{as_of.isoformat()}"


def encode(snapshot: sources.Snapshot, read_at: datetime) -> str:
    data = asdict(snapshot)
    for name in ("as_of", "start", "end"):
        data[name] = data[name].isoformat()
    data["read_at"] = read_at.isoformat()
    return json.dumps(data, separators=(",", ":"))


def decode(text: str) -> tuple[sources.Snapshot, datetime]:
    data = json.loads(text)
    snapshot = sources.Snapshot(
        as_of=date.fromisoformat(data["as_of"]),
        start=date.fromisoformat(data["start"]),
        end=date.fromisoformat(data["end"]),
        **{name: data[name] for name in TABLES},
    )
    return snapshot, datetime.fromisoformat(data["read_at"])


def refresh(settings: Any, store: KeyValueStore, period: Period, as_of: date) -> datetime:
    """Read the sources for the period up to `as_of` and store the snapshot."""
    snapshot = sources.read(settings, as_of, period.start, as_of)
    read_at = utcnow()
    store.set(key(period, as_of), encode(snapshot, read_at), KEEP_SECONDS)
    return read_at


def snapshot_for(
    settings: Any,
    store: KeyValueStore,
    period: Period,
    as_of: date,
    *,
    ask_refresh: Callable[[], None],
) -> tuple[sources.Snapshot, datetime]:
    """The stored snapshot (asking a worker to renew it when older than the setting), or a
    fresh reading when none is stored. Raises what `sources.read` raises."""
    name = key(period, as_of)
    stored = store.get_many([name])[0]
    if stored:
        snapshot, read_at = decode(stored)
        age = (utcnow() - read_at).total_seconds()
        if age > settings.report_live_seconds and store.incr(f"{name}:ask", ASK_AGAIN_SECONDS) == 1:
            try:
                ask_refresh()
            except Exception:  # a broker outage must not take the dashboards down
                log.warning("could not ask for fresh dashboard figures", exc_info=True)
        return snapshot, read_at
    refresh(settings, store, period, as_of)
    stored = store.get_many([name])[0]
    if stored is None:  # a store that keeps nothing (cannot happen with Redis or SQLite)
        return sources.read(settings, as_of, period.start, as_of), utcnow()
    return decode(stored)
