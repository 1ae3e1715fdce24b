"""Test data for the products service: directory rows, products, lots, links — built directly
(fast); the flows under test go through the domain and the API. Tokens are real RS256 access
tokens signed with the test key (no accounts database needed)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import Any

import factory
from factory.alchemy import SQLAlchemyModelFactory
from sqlalchemy.orm import Session

from services.products.models import (
    DirectoryEstablishment,
    DirectoryUnit,
    Lot,
    LotLink,
    Product,
    StageEvent,
)
from shared.clock import local_today
from shared.db import utcnow
from shared.text import fold


class _Base(SQLAlchemyModelFactory):  # type: ignore[misc]
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class UnitFactory(_Base):
    class Meta:
        model = DirectoryUnit

    class Params:
        parent = None

    id = factory.LazyFunction(uuid.uuid4)
    parent_id = factory.LazyAttribute(lambda o: o.parent.id if o.parent else None)
    path = factory.LazyAttribute(lambda o: (o.parent.path if o.parent else "/") + f"{o.id}/")
    code = factory.Sequence(lambda n: f"U{n:04d}")
    name = factory.Sequence(lambda n: f"Đơn vị thử {n}")
    status = "active"


class EstablishmentFactory(_Base):
    class Meta:
        model = DirectoryEstablishment

    class Params:
        unit = None

    id = factory.LazyFunction(uuid.uuid4)
    unit_id = factory.LazyAttribute(lambda o: o.unit.id)
    unit_path = factory.LazyAttribute(lambda o: o.unit.path)
    name = factory.Sequence(lambda n: f"Cơ sở thử {n}")
    address = "Thôn 1, xã Quảng Tân, Đầm Hà, Quảng Ninh"
    phone = "0912345678"
    representative = "Nguyễn Văn An"
    business_registration_no = factory.Sequence(lambda n: f"57{n:08d}")
    food_safety_status = "certificate"
    certificate_no = factory.Sequence(lambda n: f"ATTP-{n:05d}")
    certificate_issuer = "Chi cục QLCL Nông lâm sản và Thủy sản"
    certificate_expires_on = factory.LazyFunction(lambda: local_today() + timedelta(days=700))
    ocop = False
    status = "active"
    account_status = "active"


class ProductFactory(_Base):
    class Meta:
        model = Product

    id = factory.LazyFunction(uuid.uuid4)
    establishment_id = factory.LazyFunction(uuid.uuid4)
    name = factory.Sequence(lambda n: f"Chè xanh Đường Hoa {n}")
    name_folded = factory.LazyAttribute(lambda o: fold(o.name))
    code = factory.Sequence(lambda n: f"SP{n:05d}")
    origin = "Đầm Hà, Quảng Ninh"
    packaging = "Túi 200 g"
    shelf_life_days = 365
    preservation = "processed"
    standards = factory.LazyFunction(lambda: ["TCVN 12850:2019"])
    status = "active"


class LotFactory(_Base):
    class Meta:
        model = Lot

    class Params:
        product = None

    id = factory.LazyFunction(uuid.uuid4)
    product_id = factory.LazyAttribute(lambda o: o.product.id)
    establishment_id = factory.LazyAttribute(lambda o: o.product.establishment_id)
    code = factory.Sequence(lambda n: f"L{n:06d}")
    production_date = factory.LazyFunction(local_today)
    expiry_date = factory.LazyFunction(lambda: local_today() + timedelta(days=365))
    quantity = Decimal("100")
    unit = "kg"
    origin = "produced"
    status = "active"


class LinkFactory(_Base):
    class Meta:
        model = LotLink

    id = factory.LazyFunction(uuid.uuid4)
    kind = "input"
    quantity = Decimal("10")
    unit = "kg"
    occurred_at = factory.LazyFunction(utcnow)


class StageFactory(_Base):
    class Meta:
        model = StageEvent

    id = factory.LazyFunction(uuid.uuid4)
    kind = "production"
    occurred_at = factory.LazyFunction(utcnow)
    place = "Đồi chè thôn 2"
    actor = "Tổ sản xuất số 1"


FACTORIES = (
    UnitFactory,
    EstablishmentFactory,
    ProductFactory,
    LotFactory,
    LinkFactory,
    StageFactory,
)


def bind_factories(session: Session) -> None:
    for f in FACTORIES:
        f._meta.sqlalchemy_session = session


@cache
def _issuer(private_key_file: str) -> Any:
    """Loading an RSA key costs ~60 ms: once per test session."""
    from pathlib import Path

    from services.accounts.domain.login import TokenIssuer

    return TokenIssuer(
        private_key_pem=Path(private_key_file).read_text(),
        access_ttl=timedelta(minutes=15),
        refresh_ttl=timedelta(hours=1),
    )


def mint_token(
    settings: Any,
    *,
    role: str,
    unit_id: uuid.UUID | None = None,
    establishment_id: uuid.UUID | None = None,
    username: str | None = None,
) -> str:
    """A real access token as the accounts service would sign it."""
    issuer = _issuer(settings.jwt_private_key_file)
    account = SimpleNamespace(
        id=uuid.uuid4(),
        token_version=1,
        role=role,
        username=username or f"{role}.test",
        display_name=username or role,
        unit_id=unit_id,
        establishment_id=establishment_id,
        must_change_password=False,
    )
    return issuer.access_token(account, uuid.uuid4())  # type: ignore[arg-type]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
