"""Account lifecycle through the API: each operation, its audit row, and old tokens refused."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from services.accounts.models import Account, AuditEvent
from tests.accounts.factories import PASSWORD, auth

pytestmark = pytest.mark.smoke


def _audit(session: Any, account_id: Any, action: str) -> AuditEvent:
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.target_id == str(account_id), AuditEvent.action == action)
        .order_by(AuditEvent.id.desc())
    )
    assert event is not None, f"no audit row for {action}"
    return event


def _login(client: Any, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_agency_grants_an_operating_account_named_by_the_unit_rule(
    client: Any, world: Any, session: Any
) -> None:
    from tests.accounts.factories import EstablishmentFactory

    est = EstablishmentFactory(name="Cơ sở mới Quảng Tân", unit=world.unit_a1)
    session.commit()
    response = client.post(
        "/api/v1/accounts/",
        headers=auth(world.token("agency_a")),
        json={"role": "establishment", "establishment_id": str(est.id), "reason": "Mẫu 03"},
    )
    assert response.status_code == 201, response.json
    body = response.json
    assert body["account"]["username"] == "comm-a1.00001"
    assert body["account"]["display_name"] == "Cơ sở mới Quảng Tân"
    assert body["account"]["must_change_password"] is True
    otp = body["one_time_password"]
    event = _audit(session, body["account"]["id"], "account.grant")
    assert event.actor_username == "canbo.a"
    assert event.reason == "Mẫu 03"
    assert event.after["username"] == "comm-a1.00001"
    assert event.unit_id == world.unit_a1.id
    # The one-time password logs in, and must be changed first.
    first = _login(client, "comm-a1.00001", otp)
    assert first.status_code == 200
    assert first.json["must_change_password"] is True
    # The next grant in the unit takes the next number.
    est2 = EstablishmentFactory(unit=world.unit_a1)
    session.commit()
    again = client.post(
        "/api/v1/accounts/",
        headers=auth(world.token("agency_a")),
        json={"role": "establishment", "establishment_id": str(est2.id)},
    )
    assert again.json["account"]["username"] == "comm-a1.00002"


def test_one_establishment_one_live_account(client: Any, world: Any) -> None:
    response = client.post(
        "/api/v1/accounts/",
        headers=auth(world.token("admin")),
        json={"role": "establishment", "establishment_id": str(world.est_a.id)},
    )
    assert response.status_code == 409
    assert response.json["code"] == "establishment_has_account"


def test_admin_grants_an_agency_account_with_a_chosen_name(
    client: Any, world: Any, session: Any
) -> None:
    response = client.post(
        "/api/v1/accounts/",
        headers=auth(world.token("admin")),
        json={
            "role": "agency",
            "unit_id": str(world.unit_b.id),
            "username": "Nguyễn.Văn.Bình",
            "display_name": "Nguyễn Văn Bình",
            "email": "binh@example.vn",
        },
    )
    assert response.status_code == 201, response.json
    assert response.json["account"]["username"] == "nguyen.van.binh"
    taken = client.post(
        "/api/v1/accounts/",
        headers=auth(world.token("admin")),
        json={"role": "agency", "unit_id": str(world.unit_b.id), "username": "NGUYEN.VAN.BINH"},
    )
    assert taken.status_code == 409
    assert taken.json["code"] == "username_taken"


@pytest.mark.parametrize("actor", ["admin", "agency_a"])
def test_suspend_ends_old_tokens_and_reactivate_restores_login(
    client: Any, world: Any, session: Any, actor: str
) -> None:
    victim_token = world.token("owner_a")
    assert client.get("/api/v1/auth/me", headers=auth(victim_token)).status_code == 200
    response = client.post(
        f"/api/v1/accounts/{world.owner_a.id}/suspend",
        headers=auth(world.token(actor)),
        json={"reason": "Vi phạm ATTP"},
    )
    assert response.status_code == 200, response.json
    assert response.json["status"] == "suspended"
    assert client.get("/api/v1/auth/me", headers=auth(victim_token)).status_code == 401
    assert _login(client, "coso.a", PASSWORD).json["code"] == "account_inactive"
    event = _audit(session, world.owner_a.id, "account.suspend")
    assert event.reason == "Vi phạm ATTP"
    assert event.before["status"] == "active"
    assert event.after["status"] == "suspended"
    assert event.after["token_version"] == event.before["token_version"] + 1

    again = client.post(
        f"/api/v1/accounts/{world.owner_a.id}/suspend",
        headers=auth(world.token(actor)),
        json={"reason": "lần hai"},
    )
    assert again.status_code == 409
    assert again.json["code"] == "invalid_state"

    back = client.post(
        f"/api/v1/accounts/{world.owner_a.id}/reactivate", headers=auth(world.token(actor)), json={}
    )
    assert back.status_code == 200
    assert back.json["status"] == "active"
    _audit(session, world.owner_a.id, "account.reactivate")
    assert _login(client, "coso.a", PASSWORD).status_code == 200
    # Reactivation does not bring the old token back.
    assert client.get("/api/v1/auth/me", headers=auth(victim_token)).status_code == 401


def test_revoke_then_regrant(client: Any, world: Any, session: Any) -> None:
    token = world.token("owner_b")
    revoked = client.post(
        f"/api/v1/accounts/{world.owner_b.id}/revoke",
        headers=auth(world.token("agency_b")),
        json={"reason": "Cơ sở ngừng hoạt động"},
    )
    assert revoked.status_code == 200
    assert revoked.json["status"] == "revoked"
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401
    _audit(session, world.owner_b.id, "account.revoke")
    # Revoked accounts are not reactivated, only re-granted.
    no = client.post(
        f"/api/v1/accounts/{world.owner_b.id}/reactivate",
        headers=auth(world.token("agency_b")),
        json={},
    )
    assert no.status_code == 409
    regranted = client.post(
        f"/api/v1/accounts/{world.owner_b.id}/regrant",
        headers=auth(world.token("agency_b")),
        json={"reason": "Cơ sở hoạt động lại (Mẫu 03)"},
    )
    assert regranted.status_code == 200, regranted.json
    otp = regranted.json["one_time_password"]
    assert regranted.json["account"]["status"] == "active"
    assert regranted.json["account"]["must_change_password"] is True
    _audit(session, world.owner_b.id, "account.regrant")
    assert _login(client, "coso.b", PASSWORD).status_code == 401
    assert _login(client, "coso.b", otp).status_code == 200


def test_regrant_only_from_revoked(client: Any, world: Any) -> None:
    response = client.post(
        f"/api/v1/accounts/{world.owner_b.id}/regrant",
        headers=auth(world.token("agency_b")),
        json={"reason": "x"},
    )
    assert response.status_code == 409


def test_password_reissue(client: Any, world: Any, session: Any) -> None:
    token = world.token("owner_a")
    response = client.post(
        f"/api/v1/accounts/{world.owner_a.id}/password",
        headers=auth(world.token("agency_a")),
        json={"reason": "Chủ cơ sở quên mật khẩu"},
    )
    assert response.status_code == 200, response.json
    otp = response.json["one_time_password"]
    assert len(otp) == 14
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401
    assert _login(client, "coso.a", PASSWORD).status_code == 401
    fresh = _login(client, "coso.a", otp)
    assert fresh.json["must_change_password"] is True
    event = _audit(session, world.owner_a.id, "account.password_reissue")
    assert "password_hash" not in event.after
    assert otp not in str(event.after)


def test_rename_keeps_history_and_reserves_the_old_name(
    client: Any, world: Any, session: Any
) -> None:
    response = client.post(
        f"/api/v1/accounts/{world.owner_a.id}/rename",
        headers=auth(world.token("agency_a")),
        json={"username": "htx.che.duong.hoa", "reason": "Theo tên HTX"},
    )
    assert response.status_code == 200, response.json
    assert response.json["username"] == "htx.che.duong.hoa"
    history = client.get(
        f"/api/v1/accounts/{world.owner_a.id}/usernames", headers=auth(world.token("agency_a"))
    ).json
    assert [h["username"] for h in history] == ["coso.a", "htx.che.duong.hoa"]
    assert history[0]["valid_to"] is not None
    assert history[1]["valid_to"] is None
    event = _audit(session, world.owner_a.id, "account.rename")
    assert (event.before["username"], event.after["username"]) == ("coso.a", "htx.che.duong.hoa")
    assert _login(client, "htx.che.duong.hoa", PASSWORD).status_code == 200
    # Nobody else may take the old name; the account itself may take it back.
    clash = client.post(
        f"/api/v1/accounts/{world.owner_b.id}/rename",
        headers=auth(world.token("admin")),
        json={"username": "coso.a"},
    )
    assert clash.status_code == 409
    back = client.post(
        f"/api/v1/accounts/{world.owner_a.id}/rename",
        headers=auth(world.token("admin")),
        json={"username": "coso.a"},
    )
    assert back.status_code == 200


def test_nobody_manages_their_own_account_through_lifecycle(client: Any, world: Any) -> None:
    response = client.post(
        f"/api/v1/accounts/{world.admin.id}/suspend",
        headers=auth(world.token("admin")),
        json={"reason": "thử"},
    )
    assert response.status_code == 403


def test_audit_trail_of_an_account(client: Any, world: Any) -> None:
    client.post(
        f"/api/v1/accounts/{world.owner_a.id}/suspend",
        headers=auth(world.token("agency_a")),
        json={"reason": "Kiểm tra"},
    )
    client.post(
        f"/api/v1/accounts/{world.owner_a.id}/reactivate",
        headers=auth(world.token("agency_a")),
        json={},
    )
    trail = client.get(
        f"/api/v1/accounts/{world.owner_a.id}/audit", headers=auth(world.token("agency_a"))
    )
    assert trail.status_code == 200
    assert [e["action"] for e in trail.json][:2] == ["account.reactivate", "account.suspend"]
    assert "X-Pagination" in trail.headers
    listing = client.get(
        "/api/v1/accounts/audit-events?action=account.suspend",
        headers=auth(world.token("agency_a")),
    )
    assert [e["target_id"] for e in listing.json] == [str(world.owner_a.id)]
    # Agency B sees nothing of unit A's audit rows.
    other = client.get(
        "/api/v1/accounts/audit-events?action=account.suspend",
        headers=auth(world.token("agency_b")),
    )
    assert other.json == []


def test_audit_log_is_append_only_in_the_database(session: Any, world: Any) -> None:
    from services.accounts.domain import audit
    from shared.auth import Principal

    audit.record(
        session,
        actor=Principal(role="admin", username="t"),
        action="test",
        target_type="account",
        target_id="x",
        unit_id=None,
    )
    session.flush()
    for statement in ("UPDATE audit_events SET reason = 'changed'", "DELETE FROM audit_events"):
        nested = session.begin_nested()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        nested.rollback()


def test_lifecycle_state_is_unchanged_by_a_refused_operation(
    client: Any, world: Any, session: Any
) -> None:
    before = session.get(Account, world.owner_a.id).token_version
    response = client.post(
        f"/api/v1/accounts/{world.owner_a.id}/suspend",
        headers=auth(world.token("agency_a")),
        json={"reason": ""},
    )
    assert response.status_code == 422
    session.expire_all()
    account = session.get(Account, world.owner_a.id)
    assert account.status == "active"
    assert account.token_version == before
