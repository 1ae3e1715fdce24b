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
    extras: dict[str, Any]

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
        {},
    )


@pytest.fixture
def world_with_work(world: World, accounts_app: Any, session: Any) -> World:
    """The world plus an import job, a finished bulk grant with its file, and an application,
    all in scope A and started by agency A."""
    import io
    import uuid

    from services.accounts.domain import registrations
    from services.accounts.models import Job
    from shared.excel import SheetSpec, write_xlsx

    job = Job(
        id=uuid.uuid4(),
        kind="import",
        status="done",
        created_by=world.agency_a.id,
        unit_id=world.unit_a.id,
        params={"file": "", "dry_run": False},
        result={},
    )
    key = f"accounts/bulk-grants/{uuid.uuid4()}.xlsx"
    buffer = io.BytesIO()
    write_xlsx(buffer, [SheetSpec("x", ["a"], [["b"]])])
    accounts_app.extensions["trace_files"].save(key, buffer.getvalue())
    grant_job = Job(
        id=uuid.uuid4(),
        kind="bulk_grant",
        status="done",
        created_by=world.agency_a.id,
        unit_id=world.unit_a.id,
        params={"establishment_ids": []},
        result={"file": key},
    )
    session.add_all([job, grant_job])
    submitted = registrations.submit(
        session,
        actor=None,
        kind="grant",
        unit_id=world.unit_a1.id,
        data={
            "name": "Cơ sở xin cấp tài khoản",
            "business_registration_no": "5799999999",
            "representative": "Trần Thị Lan",
            "phone": "0912000111",
        },
    )
    session.commit()
    world.extras.update(
        job=job,
        grant_job=grant_job,
        registration=submitted.registration,
        applicant_token=submitted.applicant_token,
    )
    return world
