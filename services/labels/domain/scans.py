"""Scans: every resolution recorded cheaply, and the counterfeit signals read from them.

On the page's path a scan costs one round trip to Redis: a script that bumps the serial's
counters and queues the scan, returning the counts. A periodic task (`labels.flush_scans`,
every 10 s) moves the queue into `scans` with one bulk INSERT per chunk and keeps the
`counterfeit_alerts` rows. Without Redis (the embedded default) the same rows are written at
once in a short transaction of their own, and the counters live in the shared store.

What is kept: the time, the code and what it resolved to, a coarse place (a 0.1° grid cell,
about 11 km, and only when the client sent a position), the kind of client (mobile, desktop,
app, bot, other). Never the address, the raw position or the user agent. (The address is
used, hashed with the secret key, only for a ten-minute "seen this client" mark, so that a
reload or a language switch does not count as another scan of the serial.)

Counterfeit signals, for item serials: scanned more than COUNTERFEIT_MAX_SCANS times (distinct
client visits; bots not counted), or in more than COUNTERFEIT_MAX_PLACES distinct cells →
`suspicious`, shown on the page and listed as an alert (`too_many_scans`, `too_many_places`).
A never-issued (`unknown`), forged or voided code is listed too; new alerts for codes that
belong to no establishment are capped per day (anyone can invent codes).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.labels.domain.cards import EPOCH_KEY, SessionLike, _session, observe_epoch
from services.labels.domain.directory import COPY
from services.labels.domain.resolve import Resolution
from services.labels.models import CounterfeitAlert, Scan
from shared.db import Database, utcnow
from shared.errors import TooManyRequests
from shared.kv import KeyValueStore, RedisStore

log = logging.getLogger(__name__)

QUEUE = "labels:scans:queue"
INFLIGHT = "labels:scans:inflight"
DROPPED = "labels:scans:dropped"
FLUSH_LOCK = "labels:scans:flush-lock"
MAX_QUEUE = 500_000  # ~150 MB of Redis; past it scans are counted as dropped, never block
COUNTER_TTL = 730 * 86400  # a package's life and then some
SEEN_SECONDS = 600  # one client's visits to one serial count once per 10 minutes
PLACES_KEPT = 32  # distinct cells remembered per serial (only the count beyond the threshold)
ALERT_PLACES_KEPT = 20
NEW_ANONYMOUS_ALERTS_PER_DAY = 1_000
FLUSH_CHUNK = 2_000
FLUSH_MAX = 200_000

SIGNAL_REASONS = ("too_many_scans", "too_many_places")
ALERT_OUTCOMES = {"forged": "forged", "void": "void", "unknown": "unknown"}


# --- what the client tells ----------------------------------------------------------------

_BOT = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|whatsapp|telegram|discord|"
    r"skypeuri|headless|lighthouse|curl/|wget/|python-|httpx|go-http-client|java/|libwww|"
    r"okhttp/[0-9.]+$|scrapy|phantomjs|monitor|uptime|validator",
    re.IGNORECASE,
)
_APP = re.compile(r"traceapp|truyxuat|dart:io|cfnetwork|okhttp", re.IGNORECASE)
_MOBILE = re.compile(r"mobi|android|iphone|ipad|ipod|windows phone|opera mini|zalo", re.IGNORECASE)
_DESKTOP = re.compile(r"windows nt|macintosh|x11|cros|linux", re.IGNORECASE)


def ua_class(user_agent: str | None) -> str:
    """mobile / desktop / app / bot / other, from the User-Agent (which is not kept)."""
    return _ua_class((user_agent or "")[:512])


@functools.lru_cache(maxsize=4096)
def _ua_class(text: str) -> str:
    if not text:
        return "other"
    if _BOT.search(text):
        return "bot"
    if _APP.search(text):
        return "app"
    if _MOBILE.search(text):
        return "mobile"
    if _DESKTOP.search(text):
        return "desktop"
    return "other"


def place_cell(lat: Any, lon: Any) -> str | None:
    """A ~11 km grid cell (0.1°, rounded down) of a position the client sent, or None."""
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return None
    if not (-90 <= lat_f <= 90 and -180 <= lon_f <= 180):
        return None
    return f"{math.floor(lat_f * 10) / 10:.1f},{math.floor(lon_f * 10) / 10:.1f}"


def client_mark(secret: str | None, address: str | None) -> str:
    """The client address, hashed with the secret key (for the short "seen" mark only)."""
    digest = hmac.new((secret or "").encode(), (address or "-").encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


# --- the decision -------------------------------------------------------------------------


def signals(scans: int, places: int, settings: Any) -> tuple[str, ...]:
    found = []
    if scans > settings.counterfeit_max_scans:
        found.append("too_many_scans")
    if places > settings.counterfeit_max_places:
        found.append("too_many_places")
    return tuple(found)


def final_outcome(base: str, found: Sequence[str]) -> str:
    """A counterfeit signal outranks a recall notice in the statistics (the page shows both);
    an unknown, forged or void code stays what it is."""
    if found and base in {"ok", "recalled"}:
        return "suspicious"
    return base


@dataclass(frozen=True)
class Event:
    at: float
    level: str
    code: str
    serial: int | None
    batch_id: str | None
    product_id: str | None
    lot_id: str | None
    establishment_id: str | None
    place: str | None
    ua: str
    outcome: str  # before the counters: ok / recalled / unknown / forged / void
    scans: int = 0
    places: int = 0

    def dump(self) -> str:
        return json.dumps(
            [
                self.at,
                self.level,
                self.code,
                self.serial,
                self.batch_id,
                self.product_id,
                self.lot_id,
                self.establishment_id,
                self.place,
                self.ua,
                self.outcome,
            ],
            separators=(",", ":"),
        )

    @classmethod
    def load(cls, text: str) -> Event:
        payload, scans, places = text.rsplit("|", 2)
        values = json.loads(payload)
        return replace(cls(*values), scans=int(scans), places=int(places))


def _id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def event_for(resolution: Resolution, base_outcome: str, place: str | None, ua: str) -> Event:
    level = resolution.level or ("invalid" if resolution.detail == "not_a_code" else "code")
    return Event(
        at=round(time.time(), 3),
        level=level,
        code=resolution.code[:64],
        serial=resolution.serial,
        batch_id=_id(resolution.batch_id),
        product_id=_id(resolution.product_id),
        lot_id=_id(resolution.lot_id),
        establishment_id=_id(resolution.establishment_id),
        place=place,
        ua=ua,
        outcome=base_outcome,
    )


def counts_for(resolution: Resolution, base_outcome: str) -> bool:
    """Only genuine item serials have counters: a product or lot code is on every package."""
    return (
        resolution.level == "item"
        and resolution.serial is not None
        and base_outcome in {"ok", "recalled"}
    )


# --- recording ----------------------------------------------------------------------------

# KEYS: queue, count, places, seen, dropped, views, epoch ("" when not used)
# ARGV: event, place, flags (counted, counting: "0"/"1" each), view limit, view window,
#       queue cap
_SCRIPT = (
    """
local epoch = redis.call('GET', KEYS[7]) or '0'
if KEYS[6] ~= '' then
  local views = redis.call('INCR', KEYS[6])
  if views == 1 then redis.call('EXPIRE', KEYS[6], ARGV[5]) end
  if views > tonumber(ARGV[4]) then return {-1, 0, epoch} end
end
local n, p = 0, 0
local counting = string.sub(ARGV[3], 2, 2) == '1'
if string.sub(ARGV[3], 1, 1) == '1' then
  local counted = counting
  if counted and KEYS[4] ~= '' then
    counted = redis.call('SET', KEYS[4], '1', 'NX', 'EX', @SEEN@) ~= false
  end
  if counted then
    n = redis.call('INCR', KEYS[2])
    redis.call('EXPIRE', KEYS[2], @TTL@)
  else
    n = tonumber(redis.call('GET', KEYS[2]) or '0')
  end
  if counting and ARGV[2] ~= '' then
    if redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0
       and redis.call('SCARD', KEYS[3]) < @PLACES@ then
      redis.call('SADD', KEYS[3], ARGV[2])
    end
    redis.call('EXPIRE', KEYS[3], @TTL@)
  end
  p = redis.call('SCARD', KEYS[3])
end
if redis.call('LLEN', KEYS[1]) < tonumber(ARGV[6]) then
  redis.call('RPUSH', KEYS[1], ARGV[1] .. '|' .. n .. '|' .. p)
else
  redis.call('INCR', KEYS[5])
end
return {n, p, epoch}
""".replace("@SEEN@", str(SEEN_SECONDS))
    .replace("@TTL@", str(COUNTER_TTL))
    .replace("@PLACES@", str(PLACES_KEPT))
)


def _count_key(serial: int) -> str:
    return f"labels:scan-count:{serial}"


def _places_key(serial: int) -> str:
    return f"labels:scan-places:{serial}"


def _seen_key(serial: int, mark: str) -> str:
    return f"labels:scan-seen:{serial}:{mark}"


@dataclass(frozen=True)
class Budget:
    """A per-client page budget checked in the same round trip as the scan."""

    key: str
    limit: int
    window: int


@dataclass(frozen=True)
class _Counted:
    scans: int
    places: int
    limited: bool = False


class Recorder:
    """Records scans for one app: Redis when the shared store is Redis, else the database.

    With Redis a page view is one script call: the client's page budget, the card epoch
    (domain/cards), the serial's counters and the queued scan."""

    def __init__(self, store: KeyValueStore, database: Database) -> None:
        self.store = store
        self.database = database
        self.redis = store if isinstance(store, RedisStore) else None
        self._script = self.redis.client.register_script(_SCRIPT) if self.redis else None

    def record(
        self,
        resolution: Resolution,
        *,
        base_outcome: str,
        place: str | None,
        ua: str,
        mark: str | None,
        settings: Any,
        session: SessionLike | None = None,
        budget: Budget | None = None,
    ) -> Resolution:
        """Record the scan; returns the resolution with its counters and final outcome.
        Raises TooManyRequests (nothing recorded) when the client's budget is spent. Without
        Redis the rows go into `session` (the request's: on SQLite a second writer in the
        same request would wait for it), else into a transaction of their own."""
        event = event_for(resolution, base_outcome, place, ua)
        counted = counts_for(resolution, base_outcome)
        counting = counted and ua != "bot"
        try:
            if self.redis is not None:
                got = self._record_redis(event, resolution.serial, counted, counting, mark, budget)
            else:
                got = self._record_db(
                    event, resolution.serial, counted, counting, mark, settings, session, budget
                )
        except Exception:
            # A scan is worth less than the page: a store hiccup must not fail the shopper
            # (nor does it stop the page: the budget is not checked either).
            log.warning("scan not recorded", exc_info=True)
            return resolution.with_(outcome=base_outcome)
        if got.limited and budget is not None:
            raise TooManyRequests(headers={"Retry-After": str(budget.window)})
        found = signals(got.scans, got.places, settings) if counted else ()
        return resolution.with_(
            outcome=final_outcome(base_outcome, found),
            signals=found,
            scans=got.scans,
            places=got.places,
        )

    def _record_redis(
        self,
        event: Event,
        serial: int | None,
        counted: bool,
        counting: bool,
        mark: str | None,
        budget: Budget | None,
    ) -> _Counted:
        if self.redis is None or self._script is None:  # pragma: no cover - see record()
            raise RuntimeError("no Redis")
        prefix = self.redis.prefix
        keys = [prefix + QUEUE, "", "", "", prefix + DROPPED, "", prefix + EPOCH_KEY]
        if counted and serial is not None:
            keys[1] = prefix + _count_key(serial)
            keys[2] = prefix + _places_key(serial)
            keys[3] = prefix + _seen_key(serial, mark) if mark else ""
        if budget is not None:
            keys[5] = prefix + budget.key
        result = self._script(
            keys=keys,
            args=[
                event.dump(),
                event.place or "",
                ("1" if counted else "0") + ("1" if counting else "0"),
                budget.limit if budget else 0,
                budget.window if budget else 0,
                MAX_QUEUE,
            ],
        )
        observe_epoch(str(result[2]))
        if int(result[0]) < 0:
            return _Counted(0, 0, limited=True)
        return _Counted(int(result[0]), int(result[1]))

    def _record_db(
        self,
        event: Event,
        serial: int | None,
        counted: bool,
        counting: bool,
        mark: str | None,
        settings: Any,
        session: SessionLike | None = None,
        budget: Budget | None = None,
    ) -> _Counted:
        store = self.store
        if budget is not None:
            views = store.incr(budget.key, budget.window)
            observe_epoch(store.get_many([EPOCH_KEY])[0])
            if views > budget.limit:
                return _Counted(0, 0, limited=True)
        scans = places = 0
        known: list[str] = []
        if counted and serial is not None:
            first = True
            if counting and mark:
                first = store.incr(_seen_key(serial, mark), SEEN_SECONDS) == 1
            if counting and first:
                scans = store.incr(_count_key(serial), COUNTER_TTL)
            else:
                scans = int(store.get_many([_count_key(serial)])[0] or 0)
            known = json.loads(store.get_many([_places_key(serial)])[0] or "[]")
            if counting and event.place and event.place not in known and len(known) < PLACES_KEPT:
                known.append(event.place)
                store.set(_places_key(serial), json.dumps(known), COUNTER_TTL)
            places = len(known)
        stamped = [replace(event, scans=scans, places=places)]
        if session is not None:
            with _session(session).begin_nested():
                apply(_session(session), stamped, settings, lambda _serial: list(known))
        else:
            with self.database.transaction() as own:
                apply(own, stamped, settings, lambda _serial: list(known))
        return _Counted(scans, places)


# --- from the queue to the tables ---------------------------------------------------------


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _when(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


@dataclass
class _Alert:
    code: str
    reason: str
    serial: int | None
    batch_id: str | None
    product_id: str | None
    establishment_id: str | None
    scans: int
    places: list[str]
    first_seen: float
    last_seen: float
    counted_events: bool  # unknown/forged/void: scans adds the events; else the counter


def _alerts_of(events: Iterable[Event], settings: Any) -> dict[tuple[str, str], _Alert]:
    found: dict[tuple[str, str], _Alert] = {}
    for event in events:
        reasons: list[tuple[str, bool]] = []
        if event.outcome in ALERT_OUTCOMES:
            if event.level == "invalid":
                continue  # not even shaped like a code: noise, not an alert
            reasons.append((ALERT_OUTCOMES[event.outcome], True))
        elif event.serial is not None:
            reasons.extend((r, False) for r in signals(event.scans, event.places, settings))
        for reason, per_event in reasons:
            key = (event.code, reason)
            alert = found.get(key)
            if alert is None:
                alert = found[key] = _Alert(
                    code=event.code,
                    reason=reason,
                    serial=event.serial,
                    batch_id=event.batch_id,
                    product_id=event.product_id,
                    establishment_id=event.establishment_id,
                    scans=0,
                    places=[],
                    first_seen=event.at,
                    last_seen=event.at,
                    counted_events=per_event,
                )
            if alert.establishment_id is None and event.establishment_id is not None:
                alert.establishment_id = event.establishment_id
                alert.product_id = event.product_id
            alert.scans = alert.scans + 1 if per_event else max(alert.scans, event.scans)
            alert.last_seen = max(alert.last_seen, event.at)
            alert.first_seen = min(alert.first_seen, event.at)
            if event.place and event.place not in alert.places:
                alert.places.append(event.place)
    return found


def _unit_path(session: Session, establishment_id: str | None, settings: Any) -> str | None:
    if not establishment_id:
        return None
    try:
        found = COPY.get_establishment(session, uuid.UUID(establishment_id), settings=settings)
    except Exception:
        log.warning("establishment %s not in the directory copy", establishment_id)
        return None
    return found.unit_path if found is not None else None


def _keep_alerts(
    session: Session,
    found: dict[tuple[str, str], _Alert],
    settings: Any,
    places_of: Callable[[int], list[str]] | None,
) -> None:
    if not found:
        return
    for alert in found.values():
        if alert.reason == "too_many_places" and alert.serial is not None and places_of:
            for place in places_of(alert.serial):
                if place not in alert.places:
                    alert.places.append(place)
    codes = sorted({code for code, _ in found})
    existing = {
        (a.code, a.reason): a
        for a in session.scalars(select(CounterfeitAlert).where(CounterfeitAlert.code.in_(codes)))
    }
    day_ago = utcnow() - timedelta(days=1)
    anonymous_budget = NEW_ANONYMOUS_ALERTS_PER_DAY - (
        session.scalar(
            select(func.count())
            .select_from(CounterfeitAlert)
            .where(
                CounterfeitAlert.establishment_id.is_(None),
                CounterfeitAlert.created_at >= day_ago,
            )
        )
        or 0
    )
    for key, alert in found.items():
        row = existing.get(key)
        if row is None:
            if alert.establishment_id is None:
                if anonymous_budget <= 0:
                    continue
                anonymous_budget -= 1
            row = CounterfeitAlert(
                id=uuid.uuid4(),
                code=alert.code,
                reason=alert.reason,
                serial=alert.serial,
                batch_id=_uuid(alert.batch_id),
                product_id=_uuid(alert.product_id),
                establishment_id=_uuid(alert.establishment_id),
                unit_path=_unit_path(session, alert.establishment_id, settings),
                scans=alert.scans,
                places=alert.places[:ALERT_PLACES_KEPT],
                first_seen=_when(alert.first_seen),
                last_seen=_when(alert.last_seen),
                status="open",
            )
            try:
                with session.begin_nested():
                    session.add(row)
            except IntegrityError:
                # Recorded meanwhile by another writer: add to that one.
                row = session.scalars(
                    select(CounterfeitAlert).where(
                        CounterfeitAlert.code == alert.code,
                        CounterfeitAlert.reason == alert.reason,
                    )
                ).one()
            else:
                continue
        if row.establishment_id is None and alert.establishment_id is not None:
            row.establishment_id = _uuid(alert.establishment_id)
            row.product_id = _uuid(alert.product_id)
            row.unit_path = _unit_path(session, alert.establishment_id, settings)
        row.scans = row.scans + alert.scans if alert.counted_events else max(row.scans, alert.scans)
        merged = list(row.places or [])
        for place in alert.places:
            if place not in merged and len(merged) < ALERT_PLACES_KEPT:
                merged.append(place)
        row.places = merged
        row.last_seen = max(row.last_seen, _when(alert.last_seen))


def apply(
    session: Session,
    events: Sequence[Event],
    settings: Any,
    places_of: Callable[[int], list[str]] | None = None,
) -> int:
    """Write these scans (one bulk INSERT) and keep the alerts they raise (`places_of`: the
    cells a serial was scanned in, for a `too_many_places` alert)."""
    if not events:
        return 0
    session.execute(
        insert(Scan),
        [
            {
                "at": _when(e.at),
                "level": e.level[:8],
                "code": e.code[:64],
                "serial": e.serial,
                "batch_id": _uuid(e.batch_id),
                "product_id": _uuid(e.product_id),
                "lot_id": _uuid(e.lot_id),
                "establishment_id": _uuid(e.establishment_id),
                "place": e.place,
                "ua_class": e.ua,
                "outcome": final_outcome(e.outcome, signals(e.scans, e.places, settings))
                if e.serial is not None
                else e.outcome,
            }
            for e in events
        ],
    )
    _keep_alerts(session, _alerts_of(events, settings), settings, places_of)
    session.flush()
    return len(events)


def flush(database: Database, store: KeyValueStore, settings: Any) -> dict[str, int]:
    """Move queued scans into the database, a chunk per transaction. The queue is renamed
    first (new scans start a new queue), and a chunk leaves the in-flight list only after its
    commit: a crash repeats at most that one chunk."""
    if not isinstance(store, RedisStore):
        return {"flushed": 0}
    client, prefix = store.client, store.prefix
    token = secrets.token_hex(8)
    if not client.set(prefix + FLUSH_LOCK, token, nx=True, ex=300):
        return {"flushed": 0, "busy": 1}
    total = 0

    def places_of(serial: int) -> list[str]:
        return sorted(str(p) for p in client.smembers(prefix + _places_key(serial)))

    try:
        if not client.exists(prefix + INFLIGHT):
            if not client.exists(prefix + QUEUE):
                return {"flushed": 0}
            client.rename(prefix + QUEUE, prefix + INFLIGHT)
        while total < FLUSH_MAX:
            raw = client.lrange(prefix + INFLIGHT, 0, FLUSH_CHUNK - 1)
            if not raw:
                break
            events = []
            for item in raw:
                try:
                    events.append(Event.load(item))
                except (ValueError, TypeError):
                    log.warning("unreadable queued scan dropped: %r", item[:200])
            with database.transaction() as session:
                apply(session, events, settings, places_of)
            client.ltrim(prefix + INFLIGHT, len(raw), -1)
            total += len(raw)
    finally:
        if client.get(prefix + FLUSH_LOCK) == token:
            client.delete(prefix + FLUSH_LOCK)
    return {"flushed": total}


def pending(store: KeyValueStore) -> int:
    if not isinstance(store, RedisStore):
        return 0
    client, prefix = store.client, store.prefix
    return int(client.llen(prefix + QUEUE)) + int(client.llen(prefix + INFLIGHT))


# --- statistics ---------------------------------------------------------------------------

LOCAL_OFFSET_HOURS = 7  # Asia/Ho_Chi_Minh has no daylight saving time
TOP = 10


def local_day(session: Session, column: Any) -> Any:
    """The Asia/Ho_Chi_Minh calendar day of a UTC timestamp, in SQL."""
    if session.get_bind().dialect.name == "sqlite":
        return func.date(column, f"+{LOCAL_OFFSET_HOURS} hours")
    return func.date(func.timezone("Asia/Ho_Chi_Minh", column))


def product_owner(session: Session, product_id: uuid.UUID) -> uuid.UUID | None:
    """The establishment of a product the labels service knows (codes, batches, scans)."""
    from services.labels.models import LabelBatch, QrCode

    for model in (QrCode, LabelBatch, Scan):
        found = session.scalar(
            select(model.establishment_id)
            .where(model.product_id == product_id, model.establishment_id.is_not(None))
            .limit(1)
        )
        if found is not None:
            return uuid.UUID(str(found))
    return None


def statistics(
    session: Session, *, column: Any, value: uuid.UUID, start: datetime, end: datetime
) -> dict[str, Any]:
    """Scans of one establishment or product between `start` and `end` (UTC, end excluded):
    totals by outcome, client kind, level and local day, the busiest places and products."""
    where = (column == value, Scan.at >= start, Scan.at < end)

    def grouped(key: Any, limit: int | None = None) -> list[tuple[Any, int]]:
        stmt = (
            select(key, func.count()).where(*where).group_by(key).order_by(func.count().desc(), key)
        )
        if limit:
            stmt = stmt.where(key.is_not(None)).limit(limit)
        return [(k, int(n)) for k, n in session.execute(stmt).all()]

    day = local_day(session, Scan.at)
    by_day = session.execute(
        select(
            day,
            func.count(),
            func.sum(case((Scan.outcome != "ok", 1), else_=0)),
        )
        .where(*where)
        .group_by(day)
        .order_by(day)
    ).all()
    by_outcome = dict(grouped(Scan.outcome))
    open_alerts = session.scalar(
        select(func.count())
        .select_from(CounterfeitAlert)
        .where(
            (
                CounterfeitAlert.establishment_id
                if column is Scan.establishment_id
                else CounterfeitAlert.product_id
            )
            == value,
            CounterfeitAlert.status == "open",
        )
    )
    return {
        "total": sum(by_outcome.values()),
        "by_outcome": by_outcome,
        "by_ua_class": dict(grouped(Scan.ua_class)),
        "by_level": dict(grouped(Scan.level)),
        "by_day": [
            {"day": _as_date(d), "scans": int(n), "suspicious": int(s or 0)} for d, n, s in by_day
        ],
        "top_places": [{"key": k, "scans": n} for k, n in grouped(Scan.place, TOP)],
        "top_products": [{"key": str(k), "scans": n} for k, n in grouped(Scan.product_id, TOP)]
        if column is Scan.establishment_id
        else [],
        "open_alerts": int(open_alerts or 0),
    }


def _as_date(value: Any) -> Any:
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value


def summary(session: Session, *, column: Any, scope: Any, start: datetime, end: datetime) -> Any:
    """Per establishment (or product) in scope: scans, those not ok, the last one."""
    return (
        select(
            column.label("id"),
            func.count().label("total"),
            func.sum(case((Scan.outcome != "ok", 1), else_=0)).label("suspicious"),
            func.max(Scan.at).label("last_scan"),
        )
        .where(column.is_not(None), Scan.at >= start, Scan.at < end, scope)
        .group_by(column)
        .order_by(func.count().desc(), column)
    )
