"""The demo province's products, lots and their chain (embedded default, `make run`).

The demo cooperative (login `htx.halong`) makes Hạ Long squid cake (chả mực, OCOP 5★) from
squid it catches and buys, ships packed lots to a trader in the system, which receives them,
and to a supermarket outside it; a few dozen other establishments get a product and lots so
that lists, searches and reports have data. Runs once (idempotent by product code).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.products.domain import directory, lots, products, shipments
from services.products.models import Certification, DirectoryEstablishment, Product
from shared.auth import Principal
from shared.clock import LOCAL_TZ

DEMO_BRN = "5700100001"  # the demo cooperative of services/accounts/seed.py
TODAY = date(2026, 12, 1)

CATALOGUE: Sequence[dict[str, Any]] = (
    {
        "name": "Chả mực Hạ Long",
        "code": "CM-500",
        "gtin": "8936081120011",
        "category": "Thủy sản chế biến",
        "description": (
            "Chả mực giã tay từ mực ống vịnh Hạ Long, đóng khay 500 g, bảo quản đông lạnh."
        ),
        "origin": "Vịnh Hạ Long, Quảng Ninh",
        "capacity": "2 tấn/tháng",
        "packaging": "Khay 500 g hút chân không",
        "shelf_life_days": 180,
        "preservation": "frozen",
        "price": Decimal("180000"),
        "price_unit": "đồng/khay",
        "standards": ["TCVN 12850:2019", "HACCP"],
        "ocop_stars": 5,
        "ocop_decision_no": "1234/QĐ-UBND",
        "ocop_decision_date": date(2024, 9, 12),
        "ocop_expires_on": date(2027, 9, 12),
        "is_key_product": True,
        "is_packaged_processed": True,
    },
    {
        "name": "Mực ống tươi",
        "code": "MO-01",
        "category": "Thủy sản tươi",
        "origin": "Vịnh Hạ Long, Quảng Ninh",
        "packaging": "Thùng xốp 10 kg",
        "shelf_life_days": 2,
        "preservation": "fresh",
        "standards": ["VietGAP"],
    },
)

OTHER_PRODUCTS = (
    ("Chè xanh", "Chè", "processed", "Túi 200 g"),
    ("Miến dong", "Nông sản chế biến", "processed", "Gói 500 g"),
    ("Ngán", "Thủy sản tươi", "fresh", "Túi 1 kg"),
    ("Sá sùng khô", "Thủy sản chế biến", "processed", "Hộp 100 g"),
    ("Gà đồi Tiên Yên", "Gia cầm", "fresh", "Con, 1,5–2 kg"),
    ("Hàu Thái Bình Dương", "Thủy sản tươi", "fresh", "Túi lưới 5 kg"),
    ("Mật ong rừng", "Nông sản chế biến", "processed", "Chai 500 ml"),
    ("Trà hoa vàng", "Chè", "processed", "Hộp 50 g"),
)


def _at(day: date, hour: int) -> datetime:
    """`hour` o'clock, local time (Asia/Ho_Chi_Minh), on `day`."""
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=LOCAL_TZ).astimezone(UTC)


def seed_demo(session: Session, directory_payload: dict[str, Any]) -> int:
    """Copy the directory, then add the demo products and lots. Returns lots created."""
    directory.apply_units(session, directory_payload["units"])
    directory.apply_establishments(session, directory_payload["establishments"])
    coop = session.scalar(
        select(DirectoryEstablishment).where(
            DirectoryEstablishment.business_registration_no == DEMO_BRN
        )
    )
    if coop is None or session.scalar(
        select(Product.id).where(Product.establishment_id == coop.id, Product.code == "CM-500")
    ):
        return 0
    actor = Principal(role="admin", username="system")
    squid_cake, squid = (
        products.create(session, actor=actor, data={**item, "establishment_id": coop.id})
        for item in CATALOGUE
    )
    session.add(
        Certification(
            establishment_id=coop.id,
            kind="food_safety",
            number="125/2024/NNPTNT-QN",
            issuer="Chi cục Quản lý chất lượng Nông lâm sản và Thủy sản Quảng Ninh",
            valid_from=date(2024, 3, 1),
            valid_to=date(2027, 3, 1),
        )
    )
    session.add(
        Certification(
            establishment_id=coop.id,
            product_id=squid_cake.id,
            kind="haccp",
            number="HACCP-QN-0457",
            issuer="Trung tâm Kiểm nghiệm và Chứng nhận chất lượng TQC",
            valid_from=date(2025, 1, 15),
            valid_to=date(2028, 1, 15),
        )
    )
    trader = session.scalar(
        select(DirectoryEstablishment)
        .where(
            DirectoryEstablishment.unit_id == coop.unit_id,
            DirectoryEstablishment.id != coop.id,
        )
        .order_by(DirectoryEstablishment.name)
        .limit(1)
    )
    created = 0
    for week in range(6):
        day = TODAY - timedelta(days=7 * (6 - week))
        catch = lots.create(
            session,
            actor=actor,
            data={
                "product_id": squid.id,
                "code": f"MO-{day:%y%m%d}",
                "production_date": day,
                "expiry_date": day + timedelta(days=2),
                "quantity": Decimal("300"),
                "unit": "kg",
                "sources": [
                    {
                        "supplier_name": "Tàu cá QN-90876-TS (ông Phạm Văn Hải)",
                        "supplier_address": "Cảng cá Cái Rồng, Vân Đồn",
                        "supplier_code": "QN-90876-TS",
                        "quantity": Decimal("120"),
                        "unit": "kg",
                        "received_at": _at(day, 5),
                        "place": "Cảng cá Cái Rồng",
                    }
                ],
            },
        )
        lots.add_stage(
            session,
            actor=actor,
            lot=catch,
            data={
                "kind": "production",
                "occurred_at": _at(day, 4),
                "place": "Vùng khai thác vịnh Hạ Long",
                "place_code": "QN-HL-KT02",
                "actor": "Tổ khai thác số 2",
                "description": "Câu mực ống đêm, bảo quản đá lạnh trên tàu.",
            },
        )
        lots.add_stage(
            session,
            actor=actor,
            lot=catch,
            data={
                "kind": "pre_processing",
                "occurred_at": _at(day, 7),
                "place": "Xưởng sơ chế HTX, phường Hùng Thắng",
                "actor": "Tổ sơ chế",
                "description": "Làm sạch, bỏ nội tạng, rửa nước muối lạnh.",
            },
        )
        cake = lots.create(
            session,
            actor=actor,
            data={
                "product_id": squid_cake.id,
                "code": f"CM-{day:%y%m%d}",
                "production_date": day,
                "expiry_date": day + timedelta(days=180),
                "quantity": Decimal("400"),
                "unit": "khay",
                "inputs": [{"lot_id": catch.id, "quantity": Decimal("240"), "unit": "kg"}],
            },
        )
        for kind, hour, place, note in (
            ("processing", 9, "Xưởng chế biến HTX", "Giã tay, nặn chả, chiên vàng."),
            ("packing", 14, "Xưởng chế biến HTX", "Đóng khay 500 g, hút chân không, dán tem."),
            ("storage", 16, "Kho lạnh −18 °C của HTX", "Bảo quản đông lạnh."),
        ):
            lots.add_stage(
                session,
                actor=actor,
                lot=cake,
                data={
                    "kind": kind,
                    "occurred_at": _at(day, hour),
                    "place": place,
                    "actor": "Tổ chế biến",
                    "description": note,
                },
            )
        shipments.send(
            session,
            actor=actor,
            data={
                "lot_id": cake.id,
                "recipient_name": "Siêu thị Hạ Long Xanh",
                "recipient_address": "Đường Trần Hưng Đạo, TP Hạ Long",
                "quantity": Decimal("100"),
                "unit": "khay",
                "shipped_at": _at(day + timedelta(days=1), 8),
                "place": "Kho lạnh HTX",
            },
        )
        if trader is not None and week % 2 == 0:
            shipped = shipments.send(
                session,
                actor=actor,
                data={
                    "lot_id": cake.id,
                    "recipient_establishment_id": trader.id,
                    "quantity": Decimal("150"),
                    "unit": "khay",
                    "shipped_at": _at(day + timedelta(days=2), 8),
                    "place": "Kho lạnh HTX",
                },
            )
            if week < 4:
                trader_product = session.scalar(
                    select(Product).where(
                        Product.establishment_id == trader.id, Product.code == "TM-CM"
                    )
                ) or products.create(
                    session,
                    actor=actor,
                    data={
                        "establishment_id": trader.id,
                        "name": "Chả mực Hạ Long (phân phối)",
                        "code": "TM-CM",
                        "category": "Thủy sản chế biến",
                        "preservation": "frozen",
                        "parties": [{"role": "processor", "establishment_id": coop.id}],
                    },
                )
                shipments.receive(
                    session,
                    actor=actor,
                    shipment=shipped,
                    data={
                        "product_id": trader_product.id,
                        "lot_code": f"TM-{day:%y%m%d}",
                        "received_at": _at(day + timedelta(days=2), 11),
                        "quantity": Decimal("150"),
                        "place": "Kho đại lý",
                    },
                )
                created += 1
        created += 2
    created += _seed_others(session, actor, exclude={coop.id} | ({trader.id} if trader else set()))
    session.flush()
    return created


def _seed_others(session: Session, actor: Principal, exclude: set[uuid.UUID]) -> int:
    """One product with two lots for some of the demo establishments."""
    rng = random.Random(2026)  # noqa: S311 - deterministic demo data, not a secret
    candidates = [
        e
        for e in session.scalars(
            select(DirectoryEstablishment)
            .where(DirectoryEstablishment.business_registration_no.like("57%"))
            .order_by(DirectoryEstablishment.business_registration_no)
        )
        if e.id not in exclude
    ][:60]
    created = 0
    for index, establishment in enumerate(candidates):
        name, category, preservation, packaging = OTHER_PRODUCTS[index % len(OTHER_PRODUCTS)]
        product = products.create(
            session,
            actor=actor,
            data={
                "establishment_id": establishment.id,
                "name": f"{name} {establishment.name.split()[-1]}",
                "code": f"SP-{index:03d}",
                "category": category,
                "preservation": preservation,
                "packaging": packaging,
                "origin": "Quảng Ninh",
                "ocop_stars": 3 + index % 3 if establishment.ocop else None,
                "is_key_product": index % 4 == 0,
                "is_packaged_processed": preservation == "processed",
            },
        )
        for n in range(2):
            day = TODAY - timedelta(days=rng.randint(3, 120))
            lot = lots.create(
                session,
                actor=actor,
                data={
                    "product_id": product.id,
                    "code": f"{day:%y%m%d}-{n + 1}",
                    "production_date": day,
                    "quantity": Decimal(rng.randint(20, 500)),
                    "unit": "kg",
                },
            )
            lots.add_stage(
                session,
                actor=actor,
                lot=lot,
                data={
                    "kind": "production",
                    "occurred_at": _at(day, 7),
                    "place": establishment.address,
                    "actor": establishment.representative,
                },
            )
            created += 1
    return created
