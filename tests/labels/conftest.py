"""Labels tests: the labels database (rolled back per test) with a directory copy, and the
products database (for the lots and products labels are ordered for), both in scope A/B like
the products tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.labels.models import DirectoryEstablishment, DirectoryUnit
from tests.products.conftest import pclient, psession, pworld  # noqa: F401 - products side
from tests.products.factories import auth


@pytest.fixture
def lsession(labels_db: Any) -> Iterator[Any]:
    session = labels_db.session()
    yield session
    session.close()


@pytest.fixture
def lclient(labels_app: Any, labels_db: Any) -> Any:
    return labels_app.test_client()


@dataclass
class LWorld:
    """The products world (`pworld`: units root/A/A1/B, establishments est_a, est_a2 in A1,
    est_b in B, tokens per role) mirrored into the labels service's directory copy."""

    products: Any
    tokens: dict[str, str]
    extras: dict[str, Any] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return auth(self.tokens[who]) if who != "anonymous" else {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.products, name)


@pytest.fixture
def lworld(pworld: Any, lsession: Any) -> LWorld:  # noqa: F811 - fixture from products
    for unit in (pworld.root, pworld.unit_a, pworld.unit_a1, pworld.unit_b):
        lsession.add(
            DirectoryUnit(
                id=unit.id, parent_id=unit.parent_id, path=unit.path, code=unit.code, name=unit.name
            )
        )
    for est in (pworld.est_a, pworld.est_a2, pworld.est_b):
        lsession.add(
            DirectoryEstablishment(
                **{
                    column: getattr(est, column)
                    for column in (
                        "id",
                        "unit_id",
                        "unit_path",
                        "name",
                        "address",
                        "phone",
                        "representative",
                        "business_registration_no",
                        "food_safety_status",
                        "certificate_no",
                        "certificate_issuer",
                        "certificate_expires_on",
                        "ocop",
                        "status",
                        "account_status",
                    )
                }
            )
        )
    lsession.commit()
    return LWorld(pworld, pworld.tokens)
