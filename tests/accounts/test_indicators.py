"""The counts the reports service compiles Appendix 01 and 02 from: per unit (no roll-up),
as of a local day, with the unit an establishment had at the time and accounts granted and
revoked by then."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.accounts.domain import indicators
from services.accounts.models import AuditEvent, EstablishmentAssignment
from shared.clock import local_today
from shared.db import utcnow
from tests.accounts.factories import AccountFactory, EstablishmentFactory
from tests.accounts.test_directory import service_headers

pytestmark = pytest.mark.smoke


def _by_unit(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["unit_id"]: row for row in rows}


def test_counts_per_unit_today(client: Any, accounts_app: Any, world: Any, session: Any) -> None:
    EstablishmentFactory(unit=world.unit_a1, food_safety_status="certificate", ocop=True)
    EstablishmentFactory(unit=world.unit_a1, food_safety_status="commitment")
    closed = EstablishmentFactory(unit=world.unit_a1, food_safety_status="commitment")
    closed.status = "closed"
    cert_with = EstablishmentFactory(unit=world.unit_b, food_safety_status="certificate")
    AccountFactory(role="establishment", establishment=cert_with)
    revoked = EstablishmentFactory(unit=world.unit_b, food_safety_status="certificate")
    AccountFactory(role="establishment", establishment=revoked, status="revoked")
    session.commit()

    response = client.get(
        "/api/v1/internal/indicators/establishments", headers=service_headers(accounts_app)
    )
    assert response.status_code == 200, response.json
    assert response.json["as_of"] == local_today().isoformat()
    units = _by_unit(response.json["units"])
    # est_a (with owner_a's account) + the certificate/OCOP one + the commitment one; the
    # closed establishment is not counted.
    a1 = units[str(world.unit_a1.id)]
    assert a1 == {
        "unit_id": str(world.unit_a1.id),
        "establishments": 3,
        "certificate_subject": 1,
        "commitment_subject": 1,
        "ocop": 1,
        "with_account": 1,
        "certificate_with_account": 0,
        "commitment_with_account": 0,
        "ocop_with_account": 0,
    }
    b = units[str(world.unit_b.id)]
    assert (b["establishments"], b["certificate_subject"], b["with_account"]) == (3, 2, 2)
    assert b["certificate_with_account"] == 1  # the revoked account does not count
    # No roll-up here: the district and the province manage no establishment directly.
    assert str(world.unit_a.id) not in units
    assert str(world.root.id) not in units


def test_as_of_a_past_day_uses_the_unit_and_accounts_of_that_day(world: Any, session: Any) -> None:
    today = local_today()
    long_ago = utcnow() - timedelta(days=400)
    moved = EstablishmentFactory(unit=world.unit_b, food_safety_status="certificate")
    moved.created_at = long_ago
    # In unit A1 until 100 days ago, then moved to B.
    session.add_all(
        [
            EstablishmentAssignment(
                establishment_id=moved.id,
                unit_id=world.unit_a1.id,
                valid_from=long_ago,
                valid_to=utcnow() - timedelta(days=100),
            ),
            EstablishmentAssignment(
                establishment_id=moved.id,
                unit_id=world.unit_b.id,
                valid_from=utcnow() - timedelta(days=100),
            ),
        ]
    )
    account = AccountFactory(role="establishment", establishment=moved, status="revoked")
    account.created_at = long_ago
    # Granted 400 days ago, revoked 10 days ago.
    for action, when in (("account.grant", long_ago), ("account.revoke", 10)):
        session.add(
            AuditEvent(
                occurred_at=when if isinstance(when, datetime) else utcnow() - timedelta(days=when),
                actor_username="admin.test",
                actor_role="admin",
                action=action,
                target_type="account",
                target_id=str(account.id),
                unit_id=world.unit_a1.id,
            )
        )
    session.flush()

    then = {
        c.unit_id: c
        for c in indicators.establishment_counts(session, today - timedelta(days=200), today=today)
    }
    assert then[world.unit_a1.id].certificate_with_account == 1
    assert world.unit_b.id not in then  # est_b was created today: not there 200 days ago
    week_ago = {
        c.unit_id: c
        for c in indicators.establishment_counts(session, today - timedelta(days=50), today=today)
    }
    assert week_ago[world.unit_b.id].certificate_subject == 1
    assert week_ago[world.unit_b.id].certificate_with_account == 1  # revoked only 10 days ago
    now = {c.unit_id: c for c in indicators.establishment_counts(session, today, today=today)}
    assert now[world.unit_b.id].certificate_with_account == 0
    # A day in the past, computed from the audit trail, agrees with today's shortcut.
    yesterday = {
        c.unit_id: c
        for c in indicators.establishment_counts(session, today - timedelta(days=1), today=today)
    }
    assert yesterday[world.unit_b.id].certificate_with_account == 0


def test_grants_per_local_month(client: Any, accounts_app: Any, world: Any, session: Any) -> None:
    est = EstablishmentFactory(unit=world.unit_a1)
    # 2024-04-30 17:30 UTC is 1 May 00:30 in Hà Nội: a May grant.
    AccountFactory(role="establishment", establishment=est).created_at = datetime(
        2024, 4, 30, 17, 30, tzinfo=UTC
    )
    est2 = EstablishmentFactory(unit=world.unit_b)
    AccountFactory(role="establishment", establishment=est2).created_at = datetime(
        2024, 4, 30, 16, 30, tzinfo=UTC
    )
    session.commit()
    response = client.get(
        "/api/v1/internal/indicators/grants?from=2024-04-01&to=2024-12-31",
        headers=service_headers(accounts_app),
    )
    assert response.status_code == 200, response.json
    months = {(m["unit_id"], m["month"]): m["granted"] for m in response.json["months"]}
    assert months == {(str(world.unit_a1.id), "2024-05"): 1, (str(world.unit_b.id), "2024-04"): 1}


@pytest.mark.parametrize(
    "query",
    [
        "from=2024-05-01&to=2024-04-01",
        "from=2024-05-01",
        "from=x&to=2024-01-01",
        "from=2000-01-01&to=2024-01-01",
    ],
)
def test_bad_periods_are_refused(client: Any, accounts_app: Any, world: Any, query: str) -> None:
    response = client.get(
        f"/api/v1/internal/indicators/grants?{query}", headers=service_headers(accounts_app)
    )
    assert response.status_code == 422
    assert response.content_type.startswith("application/problem+json")


def test_people_cannot_read_indicators(client: Any, world: Any) -> None:
    from tests.accounts.factories import auth

    for path in (
        "/api/v1/internal/indicators/establishments",
        "/api/v1/internal/indicators/grants?from=2024-01-01&to=2024-02-01",
    ):
        assert client.get(path).status_code == 401
        assert client.get(path, headers=auth(world.token("admin"))).status_code == 403


def test_bad_as_of(client: Any, accounts_app: Any, world: Any) -> None:
    response = client.get(
        "/api/v1/internal/indicators/establishments?as_of=2024-13-01",
        headers=service_headers(accounts_app),
    )
    assert response.status_code == 422
    _ = date
