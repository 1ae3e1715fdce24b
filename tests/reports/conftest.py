"""Reports tests: the accounts world (units ROOT → DIST-A → COMM-A1, DIST-B; establishments
est_a in A1 and est_b in B) mirrored, with the same ids, into the directory copies of the
products, labels and reports services, so that every source counts in the same units; and
the 2024 unit tree of the published appendices for the import and comparison tests."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from services.labels import models as labels_models
from services.products import models as products_models
from services.reports import models as reports_models
from tests.accounts.conftest import world  # noqa: F401 - the accounts world
from tests.products.factories import auth, mint_token

DATA = Path(__file__).resolve().parents[2] / "data"
APPENDIX01 = DATA / "appendix01_accounts_2023.csv"
APPENDIX02 = DATA / "appendix02_account_plan_2024.csv"


@pytest.fixture
def rsession(reports_db: Any) -> Iterator[Any]:
    session = reports_db.session()
    yield session
    session.close()


@pytest.fixture
def rclient(reports_app: Any, reports_db: Any) -> Any:
    return reports_app.test_client()


@dataclass
class RWorld:
    accounts: Any
    tokens: dict[str, str]
    sessions: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return auth(self.tokens[who]) if who != "anonymous" else {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.accounts, name)


def _mirror(session: Any, models: Any, units: list[Any], establishments: list[Any]) -> None:
    for unit in units:
        session.add(
            models.DirectoryUnit(
                id=unit.id,
                parent_id=unit.parent_id,
                path=unit.path,
                code=unit.code,
                name=unit.name,
                status=unit.status,
            )
        )
    for est in establishments:
        session.add(
            models.DirectoryEstablishment(
                id=est.id,
                unit_id=est.unit_id,
                unit_path=est.unit.path,
                name=est.name,
                food_safety_status=est.food_safety_status or "none",
                ocop=bool(est.ocop),
                status=est.status or "active",
                account_status="active",
            )
        )
    session.commit()


@pytest.fixture
def rworld(
    world: Any,  # noqa: F811 - fixture from accounts
    session: Any,
    products_db: Any,
    labels_db: Any,
    rsession: Any,
    reports_app: Any,
) -> Iterator[RWorld]:
    """Everything in scope A/B, in every service. Tokens: admin, agency_a (district A),
    agency_a1 (commune A1), agency_b, owner_a (an establishment)."""
    units = [world.root, world.unit_a, world.unit_a1, world.unit_b]
    establishments = [world.est_a, world.est_b]
    psession = products_db.session()
    lsession = labels_db.session()
    _mirror(psession, products_models, units, establishments)
    _mirror(lsession, labels_models, units, establishments)
    _mirror(rsession, reports_models, units, establishments)
    settings = reports_app.config["SETTINGS"]
    tokens = {
        "admin": mint_token(settings, role="admin", unit_id=world.root.id),
        "agency_a": mint_token(settings, role="agency", unit_id=world.unit_a.id),
        "agency_a1": mint_token(settings, role="agency", unit_id=world.unit_a1.id),
        "agency_b": mint_token(settings, role="agency", unit_id=world.unit_b.id),
        "owner_a": mint_token(settings, role="establishment", establishment_id=world.est_a.id),
    }
    yield RWorld(
        world,
        tokens,
        {"accounts": session, "products": psession, "labels": lsession, "reports": rsession},
    )
    psession.close()
    lsession.close()


@pytest.fixture
def appendix_tree(rsession: Any) -> dict[str, reports_models.DirectoryUnit]:
    """The 2024 unit tree of the published appendices in the reports directory copy, under a
    province root (codes as in the appendices; the TOTAL row is not a unit)."""
    root = reports_models.DirectoryUnit(
        id=uuid.uuid4(), parent_id=None, path="", code="QN", name="Tỉnh Quảng Ninh"
    )
    root.path = f"/{root.id}/"
    rsession.add(root)
    units = {"": root}
    with APPENDIX01.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["level"] == "total":
                continue
            parent = units[row["parent_code"]]
            unit_id = uuid.uuid4()
            unit = reports_models.DirectoryUnit(
                id=unit_id,
                parent_id=parent.id,
                path=f"{parent.path}{unit_id}/",
                code=row["code"],
                name=row["name"],
            )
            rsession.add(unit)
            units[row["code"]] = unit
    rsession.commit()
    return units
