"""What a scanned code is: the resolution behind the trace page and its JSON twin.

- `/q/{code}`: an item serial (`0007K2M-9QF3`: the signature is checked first, so a forged
  code costs no lookup, then the batch is found by its serial range) or a product/lot short
  code (a `QrCode` row).
- `/01/{gtin}[/10/{lot}][/21/{serial}]` (GS1 Digital Link): the serial as above, checked
  against the GTIN and lot its batch was printed for; else the lot- or product-level code of
  the GTIN; else, for a GTIN we have issued codes or labels for, the lot found by its code
  through the products service.

Outcomes: `ok`; `unknown` (not a code we issued); `forged` (serial-shaped with a bad
signature, or a genuine serial printed under another product's GTIN or lot); `void` (the
batch or the code was voided). `suspicious` (counterfeit thresholds) is decided when the scan
is recorded (domain/scans.py), `recalled` from the card.

Lookups are cached per process (domain/cards.TTLCache, short TTL, emptied on the card epoch),
so a busy code costs no query at all: batches by serial range (one cached interval answers
every serial of a batch), codes by their text, products by GTIN.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session as OrmSession

from services.labels.domain import cards, codes
from services.labels.models import LabelBatch, QrCode
from shared.db import on_commit

MAX_CODE = 64  # what a scan or an alert keeps of the code text
RANGE_SECONDS = 30.0
MAX_RANGES = 20_000

OUTCOMES = ("ok", "unknown", "forged", "void", "recalled", "suspicious")
LEVELS = ("product", "lot", "item")

SessionLike = cards.SessionLike


@dataclass(frozen=True)
class Resolution:
    outcome: str
    level: str | None = None
    code: str = ""  # the code as recorded: canonical for our codes, else the text (cut)
    path: str = ""
    serial: int | None = None
    batch_id: uuid.UUID | None = None
    qr_code_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    lot_id: uuid.UUID | None = None
    establishment_id: uuid.UUID | None = None
    gtin: str | None = None
    lot_code: str | None = None
    # why, in one word: not_a_code, not_issued, bad_signature, mismatch, batch_void, code_void
    detail: str | None = None
    # the GS1 lot found by its code through the products service (no lot-level code row)
    lot_by_code: str | None = None
    signals: tuple[str, ...] = ()  # counterfeit signals, from the scan counters
    scans: int = 0
    places: int = 0

    @property
    def card_key(self) -> str | None:
        if self.lot_id is not None:
            return cards.lot_key(self.lot_id)
        if self.product_id is not None and self.lot_by_code is None:
            return cards.product_key(self.product_id)
        return None

    @property
    def shows_card(self) -> bool:
        return self.outcome not in {"unknown", "forged"} and self.product_id is not None

    def with_(self, **changes: Any) -> Resolution:
        """A copy with these fields changed (dataclasses.replace, without re-running
        __init__ over twenty fields: this is on every scan's path)."""
        for name in changes:
            if name not in _FIELDS:
                raise TypeError(f"Resolution has no field {name!r}")
        copy = object.__new__(Resolution)
        copy.__dict__.update(self.__dict__)
        copy.__dict__.update(changes)
        return copy


_FIELDS = frozenset(f.name for f in fields(Resolution))


@dataclass(frozen=True)
class BatchInfo:
    id: uuid.UUID
    serial_start: int
    serial_end: int
    product_id: uuid.UUID
    lot_id: uuid.UUID | None
    establishment_id: uuid.UUID
    gtin: str | None
    lot_code: str | None
    voided_at: datetime | None


@dataclass(frozen=True)
class CodeInfo:
    id: uuid.UUID
    code: str
    level: str
    product_id: uuid.UUID
    lot_id: uuid.UUID | None
    establishment_id: uuid.UUID
    gtin: str | None
    lot_code: str | None
    status: str


class _Ranges:
    """Batches seen lately, by serial range: one cached batch answers all its serials."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._items: dict[int, tuple[float, BatchInfo]] = {}
        self._lock = threading.Lock()
        cards._CACHES.append(self)

    def find(self, serial: int) -> BatchInfo | None:
        now = time.monotonic()
        with self._lock:
            index = bisect.bisect_right(self._starts, serial) - 1
            if index < 0:
                return None
            expires, info = self._items[self._starts[index]]
            if info.serial_end < serial or expires <= now:
                return None
            return info

    def add(self, info: BatchInfo) -> None:
        with self._lock:
            if len(self._starts) >= MAX_RANGES:
                self._starts.clear()
                self._items.clear()
            if info.serial_start not in self._items:
                bisect.insort(self._starts, info.serial_start)
            self._items[info.serial_start] = (time.monotonic() + RANGE_SECONDS, info)

    def clear(self) -> None:
        with self._lock:
            self._starts.clear()
            self._items.clear()


_ranges = _Ranges()
_codes: cards.TTLCache[str, CodeInfo] = cards.TTLCache()
_gs1_lots: cards.TTLCache[tuple[str, str], CodeInfo] = cards.TTLCache()
_gtins: cards.TTLCache[str, tuple[uuid.UUID, uuid.UUID, CodeInfo | None]] = cards.TTLCache()


_session = cards._session


# --- look-ups -----------------------------------------------------------------------------


_BATCH_COLUMNS = (
    LabelBatch.id,
    LabelBatch.serial_start,
    LabelBatch.serial_end,
    LabelBatch.product_id,
    LabelBatch.lot_id,
    LabelBatch.establishment_id,
    LabelBatch.gtin,
    LabelBatch.lot_code,
    LabelBatch.voided_at,
)
_CODE_COLUMNS = (
    QrCode.id,
    QrCode.code,
    QrCode.level,
    QrCode.product_id,
    QrCode.lot_id,
    QrCode.establishment_id,
    QrCode.gtin,
    QrCode.lot_code,
    QrCode.status,
)


def batch_for_serial(session: SessionLike, serial: int) -> BatchInfo | None:
    """The batch whose range holds `serial`: one index probe (`serial_start <= s` newest
    first, then `serial_end`), or none when cached."""
    found = _ranges.find(serial)
    if found is not None:
        return found
    row = (
        _session(session)
        .execute(
            select(*_BATCH_COLUMNS)
            .where(LabelBatch.serial_start <= serial)
            .order_by(LabelBatch.serial_start.desc())
            .limit(1)
        )
        .first()
    )
    if row is None:
        return None
    info = BatchInfo(*row)
    _ranges.add(info)
    return info if info.serial_end >= serial else None


def code_row(session: SessionLike, code: str) -> CodeInfo | None:
    found = _codes.get(code)
    if found is not None:
        return found
    row = _session(session).execute(select(*_CODE_COLUMNS).where(QrCode.code == code)).first()
    if row is None:
        return None
    info = CodeInfo(*row)
    _codes.put(code, info)
    return info


def gs1_lot_row(session: SessionLike, gtin: str, lot_code: str) -> CodeInfo | None:
    found = _gs1_lots.get((gtin, lot_code))
    if found is not None:
        return found
    row = (
        _session(session)
        .execute(
            select(*_CODE_COLUMNS)
            .where(QrCode.gtin == gtin, QrCode.level == "lot", QrCode.lot_code == lot_code)
            .limit(1)
        )
        .first()
    )
    if row is None:
        return None
    info = CodeInfo(*row)
    _gs1_lots.put((gtin, lot_code), info)
    return info


def gtin_owner(
    session: SessionLike, gtin: str
) -> tuple[uuid.UUID, uuid.UUID, CodeInfo | None] | None:
    """(product, establishment, the product-level code if any) of a GTIN we issued codes or
    labels for; None for a GTIN we never saw."""
    found = _gtins.get(gtin)
    if found is not None:
        return found
    db = _session(session)
    row = db.execute(
        select(*_CODE_COLUMNS)
        .where(QrCode.gtin == gtin)
        .order_by((QrCode.level == "product").desc(), QrCode.created_at)
        .limit(1)
    ).first()
    answer: tuple[uuid.UUID, uuid.UUID, CodeInfo | None] | None = None
    if row is not None:
        info = CodeInfo(*row)
        answer = (info.product_id, info.establishment_id, info if info.level == "product" else None)
    else:
        batch = db.execute(
            select(LabelBatch.product_id, LabelBatch.establishment_id)
            .where(LabelBatch.gtin == gtin)
            .limit(1)
        ).first()
        if batch is not None:
            answer = (batch.product_id, batch.establishment_id, None)
    if answer is not None:
        _gtins.put(gtin, answer)
    return answer


# --- reading what was scanned -------------------------------------------------------------

_CROCKFORD = str.maketrans({"I": "1", "L": "1", "O": "0"})


def normal_short_code(text: str) -> str:
    return text.upper().translate(_CROCKFORD)


def _cut(text: str) -> str:
    return text[:MAX_CODE]


def _canonical(read: codes.SerialRead, text: str) -> str:
    """A genuine serial code as printed (upper case, full width), without a second HMAC."""
    signature = text.strip().rpartition("-")[2].upper()
    return f"{codes.b32encode(read.serial, codes.SERIAL_WIDTH)}-{signature}"


def _from_batch(base: Resolution, batch: BatchInfo, serial: int, code: str) -> Resolution:
    return base.with_(
        outcome="void" if batch.voided_at is not None else "ok",
        level="item",
        code=code,
        serial=serial,
        batch_id=batch.id,
        product_id=batch.product_id,
        lot_id=batch.lot_id,
        establishment_id=batch.establishment_id,
        gtin=batch.gtin,
        lot_code=batch.lot_code,
        detail="batch_void" if batch.voided_at is not None else None,
    )


def _from_code(base: Resolution, info: CodeInfo) -> Resolution:
    return base.with_(
        outcome="void" if info.status == "void" else "ok",
        level=info.level,
        code=info.code,
        qr_code_id=info.id,
        product_id=info.product_id,
        lot_id=info.lot_id,
        establishment_id=info.establishment_id,
        gtin=info.gtin,
        lot_code=info.lot_code,
        detail="code_void" if info.status == "void" else None,
    )


def resolve_short(session: SessionLike, code: str, *, key: str) -> Resolution:
    """`/q/{code}`: an item serial code or a product/lot short code."""
    text = code.strip()
    base = Resolution(outcome="unknown", code=_cut(text), path=f"/q/{text}")
    read = codes.read_serial(key, text) if len(text) <= MAX_CODE else None
    if read is not None:
        if not read.genuine:
            return base.with_(
                outcome="forged", level="item", code=_cut(text.upper()), detail="bad_signature"
            )
        batch = batch_for_serial(session, read.serial)
        if batch is None:
            return base.with_(
                level="item",
                code=codes.serial_code(key, read.serial),
                serial=read.serial,
                detail="not_issued",
            )
        return _from_batch(base, batch, read.serial, _canonical(read, text))
    if codes.is_short_code(text):
        normal = normal_short_code(text)
        info = code_row(session, normal)
        if info is None:
            return base.with_(code=normal, detail="not_issued")
        return _from_code(base, info)
    return base.with_(detail="not_a_code")


_GS1_TAIL = re.compile(r"^(?:/10/(?P<lot>[^?#]+?))?(?:/21/(?P<serial>[^/?#]+))?/?$")


def parse_gs1(rest: str) -> tuple[str, str | None, str | None] | None:
    """`{gtin}[/10/{lot}][/21/{serial}]` (the path after `/01/`) → its parts; None when it
    is not such a path. A lot code may hold `/` (GS1 allows it; a URL may carry it raw)."""
    gtin, _, tail = rest.partition("/")
    match = _GS1_TAIL.match(f"/{tail}" if tail else "")
    if match is None:
        return None
    return gtin, match.group("lot"), match.group("serial")


def normal_gtin(text: str) -> str | None:
    """A GTIN-8/12/13/14 as GTIN-14 when its check digit holds."""
    if not text.isascii() or not text.isdigit() or len(text) not in {8, 12, 13, 14}:
        return None
    gtin = text.zfill(14)
    return gtin if codes.valid_gtin14(gtin) else None


def resolve_gs1(
    session: SessionLike,
    gtin_text: str,
    lot: str | None,
    serial_text: str | None,
    *,
    key: str,
) -> Resolution:
    """`/01/{gtin}[/10/{lot}][/21/{serial}]`."""
    path = codes.digital_link(gtin_text, lot, serial_text)
    shown = _cut(serial_text or (f"{gtin_text}/{lot}" if lot else gtin_text))
    base = Resolution(outcome="unknown", code=shown, path=path, gtin=None, lot_code=lot)
    gtin = normal_gtin(gtin_text)
    if gtin is None or (lot is not None and len(lot) > MAX_CODE):
        return base.with_(detail="not_a_code")
    base = base.with_(gtin=gtin)
    owner = None
    if serial_text is not None:
        read = codes.read_serial(key, serial_text) if len(serial_text) <= MAX_CODE else None
        if read is None:
            return base.with_(level="item", detail="not_a_code")
        if not read.genuine:
            owner = gtin_owner(session, gtin)
            return base.with_(
                outcome="forged",
                level="item",
                code=_cut(serial_text.upper()),
                product_id=owner[0] if owner else None,
                establishment_id=owner[1] if owner else None,
                detail="bad_signature",
            )
        batch = batch_for_serial(session, read.serial)
        if batch is None:
            return base.with_(
                level="item", code=codes.serial_code(key, read.serial), detail="not_issued"
            )
        if batch.gtin != gtin or (lot is not None and batch.lot_code != lot):
            # A genuine serial printed under another product or lot: a copied label.
            return base.with_(
                outcome="forged",
                level="item",
                code=codes.serial_code(key, read.serial),
                serial=read.serial,
                batch_id=batch.id,
                product_id=batch.product_id,
                establishment_id=batch.establishment_id,
                detail="mismatch",
            )
        return _from_batch(base, batch, read.serial, _canonical(read, serial_text))
    if lot is not None:
        info = gs1_lot_row(session, gtin, lot)
        if info is not None:
            return _from_code(base, info).with_(code=_cut(f"{gtin}/{lot}"))
        owner = gtin_owner(session, gtin)
        if owner is None:
            return base.with_(level="lot", detail="not_issued")
        return base.with_(
            outcome="ok",
            level="lot",
            code=_cut(f"{gtin}/{lot}"),
            product_id=owner[0],
            establishment_id=owner[1],
            lot_by_code=lot,
        )
    owner = gtin_owner(session, gtin)
    if owner is None:
        return base.with_(level="product", detail="not_issued")
    product_id, establishment_id, product_code = owner
    if product_code is not None:
        return _from_code(base, product_code).with_(code=gtin)
    return base.with_(
        outcome="ok",
        level="product",
        code=gtin,
        product_id=product_id,
        establishment_id=establishment_id,
    )


def resolve_path(session: SessionLike, path: str, *, key: str) -> Resolution:
    """Any public code path (`/q/…` or `/01/…`)."""
    if path.startswith("/q/"):
        return resolve_short(session, path[3:], key=key)
    if path.startswith("/01/"):
        parts = parse_gs1(path[4:])
        if parts is not None:
            return resolve_gs1(session, *parts, key=key)
    return Resolution(outcome="unknown", code=_cut(path), path=path, detail="not_a_code")


# --- the public answer --------------------------------------------------------------------

_CODE_WARNINGS = {
    "unknown": (
        "code_unknown",
        "CẢNH BÁO: Mã này không do hệ thống truy xuất nguồn gốc của tỉnh cấp. Sản phẩm có thể "
        "không rõ nguồn gốc; hãy thận trọng và báo cho cơ quan quản lý.",
        "WARNING: this code was not issued by the province's traceability system. The product "
        "may be of unknown origin; be careful and report it to the authority.",
    ),
    "forged": (
        "code_forged",
        "CẢNH BÁO: Mã này là mã giả (chữ ký không hợp lệ hoặc không khớp với sản phẩm). Sản "
        "phẩm có thể là hàng giả; hãy báo cho cơ quan quản lý.",
        "WARNING: this code is forged (its signature is wrong or it does not match the "
        "product). The product may be counterfeit; please report it to the authority.",
    ),
    "void": (
        "code_void",
        "CẢNH BÁO: Mã này đã bị huỷ (tem bị mất, thất lạc hoặc in lỗi). Sản phẩm mang mã "
        "này có thể không chính hãng.",
        "WARNING: this code has been voided (labels lost, stolen or misprinted). A product "
        "carrying it may not be genuine.",
    ),
}


def warnings_for(
    resolution: Resolution, view: dict[str, Any], *, stale_since: datetime | None, today: Any
) -> list[dict[str, Any]]:
    """The red notices, most serious first: recall, the code itself, the establishment."""
    found: list[dict[str, Any]] = []
    recall, lot = view.get("recall"), view.get("lot")
    if recall or (lot and lot.get("status") in {"recalled", "destroyed"}):
        found.append(
            cards.warning(
                "recalled",
                "THU HỒI: Lô sản phẩm này đang bị thu hồi. Không sử dụng; liên hệ nơi bán "
                "hoặc cơ sở sản xuất.",
                "RECALL: this lot is being recalled. Do not use it; contact the seller or the "
                "producer.",
                number=(recall or {}).get("number"),
                reason=(recall or {}).get("reason"),
            )
        )
    if resolution.outcome in _CODE_WARNINGS:
        code, vi, en = _CODE_WARNINGS[resolution.outcome]
        found.append(cards.warning(code, vi, en))
    if "too_many_scans" in resolution.signals:
        found.append(
            cards.warning(
                "too_many_scans",
                f"CẢNH BÁO: Mã sản phẩm riêng này đã được quét {resolution.scans} lần — nhiều hơn "
                "một gói hàng thật thường có. Tem có thể đã bị sao chép.",
                f"WARNING: this item code has been scanned {resolution.scans} times — more than "
                "one genuine package normally is. The label may have been copied.",
                scans=resolution.scans,
            )
        )
    if "too_many_places" in resolution.signals:
        found.append(
            cards.warning(
                "too_many_places",
                f"CẢNH BÁO: Mã sản phẩm riêng này đã được quét ở {resolution.places} nơi khác "
                "nhau. Tem có thể đã bị sao chép.",
                f"WARNING: this item code has been scanned in {resolution.places} different "
                "places. The label may have been copied.",
                places=resolution.places,
            )
        )
    owner = view.get("establishment")
    if owner and (owner.get("account_suspended") or not owner.get("active", True)):
        found.append(
            cards.warning(
                "account_suspended",
                "CẢNH BÁO: Tài khoản truy xuất của cơ sở đang bị tạm ngừng hoặc thu hồi.",
                "WARNING: the establishment's traceability account is suspended or revoked.",
            )
        )
    if owner and owner.get("certificate_state") == "expired":
        found.append(
            cards.warning(
                "certificate_expired",
                "CẢNH BÁO: Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm đã hết hạn.",
                "WARNING: the establishment's food-safety certificate has expired.",
                expires_on=owner.get("certificate_expires_on"),
            )
        )
    if lot and lot.get("expired"):
        found.append(
            cards.warning(
                "lot_expired",
                "Lô sản phẩm này đã quá hạn sử dụng.",
                "This lot is past its expiry date.",
            )
        )
    if stale_since is not None:
        found.append(
            cards.warning(
                "stale",
                "Thông tin dưới đây có thể chưa được cập nhật (hệ thống tạm thời không lấy được "
                "bản mới).",
                "The information below may be out of date (the system could not load a fresh "
                "copy just now).",
                as_of=stale_since,
            )
        )
    return found


# --- voids ring the epoch -----------------------------------------------------------------
# Voiding a batch or a code (domain/batches.py, the codes API) must show on the next scan in
# every process, not after the caches' time to live: a flush that changes `voided_at` or a
# code's `status` rings the card epoch once its transaction commits.

_VOIDS_CHANGED = "labels_voids_changed"


def _touches_codes(session: Any) -> bool:
    for obj in session.dirty:
        if isinstance(obj, LabelBatch):
            if inspect(obj).attrs.voided_at.history.has_changes():
                return True
        elif isinstance(obj, QrCode) and inspect(obj).attrs.status.history.has_changes():
            return True
    return False


def _ring() -> None:
    from flask import current_app, has_app_context

    if has_app_context() and "trace_kv" in current_app.extensions:
        cards.bump_epoch(current_app.extensions["trace_kv"])
    else:
        cards.clear_memory()


@event.listens_for(OrmSession, "before_flush")
def _watch_voids(session: Any, _context: Any, _instances: Any) -> None:
    if not session.info.get(_VOIDS_CHANGED) and _touches_codes(session):
        session.info[_VOIDS_CHANGED] = True
        on_commit(session, _ring)


@event.listens_for(OrmSession, "after_commit")
@event.listens_for(OrmSession, "after_rollback")
def _forget_voids(session: Any) -> None:
    session.info.pop(_VOIDS_CHANGED, None)
