from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from services.accounts.models import Account, Establishment, Unit
from tests.accounts.factories import (
    AccountFactory,
    EstablishmentFactory,
    UnitFactory,
    bind_factories,
    token_for,
)


@dataclass
class World:
    """A small province: root → district A (→ commune A1) and district B.

    Establishments: est_a (managed by A1), est_b (managed by B). One account per role and
    scope, and a token for each."""

    root: Unit
    unit_a: Unit
    unit_a1: Unit
    unit_b: Unit
    est_a: Establishment
    est_b: Establishment
    admin: Account
    agency_a: Account
    agency_b: Account
    owner_a: Account
    owner_b: Account
    tokens: dict[str, str]

    def token(self, who: str) -> str:
        return self.tokens[who]


@pytest.fixture
def world(accounts_app: Any, session: Any) -> World:
    bind_factories(session)
    root = UnitFactory(code="ROOT", name="Tỉnh Thử", level="province")
    unit_a = UnitFactory(code="DIST-A", name="Huyện Đầm Hà", parent=root)
    unit_a1 = UnitFactory(code="COMM-A1", name="Xã Quảng Tân", level="commune", parent=unit_a)
    unit_b = UnitFactory(code="DIST-B", name="Huyện Bình Liêu", parent=root)
    est_a = EstablishmentFactory(name="HTX Chè Đường Hoa", unit=unit_a1)
    est_b = EstablishmentFactory(name="Cơ sở Miến dong Bình Liêu", unit=unit_b)
    admin = AccountFactory(username="admin.test", role="admin", unit=root)
    agency_a = AccountFactory(username="canbo.a", role="agency", unit=unit_a)
    agency_b = AccountFactory(username="canbo.b", role="agency", unit=unit_b)
    owner_a = AccountFactory(username="coso.a", role="establishment", establishment=est_a)
    owner_b = AccountFactory(username="coso.b", role="establishment", establishment=est_b)
    session.commit()
    accounts = {
        "admin": admin,
        "agency_a": agency_a,
        "agency_b": agency_b,
        "owner_a": owner_a,
        "owner_b": owner_b,
    }
    tokens = {name: token_for(accounts_app, session, acc) for name, acc in accounts.items()}
    return World(
        root,
        unit_a,
        unit_a1,
        unit_b,
        est_a,
        est_b,
        admin,
        agency_a,
        agency_b,
        owner_a,
        owner_b,
        tokens,
    )
