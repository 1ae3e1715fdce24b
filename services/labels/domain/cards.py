"""The public cards the trace page shows, kept close: the products service is never called on
the hot path of a scan.

Three layers, nearest first:
1. an in-process LRU with a short time to live (`MEMORY_SECONDS`), emptied at once in every
   process when a card changes (the *card epoch* below);
2. `PublicCard` rows in the labels database, fresh for `PUBLIC_CARD_TTL_SECONDS`;
3. the products service's public card (`/api/v1/public/lots/{id}`, `/public/products/{id}`,
   `/public/products/{id}/lots?code=`), fetched when there is no row or the row is stale.

A stale row is re-fetched by one request at a time (a short claim in the shared store); the
others keep serving it. When the products service does not answer, the stale copy is served
(marked stale); with no copy at all the caller gets `CardUnavailable` (a 503 page, never 500).
A card the products service no longer has (404) is dropped: `CardNotFound`.

Card epoch: `labels.refresh_cards` (rung by the products service after a recall or a status
change) re-fetches the cards it is told about and bumps a counter in the shared store. Every
web process reads that counter with its rate-limit check (same round trip) and empties its
in-process caches when it moved, so a recall shows on the next scan everywhere.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.labels.models import PublicCard
from shared.db import Database, utcnow
from shared.errors import NotFound, ServiceUnavailable
from shared.http import ServiceCallFailed, ServiceClient
from shared.kv import KeyValueStore

log = logging.getLogger(__name__)

MEMORY_SECONDS = 30.0  # in-process copies; a change rings the epoch and empties them sooner
MEMORY_ITEMS = 20_000
REFRESH_CLAIM_SECONDS = 30  # one re-fetch of a stale card per this many seconds, all processes
FAILURE_PAUSE_SECONDS = 15.0  # after the products service failed, serve stale copies this long
EPOCH_KEY = "labels:cards-epoch"
EPOCH_TTL = 400 * 86400

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A small thread-safe LRU whose entries expire; cleared whole on a card epoch change."""

    def __init__(self, maxsize: int = MEMORY_ITEMS, ttl: float = MEMORY_SECONDS) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()
        _CACHES.append(self)

    def get(self, key: K) -> V | None:
        now = time.monotonic()
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            expires, value = found
            if expires <= now:
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        expires = time.monotonic() + (self.ttl if ttl is None else ttl)
        with self._lock:
            self._items[key] = (expires, value)
            self._items.move_to_end(key)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


_CACHES: list[Any] = []
_epoch_lock = threading.Lock()
_epoch_seen: str | None = None


def observe_epoch(value: str | None) -> None:
    """The shared card epoch as read with this request: a change empties every cache here."""
    global _epoch_seen
    value = value or "0"
    if value == _epoch_seen:
        return
    with _epoch_lock:
        if value != _epoch_seen:
            if _epoch_seen is not None:
                clear_memory()
            _epoch_seen = value


def clear_memory() -> None:
    for cache in _CACHES:
        cache.clear()


def bump_epoch(store: KeyValueStore) -> None:
    """Tell every web process that cards (or codes, or batches) changed."""
    try:
        store.incr(EPOCH_KEY, EPOCH_TTL)
    except Exception:
        log.warning("card epoch not bumped", exc_info=True)
    clear_memory()


# --- the cards --------------------------------------------------------------------------------


class CardNotFound(NotFound):
    code = "card_not_found"
    vi = "Không còn thông tin công khai của sản phẩm hoặc lô này."
    en = "The public information of this product or lot is no longer available."


class CardUnavailable(ServiceUnavailable):
    code = "card_unavailable"
    vi = "Tạm thời chưa lấy được thông tin sản phẩm; vui lòng thử lại sau ít phút."
    en = "The product information cannot be loaded right now; please try again in a few minutes."


@dataclass(frozen=True)
class Card:
    key: str
    data: dict[str, Any]
    fetched_at: datetime
    stale: bool = False


def lot_key(lot_id: uuid.UUID | str) -> str:
    return f"lot:{lot_id}"


def product_key(product_id: uuid.UUID | str) -> str:
    return f"product:{product_id}"


def by_code_key(product_id: uuid.UUID | str, code: str) -> str:
    """A pointer row: (product, lot code) → the lot's id (a lot keeps its code)."""
    digest = hashlib.sha256(f"{product_id}\n{code}".encode()).hexdigest()[:40]
    return f"lc:{digest}"


_cards: TTLCache[str, Card] = TTLCache()
_pointers: TTLCache[str, str] = TTLCache()
_failed_until = 0.0


def _path(key: str, code: str | None = None) -> str:
    kind, _, ident = key.partition(":")
    if kind == "lot":
        return f"/api/v1/public/lots/{ident}"
    if code is not None:
        return f"/api/v1/public/products/{ident}/lots"
    return f"/api/v1/public/products/{ident}"


def _client(settings: Any, *, patient: bool) -> ServiceClient:
    """A patient client when there is nothing to show otherwise; a quick one (no retries, a
    short timeout) when a stale copy can be served instead."""
    if not settings.service_secret:
        raise CardUnavailable()
    return ServiceClient(
        settings.service_url("products"),
        service_secret=settings.service_secret,
        calling_service="labels",
        timeout=min(float(settings.http_timeout_seconds), 5.0 if patient else 2.0),
        retries=1 if patient else 0,
        backoff=0.1,
        transport=settings.extra.get("http_transport"),
    )


def fetch(settings: Any, path: str, params: dict[str, str] | None = None, *, patient: bool) -> Any:
    """The products service's answer: the card, None for 404; raises ServiceCallFailed."""
    global _failed_until
    if not patient and time.monotonic() < _failed_until:
        raise ServiceCallFailed(extra={"dependency": "products"})
    client = _client(settings, patient=patient)
    try:
        response = client.get(path, params=params)
    except ServiceCallFailed:
        _failed_until = time.monotonic() + FAILURE_PAUSE_SECONDS
        raise
    finally:
        client.close()
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        _failed_until = time.monotonic() + FAILURE_PAUSE_SECONDS
        log.warning("products public card %s answered %d", path, response.status_code)
        raise ServiceCallFailed(extra={"dependency": "products"})
    return response.json()


def _upsert(session: Session, key: str, card: dict[str, Any], at: datetime) -> None:
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert  # type: ignore[assignment]
    stmt = insert(PublicCard).values(key=key, card=card, fetched_at=at)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[PublicCard.key],
            set_={"card": stmt.excluded.card, "fetched_at": stmt.excluded.fetched_at},
        )
    )


def _claim_refresh(store: KeyValueStore | None, key: str) -> bool:
    if store is None:
        return True
    try:
        return store.incr(f"labels:card-refresh:{key}", REFRESH_CLAIM_SECONDS) == 1
    except Exception:
        return False


def _stored(session: Session, key: str) -> tuple[dict[str, Any], datetime] | None:
    row = session.execute(
        select(PublicCard.card, PublicCard.fetched_at).where(PublicCard.key == key)
    ).first()
    return (row.card, row.fetched_at) if row is not None else None


def _save(session: Session, key: str, card: dict[str, Any] | None, at: datetime) -> None:
    """Keep (or, for None, drop) a card. In a request this is the request's own session (on
    SQLite a second writer in the same request would wait for the first): the page marks
    its transaction to commit even when it answers an error."""
    if card is None:
        session.execute(delete(PublicCard).where(PublicCard.key == key))
    else:
        _upsert(session, key, card, at)


SessionLike = Session | Callable[[], Session]


def _session(session: SessionLike) -> Session:
    return session if isinstance(session, Session) else session()


def get(
    session: SessionLike,
    settings: Any,
    key: str,
    *,
    store: KeyValueStore | None = None,
) -> Card:
    """The card under `key` ("lot:<id>" or "product:<id>"), from the nearest fresh layer."""
    found = _cards.get(key)
    if found is not None:
        return found
    ttl = timedelta(seconds=settings.public_card_ttl_seconds)
    now = utcnow()
    db = _session(session)
    stored = _stored(db, key)
    if stored is not None and now - stored[1] < ttl:
        card = Card(key, stored[0], stored[1])
        _cards.put(key, card, min(MEMORY_SECONDS, ttl.total_seconds()))
        return card
    if stored is not None and not _claim_refresh(store, key):
        card = Card(key, stored[0], stored[1], stale=True)
        _cards.put(key, card, 5.0)
        return card
    try:
        fetched = fetch(settings, _path(key), patient=stored is None)
    except ServiceCallFailed:
        if stored is None:
            raise CardUnavailable() from None
        card = Card(key, stored[0], stored[1], stale=True)
        _cards.put(key, card, 5.0)
        return card
    if fetched is None:
        _save(db, key, None, now)
        raise CardNotFound()
    _save(db, key, fetched, now)
    card = Card(key, fetched, now)
    _cards.put(key, card, min(MEMORY_SECONDS, ttl.total_seconds()))
    return card


def get_by_code(
    session: SessionLike,
    settings: Any,
    product_id: uuid.UUID,
    code: str,
    *,
    store: KeyValueStore | None = None,
) -> Card:
    """The card of the product's lot with this code (GS1 `/01/{gtin}/10/{lot}` without a
    lot-level code row): the lot's id is remembered, then it is an ordinary lot card."""
    pointer = by_code_key(product_id, code)
    lot_id = _pointers.get(pointer)
    if lot_id is None:
        stored = _stored(_session(session), pointer)
        if stored is not None:
            lot_id = str(stored[0].get("lot_id"))
    if lot_id is None:
        try:
            fetched = fetch(
                settings, _path(product_key(product_id), code), {"code": code}, patient=True
            )
        except ServiceCallFailed:
            raise CardUnavailable() from None
        if fetched is None or not fetched.get("lot"):
            raise CardNotFound()
        lot_id = str(fetched["lot"]["id"])
        now = utcnow()
        db = _session(session)
        _save(db, pointer, {"lot_id": lot_id}, now)
        _save(db, lot_key(lot_id), fetched, now)
        card = Card(lot_key(lot_id), fetched, now)
        _cards.put(card.key, card)
        _pointers.put(pointer, lot_id)
        return card
    _pointers.put(pointer, lot_id)
    return get(session, settings, lot_key(lot_id), store=store)


# --- refresh (the task) -----------------------------------------------------------------------


def keys_for(
    session: Session,
    *,
    lot_ids: Iterable[Any] = (),
    product_ids: Iterable[Any] = (),
    establishment_ids: Iterable[Any] = (),
) -> set[str]:
    """The stored cards a change touches: the lots' and products' own, every lot card of the
    products, and every card of the establishments."""
    keys = {lot_key(i) for i in lot_ids} | {product_key(i) for i in product_ids}
    products = {str(i) for i in product_ids}
    establishments = {str(i) for i in establishment_ids}
    if products or establishments:
        for key, card in session.execute(select(PublicCard.key, PublicCard.card)):
            product = (card or {}).get("product") or {}
            owner = (product.get("establishment") or {}).get("id")
            if str(product.get("id")) in products or (owner and str(owner) in establishments):
                keys.add(key)
    return keys


def refresh(
    database: Database,
    settings: Any,
    store: KeyValueStore | None,
    keys: Iterable[str],
) -> dict[str, int]:
    """Re-fetch these cards now (a lost fetch marks the row stale, so a scan re-fetches it),
    then ring the epoch so every web process drops its copies."""
    counts = {"refreshed": 0, "dropped": 0, "failed": 0}
    for key in sorted(set(keys)):
        if not key.startswith(("lot:", "product:")):
            continue
        try:
            fetched = fetch(settings, _path(key), patient=True)
        except ServiceCallFailed:
            counts["failed"] += 1
            with database.transaction() as session:
                stored = session.get(PublicCard, key)
                if stored is not None:
                    stored.fetched_at = datetime(2000, 1, 1, tzinfo=UTC)
            continue
        with database.transaction() as session:
            _save(session, key, fetched, utcnow())
        counts["dropped" if fetched is None else "refreshed"] += 1
    if store is not None:
        bump_epoch(store)
    else:
        clear_memory()
    return counts


# --- what the public sees ---------------------------------------------------------------------
# One view for the page and its JSON twin, built field by field from the card (a whitelist:
# nothing the products service might add later leaks without being named here). Validity
# states are computed again with today's date, so a stale copy still tells an expired
# certificate.

STAGE_NAMES = {
    "production": ("Sản xuất", "Production"),
    "pre_processing": ("Sơ chế", "Pre-processing"),
    "processing": ("Chế biến", "Processing"),
    "packing": ("Đóng gói", "Packing"),
    "storage": ("Bảo quản", "Storage"),
    "shipping": ("Xuất hàng", "Shipping"),
    "receiving": ("Nhận hàng", "Receiving"),
}
CERTIFICATION_NAMES = {
    "food_safety": ("Giấy chứng nhận cơ sở đủ điều kiện ATTP", "Food-safety certificate"),
    "commitment": ("Cam kết sản xuất thực phẩm an toàn", "Food-safety commitment"),
    "vietgap": ("VietGAP", "VietGAP"),
    "globalgap": ("GlobalGAP", "GlobalGAP"),
    "organic": ("Hữu cơ", "Organic"),
    "gmp": ("GMP", "GMP"),
    "haccp": ("HACCP", "HACCP"),
    "iso22000": ("ISO 22000", "ISO 22000"),
    "ocop": ("OCOP", "OCOP"),
    "other": ("Khác", "Other"),
}
PARTY_NAMES = {
    "producer": ("Sản xuất", "Producer"),
    "pre_processor": ("Sơ chế", "Pre-processor"),
    "processor": ("Chế biến", "Processor"),
    "packer": ("Đóng gói", "Packer"),
    "distributor": ("Phân phối", "Distributor"),
}
STATE_NAMES = {
    "valid": ("Còn hiệu lực", "Valid"),
    "expiring": ("Sắp hết hạn", "Expiring soon"),
    "expired": ("Đã hết hạn", "Expired"),
}
EXPIRING_WITHIN = timedelta(days=182)


def _date(value: Any) -> Any:
    from datetime import date

    if isinstance(value, str) and value:
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            return None
    return value or None


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


def validity(valid_to: Any, today: Any) -> str | None:
    day = _date(valid_to)
    if day is None:
        return None
    if day < today:
        return "expired"
    if day <= today + EXPIRING_WITHIN:
        return "expiring"
    return "valid"


def _named(names: dict[str, tuple[str, str]], key: str | None) -> dict[str, str]:
    vi, en = names.get(key or "", (key or "", key or ""))
    return {"vi": vi, "en": en}


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def warning(code: str, vi: str, en: str, **detail: Any) -> dict[str, Any]:
    return {"code": code, "message": {"vi": vi, "en": en}, "detail": detail or None}


def public_view(card: dict[str, Any] | None, today: Any) -> dict[str, Any]:
    """Product, establishment, legal, lot, chain and recall of a card, public fields only."""
    if not card:
        return {
            "product": None,
            "establishment": None,
            "certifications": [],
            "lot": None,
            "chain": [],
            "recall": None,
        }
    product = card.get("product") or {}
    owner = product.get("establishment") or {}
    lot = card.get("lot") or None
    recall = card.get("recall") or None
    certificate_state = (
        validity(owner.get("certificate_expires_on"), today)
        if owner.get("food_safety_status") == "certificate"
        else None
    )
    view: dict[str, Any] = {
        "product": {
            "id": product.get("id"),
            "name": _text(product.get("name")) or "",
            "code": _text(product.get("code")),
            "gtin": _text(product.get("gtin")),
            "category": _text(product.get("category")),
            "description": _text(product.get("description")),
            "origin": _text(product.get("origin")),
            "capacity": _text(product.get("capacity")),
            "packaging": _text(product.get("packaging")),
            "shelf_life_days": product.get("shelf_life_days"),
            "price": _text(product.get("price")),
            "price_unit": _text(product.get("price_unit")),
            "standards": [str(s) for s in product.get("standards") or []],
            "ocop_stars": product.get("ocop_stars"),
            "ocop_state": validity(product.get("ocop_expires_on"), today)
            if product.get("ocop_stars")
            else None,
            "image_path": f"/products/api/v1/public/products/{product.get('id')}/image"
            if product.get("has_image")
            else None,
            "parties": [
                {
                    "role": p.get("role"),
                    "role_name": _named(PARTY_NAMES, p.get("role")),
                    "name": _text(p.get("name")),
                    "address": _text(p.get("address")),
                }
                for p in product.get("parties") or []
            ],
        },
        "establishment": {
            "name": _text(owner.get("name")) or "",
            "address": _text(owner.get("address")),
            "phone": _text(owner.get("phone")),
            "representative": _text(owner.get("representative")),
            "food_safety_status": _text(owner.get("food_safety_status")),
            "certificate_no": _text(owner.get("certificate_no")),
            "certificate_issuer": _text(owner.get("certificate_issuer")),
            "certificate_expires_on": _date(owner.get("certificate_expires_on")),
            "certificate_state": certificate_state,
            "ocop_stars": owner.get("ocop_stars"),
            "active": bool(owner.get("active", True)),
            "account_suspended": bool(owner.get("account_suspended", False)),
        }
        if owner
        else None,
        "certifications": [
            {
                "kind": c.get("kind"),
                "kind_name": _named(CERTIFICATION_NAMES, c.get("kind"))
                if c.get("kind") != "other" or not c.get("kind_other")
                else {"vi": str(c["kind_other"]), "en": str(c["kind_other"])},
                "number": _text(c.get("number")),
                "issuer": _text(c.get("issuer")),
                "valid_from": _date(c.get("valid_from")),
                "valid_to": _date(c.get("valid_to")),
                "state": validity(c.get("valid_to"), today) or "valid",
                "product_level": bool(c.get("product_level")),
            }
            for c in product.get("certifications") or []
        ],
        "lot": {
            "id": lot.get("id"),
            "code": _text(lot.get("code")) or "",
            "production_date": _date(lot.get("production_date")),
            "expiry_date": _date(lot.get("expiry_date")),
            "quantity": _text(lot.get("quantity")),
            "unit": _text(lot.get("unit")),
            "status": _text(lot.get("status")),
            "expired": bool(
                _date(lot.get("expiry_date")) and _date(lot.get("expiry_date")) < today
            ),
        }
        if lot
        else None,
        "chain": [
            {
                "kind": s.get("kind"),
                "kind_name": _named(STAGE_NAMES, s.get("kind")),
                "occurred_at": _datetime(s.get("occurred_at")),
                "place": _text(s.get("place")),
                "place_code": _text(s.get("place_code")),
                "actor": _text(s.get("actor")),
                "description": _text(s.get("description")),
                "lot_code": _text(s.get("lot_code")),
                "product_name": _text(s.get("product_name")),
                "product_code": _text(s.get("product_code")),
                "establishment_name": _text(s.get("establishment_name")),
                "establishment_address": _text(s.get("establishment_address")),
            }
            for s in card.get("chain") or []
        ],
        "recall": {
            "number": _text(recall.get("number")),
            "kind": _text(recall.get("kind")),
            "reason": _text(recall.get("reason")),
            "opened_at": _datetime(recall.get("opened_at")),
            "status": _text(recall.get("status")),
        }
        if recall
        else None,
    }
    return view


def is_recalled(card: dict[str, Any] | None) -> bool:
    if not card:
        return False
    lot = card.get("lot") or {}
    return bool(card.get("recall")) or lot.get("status") in {"recalled", "destroyed"}
