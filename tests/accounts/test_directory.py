"""The directory other services copy: the internal endpoint and the doorbell."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.auth import mint_service_token
from tests.accounts.factories import auth

pytestmark = pytest.mark.smoke


def service_headers(accounts_app: Any) -> dict[str, str]:
    secret = accounts_app.config["SETTINGS"].service_secret
    return auth(mint_service_token(secret, "products"))


def test_directory_lists_units_and_establishments(
    client: Any, accounts_app: Any, world: Any
) -> None:
    response = client.get("/api/v1/internal/directory", headers=service_headers(accounts_app))
    assert response.status_code == 200, response.json
    body = response.json
    assert {u["code"] for u in body["units"]} >= {"ROOT", "DIST-A", "COMM-A1", "DIST-B"}
    by_name = {e["name"]: e for e in body["establishments"]}
    est_a = by_name["HTX Chè Đường Hoa"]
    assert est_a["unit_id"] == str(world.unit_a1.id)
    assert est_a["unit_path"] == world.unit_a1.path
    assert est_a["account_status"] == "active"
    assert body["next_after"] is None


def test_directory_since_returns_only_changes(
    client: Any, accounts_app: Any, world: Any, session: Any
) -> None:
    headers = service_headers(accounts_app)
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    quiet = client.get("/api/v1/internal/directory", query_string={"since": later}, headers=headers)
    assert quiet.json["establishments"] == []
    before = datetime.now(UTC)
    world.owner_b.status = "suspended"
    session.commit()
    changed = client.get(
        "/api/v1/internal/directory", query_string={"since": before.isoformat()}, headers=headers
    ).json["establishments"]
    assert [(e["name"], e["account_status"]) for e in changed] == [
        ("Cơ sở Miến dong Bình Liêu", "suspended")
    ]


def test_directory_pages_by_id(client: Any, accounts_app: Any, world: Any) -> None:
    headers = service_headers(accounts_app)
    first = client.get("/api/v1/internal/directory?limit=1", headers=headers).json
    assert len(first["establishments"]) == 1
    assert first["next_after"]
    second = client.get(
        f"/api/v1/internal/directory?limit=1&after={first['next_after']}", headers=headers
    ).json
    assert second["units"] is None
    assert second["establishments"][0]["id"] > first["establishments"][0]["id"]


def test_directory_refuses_people(client: Any, world: Any) -> None:
    response = client.get("/api/v1/internal/directory", headers=auth(world.token("admin")))
    assert response.status_code == 403
