from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.products.models import DirectoryEstablishment, DirectoryUnit
from tests.accounts.conftest import world  # noqa: F401 - the accounts world, for sync tests
from tests.products.factories import (
    EstablishmentFactory,
    UnitFactory,
    auth,
    bind_factories,
    mint_token,
)


@pytest.fixture
def psession(products_db: Any) -> Iterator[Any]:
    session = products_db.session()
    bind_factories(session)
    yield session
    session.close()


@pytest.fixture
def pclient(products_app: Any, products_db: Any) -> Any:
    return products_app.test_client()


@dataclass
class PWorld:
    """A small province in the products service's directory copy:
    root → district A (→ commune A1) and district B.

    Establishments est_a and est_a2 (managed by A1) and est_b (managed by B); a token per
    role and scope: admin, agency_a, agency_b, owner_a, owner_a2, owner_b."""

    root: DirectoryUnit
    unit_a: DirectoryUnit
    unit_a1: DirectoryUnit
    unit_b: DirectoryUnit
    est_a: DirectoryEstablishment
    est_a2: DirectoryEstablishment
    est_b: DirectoryEstablishment
    tokens: dict[str, str]
    extras: dict[str, Any] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return auth(self.tokens[who]) if who != "anonymous" else {}


@pytest.fixture
def pworld(products_app: Any, psession: Any) -> PWorld:
    settings = products_app.config["SETTINGS"]
    root = UnitFactory(code="ROOT", name="Tỉnh Thử")
    unit_a = UnitFactory(code="DIST-A", name="Huyện Đầm Hà", parent=root)
    unit_a1 = UnitFactory(code="COMM-A1", name="Xã Quảng Tân", parent=unit_a)
    unit_b = UnitFactory(code="DIST-B", name="Huyện Bình Liêu", parent=root)
    est_a = EstablishmentFactory(name="HTX Chè Đường Hoa", unit=unit_a1)
    est_a2 = EstablishmentFactory(name="Công ty Chế biến Hải sản Đầm Hà", unit=unit_a1)
    est_b = EstablishmentFactory(name="Cơ sở Miến dong Bình Liêu", unit=unit_b)
    psession.commit()
    tokens = {
        "admin": mint_token(settings, role="admin", unit_id=root.id),
        "agency_a": mint_token(settings, role="agency", unit_id=unit_a.id),
        "agency_b": mint_token(settings, role="agency", unit_id=unit_b.id),
        "owner_a": mint_token(settings, role="establishment", establishment_id=est_a.id),
        "owner_a2": mint_token(settings, role="establishment", establishment_id=est_a2.id),
        "owner_b": mint_token(settings, role="establishment", establishment_id=est_b.id),
    }
    return PWorld(root, unit_a, unit_a1, unit_b, est_a, est_a2, est_b, tokens)
