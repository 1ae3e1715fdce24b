"""The demo province's labels data (embedded default, `make run`).

The labels service's directory copy is filled from the accounts service's directory payload
(as the products seed does). Then, for the demo cooperative (login `htx.halong`) and its
Hạ Long squid cake lots (`CM-…`, created by services/products/seed.py and passed in the
payload): a product-level and a lot-level QR code for each lot, as the owner would issue them
(the products service's public cards are read over HTTP, in-process at set-up); about sixty
scans of those codes over the last four weeks (coarse places in Vietnam, kinds of client); a
forged item code under the product's GTIN scanned a few times, which raises a counterfeit
alert; a consumer's problem report about one lot; and a small label batch whose PDF is left
to the `labels` workers (the print job is sent once the caller's transaction commits).

Run again, it changes nothing it already holds (codes are issued once; scans, the report and
the batch are added only when the cooperative has none).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.labels.domain import batches, codes, printing, qrcodes, scans
from services.labels.domain.directory import COPY
from services.labels.domain.resolve import resolve_path
from services.labels.models import (
    CounterfeitAlert,
    DirectoryEstablishment,
    LabelBatch,
    ProblemReport,
    QrCode,
    Scan,
)
from shared.auth import Principal
from shared.clock import LOCAL_TZ
from shared.db import utcnow

DEMO_BRN = "5700100001"  # the demo cooperative of services/accounts/seed.py
DEMO_OWNER = "htx.halong"
SCANS = 60
SCAN_DAYS = 28  # inside the statistics' default range (the last 30 local days)
BATCH_QUANTITY = 40
BATCH_TEMPLATE = {"preset": "40x30"}

# (latitude, longitude, weight): where shoppers scan, kept as ~11 km cells (scans.place_cell).
PLACES: Sequence[tuple[float, float, int]] = (
    (20.951, 107.072, 10),  # TP Hạ Long
    (21.012, 107.292, 3),  # Cẩm Phả
    (21.028, 105.852, 4),  # Hà Nội
    (20.845, 106.688, 3),  # Hải Phòng
    (21.524, 107.966, 2),  # Móng Cái
    (10.776, 106.700, 2),  # TP Hồ Chí Minh
)
# A user agent of each kind (never kept: only its class, scans.ua_class), with its weight.
USER_AGENTS: Sequence[tuple[str, int]] = (
    (
        "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        9,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        5,
    ),
    ("TruyXuatQN/2.1 (iPhone; iOS 17.5; CFNetwork/1496.0.7)", 2),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        2,
    ),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", 1),
)
# The forged label: seen at the border market and in Hà Nội.
FORGED_SCANS: Sequence[tuple[int, float, float]] = (
    (9, 21.524, 107.966),
    (6, 21.531, 107.958),
    (4, 21.028, 105.852),
    (2, 21.524, 107.966),
    (1, 21.033, 105.849),
)
REPORT = {
    "kind": "suspected_fake",
    "message": (
        "Mua khay chả mực ở chợ Móng Cái giá rẻ hơn hẳn siêu thị; tem dán lệch, chữ in mờ, "
        "chả có mùi lạ. Đề nghị kiểm tra giúp."
    ),
    "place_text": "Chợ Trung tâm Móng Cái",
}


@dataclass(frozen=True)
class DemoLot:
    id: uuid.UUID
    product_id: uuid.UUID
    code: str
    production_date: date | None


def _lots(payload: Mapping[str, Any]) -> list[DemoLot]:
    found = [
        DemoLot(
            id=uuid.UUID(str(item["id"])),
            product_id=uuid.UUID(str(item["product_id"])),
            code=str(item["code"]),
            production_date=date.fromisoformat(str(item["production_date"]))
            if item.get("production_date")
            else None,
        )
        for item in payload.get("lots") or ()
    ]
    return sorted(found, key=lambda lot: (lot.production_date or date.min, lot.code))


def seed_demo(session: Session, payload: Mapping[str, Any], settings: Any) -> dict[str, int]:
    """Copy the directory, then add the demo cooperative's codes, scans, alert, report and
    batch. `payload`: the accounts directory (`units`, `establishments`) and the demo lots
    (`lots`: id, product_id, code, production_date). `settings` must reach the products
    service (its public cards). Returns what was created, by kind."""
    counts = {
        "units": COPY.apply_units(session, payload["units"]),
        "establishments": COPY.apply_establishments(session, payload["establishments"]),
    }
    coop = session.scalar(
        select(DirectoryEstablishment).where(
            DirectoryEstablishment.business_registration_no == DEMO_BRN
        )
    )
    lots = _lots(payload)
    if coop is None or not lots:
        return counts
    owner = Principal(role="establishment", username=DEMO_OWNER, establishment_id=coop.id)
    product_id = lots[0].product_id

    issued = 0
    for lot_id in (None, *(lot.id for lot in lots)):
        _code, created = qrcodes.issue(
            session, actor=owner, settings=settings, product_id=product_id, lot_id=lot_id
        )
        issued += int(created)
    if issued:
        counts["codes"] = issued

    if not session.scalar(select(Scan.id).where(Scan.establishment_id == coop.id).limit(1)):
        counts.update(_scans(session, settings, coop.id, lots))

    if not session.scalar(
        select(ProblemReport.id).where(ProblemReport.establishment_id == coop.id).limit(1)
    ):
        _report(session, settings, coop, lots)
        counts["problem_reports"] = 1

    if not session.scalar(
        select(LabelBatch.id).where(LabelBatch.establishment_id == coop.id).limit(1)
    ):
        batch = batches.order(
            session,
            actor=owner,
            settings=settings,
            product_id=product_id,
            lot_id=lots[-1].id,
            quantity=BATCH_QUANTITY,
            template=BATCH_TEMPLATE,
        )
        # The PDF is the workers' (`labels` queue): sent once the caller commits.
        printing.start(session, batch, actor=owner)
        counts["batches"] = 1
    session.flush()
    return counts


def _code_of(session: Session, lot: DemoLot | None, product_id: uuid.UUID) -> QrCode:
    code = session.scalar(
        select(QrCode).where(
            QrCode.product_id == product_id,
            QrCode.level == ("lot" if lot else "product"),
            QrCode.lot_id == lot.id if lot else QrCode.lot_id.is_(None),
        )
    )
    if code is None:  # pragma: no cover - issued just before
        raise LookupError("demo code not issued")
    return code


def _pick(rng: random.Random, weighted: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([item for item, _ in weighted], [w for _, w in weighted])[0]


def _scan_time(rng: random.Random, earliest: datetime, now: datetime) -> datetime:
    """A moment between `earliest` and `now`, in the shopping hours (7:00–21:59 local)."""
    span = max((now - earliest).days, 0)
    for _ in range(20):
        day = (now - timedelta(days=rng.randint(0, span))).astimezone(LOCAL_TZ).date()
        at = datetime(
            day.year, day.month, day.day, rng.randint(7, 21), rng.randint(0, 59), tzinfo=LOCAL_TZ
        ).astimezone(UTC)
        if earliest <= at <= now:
            return at
    return now - timedelta(minutes=rng.randint(5, 120))


def _scans(
    session: Session, settings: Any, coop_id: uuid.UUID, lots: Sequence[DemoLot]
) -> dict[str, int]:
    """About sixty scans of the product and lot codes, and a forged item code under the
    product's GTIN (an alert); written as the scan flush writes them (scans.apply)."""
    rng = random.Random(2026)  # noqa: S311 - deterministic demo data, not a secret
    key = settings.serial_signing_key or ""
    now = utcnow()
    window = now - timedelta(days=SCAN_DAYS)
    product_id = lots[0].product_id
    places = [((lat, lon), w) for lat, lon, w in PLACES]
    events: list[scans.Event] = []
    for index in range(SCANS):
        # Most shoppers scan the lot code on the tray; some the product's code on a poster.
        lot = None if index % 7 == 0 else rng.choice(lots[-4:] if index % 3 else lots)
        code = _code_of(session, lot, product_id)
        resolution = resolve_path(session, codes.code_path(code), key=key)
        if resolution.outcome != "ok":  # pragma: no cover - the codes were just issued
            continue
        made = lot.production_date if lot and lot.production_date else None
        earliest = max(
            window,
            datetime(made.year, made.month, made.day, tzinfo=LOCAL_TZ).astimezone(UTC)
            + timedelta(days=2)
            if made
            else window,
        )
        lat, lon = _pick(rng, places)
        place = scans.place_cell(lat, lon) if rng.random() < 0.85 else None
        event = scans.event_for(resolution, "ok", place, scans.ua_class(_pick(rng, USER_AGENTS)))
        events.append(replace(event, at=_scan_time(rng, earliest, now).timestamp()))

    # A label copied from nothing: a serial-shaped code whose signature we never made,
    # under the cooperative's GTIN and a real lot code.
    gtin = _code_of(session, None, product_id).gtin
    serial = 987_654
    genuine = codes.signature(key, serial)
    fake = (
        f"{codes.b32encode(serial, codes.SERIAL_WIDTH)}-{'ZZZZ' if genuine != 'ZZZZ' else 'YYYY'}"
    )
    lot = lots[-2] if len(lots) > 1 else lots[-1]
    path = codes.digital_link(gtin, lot.code, fake) if gtin else f"/q/{fake}"
    forged = resolve_path(session, path, key=key)
    forged_events = 0
    for days_ago, lat, lon in FORGED_SCANS:
        event = scans.event_for(
            forged, forged.outcome, scans.place_cell(lat, lon), scans.ua_class(USER_AGENTS[0][0])
        )
        at = now - timedelta(days=days_ago, hours=rng.randint(1, 8))
        events.append(replace(event, at=at.timestamp()))
        forged_events += 1
    events.sort(key=lambda e: e.at)
    written = scans.apply(session, events, settings)
    alerts = session.scalar(
        select(CounterfeitAlert.id).where(CounterfeitAlert.establishment_id == coop_id).limit(1)
    )
    return {"scans": written, "forged_scans": forged_events, "alerts": 1 if alerts else 0}


def _report(
    session: Session, settings: Any, coop: DirectoryEstablishment, lots: Sequence[DemoLot]
) -> None:
    """A shopper's report (the trace page's form) about one lot, a few days ago."""
    lot = lots[-2] if len(lots) > 1 else lots[-1]
    code = _code_of(session, lot, lot.product_id)
    resolution = resolve_path(session, codes.code_path(code), key=settings.serial_signing_key or "")
    at = utcnow() - timedelta(days=3, hours=5)
    session.add(
        ProblemReport(
            id=uuid.uuid4(),
            code=resolution.code[:64],
            kind=REPORT["kind"],
            message=REPORT["message"],
            place_text=REPORT["place_text"],
            product_id=resolution.product_id,
            lot_id=resolution.lot_id,
            establishment_id=coop.id,
            unit_path=coop.unit_path,
            status="new",
            created_at=at,
            updated_at=at,
        )
    )
