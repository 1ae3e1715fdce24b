"""Management units: create, rename, move, retire, history; scope of reads."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts.factories import auth

pytestmark = pytest.mark.smoke


def test_admin_creates_renames_moves_and_retires_a_unit(client: Any, world: Any) -> None:
    admin = auth(world.token("admin"))
    created = client.post(
        "/api/v1/units/",
        headers=admin,
        json={
            "code": "phuong-hong-gai",
            "name": "Phường Hồng Gai",
            "level": "ward",
            "parent_id": str(world.unit_a.id),
        },
    )
    assert created.status_code == 201, created.json
    unit = created.json
    assert unit["code"] == "PHUONG-HONG-GAI"
    assert unit["login_prefix"] == "phuong-hong-gai"
    unit_id = unit["id"]

    got = client.get(f"/api/v1/units/{unit_id}", headers=admin)
    assert got.headers["ETag"] == '"1"'

    renamed = client.patch(
        f"/api/v1/units/{unit_id}",
        headers={**admin, "If-Match": '"1"'},
        json={"name": "Phường Hồng Gai (mới)", "reason": "Sáp nhập 2025"},
    )
    assert renamed.status_code == 200, renamed.json
    assert renamed.json["version"] == 2

    stale = client.patch(
        f"/api/v1/units/{unit_id}", headers={**admin, "If-Match": '"1"'}, json={"name": "Ghi đè"}
    )
    assert stale.status_code == 412
    assert stale.json["code"] == "stale_version"

    moved = client.patch(
        f"/api/v1/units/{unit_id}", headers=admin, json={"parent_id": str(world.unit_b.id)}
    )
    assert moved.status_code == 200
    assert moved.json["parent_id"] == str(world.unit_b.id)
    # Agency A no longer sees it; agency B does.
    assert (
        client.get(f"/api/v1/units/{unit_id}", headers=auth(world.token("agency_a"))).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/units/{unit_id}", headers=auth(world.token("agency_b"))).status_code
        == 200
    )

    retired = client.post(
        f"/api/v1/units/{unit_id}/retire",
        headers=admin,
        json={"reason": "Chính quyền hai cấp từ 01/7/2025"},
    )
    assert retired.status_code == 200
    assert retired.json["status"] == "retired"
    assert retired.json["retired_at"]

    history = client.get(f"/api/v1/units/{unit_id}/history", headers=admin).json
    assert [h["action"] for h in history] == [
        "unit.create",
        "unit.update",
        "unit.move",
        "unit.retire",
    ]
    assert history[1]["before"]["name"] == "Phường Hồng Gai"
    assert history[1]["reason"] == "Sáp nhập 2025"
    # A retired unit stays listed (reports of past years show it).
    codes = [u["code"] for u in client.get("/api/v1/units/?status=retired", headers=admin).json]
    assert codes == ["PHUONG-HONG-GAI"]


def test_moving_a_unit_moves_its_subtree_and_scope(client: Any, world: Any) -> None:
    admin = auth(world.token("admin"))
    # Move district A (with commune A1 and est_a) under district B.
    response = client.patch(
        f"/api/v1/units/{world.unit_a.id}", headers=admin, json={"parent_id": str(world.unit_b.id)}
    )
    assert response.status_code == 200
    seen_by_b = {
        u["code"] for u in client.get("/api/v1/units/", headers=auth(world.token("agency_b"))).json
    }
    assert seen_by_b == {"DIST-B", "DIST-A", "COMM-A1"}
    assert (
        client.get(
            f"/api/v1/establishments/{world.est_a.id}", headers=auth(world.token("agency_b"))
        ).status_code
        == 200
    )


def test_a_unit_cannot_move_under_its_own_subtree(client: Any, world: Any) -> None:
    response = client.patch(
        f"/api/v1/units/{world.unit_a.id}",
        headers=auth(world.token("admin")),
        json={"parent_id": str(world.unit_a1.id)},
    )
    assert response.status_code == 422
    assert response.json["code"] == "unit_cycle"


def test_retiring_a_unit_that_still_manages_something_is_refused(client: Any, world: Any) -> None:
    response = client.post(
        f"/api/v1/units/{world.unit_a1.id}/retire",
        headers=auth(world.token("admin")),
        json={"reason": "thử"},
    )
    assert response.status_code == 409
    assert response.json["code"] == "unit_in_use"
    assert response.json["blockers"] == {"establishments": 1}


def test_duplicate_codes_and_prefixes_are_refused(client: Any, world: Any) -> None:
    admin = auth(world.token("admin"))
    dup = client.post(
        "/api/v1/units/",
        headers=admin,
        json={"code": "dist-a", "name": "Trùng", "level": "district"},
    )
    assert dup.status_code == 409
    assert dup.json["code"] == "duplicate_code"
    prefix = client.post(
        "/api/v1/units/",
        headers=admin,
        json={"code": "NEW", "name": "Mới", "level": "district", "login_prefix": "dist-a"},
    )
    assert prefix.status_code == 409
    assert prefix.json["code"] == "duplicate_prefix"


def test_unit_search_ignores_diacritics(client: Any, world: Any) -> None:
    found = client.get("/api/v1/units/?q=dam ha", headers=auth(world.token("admin"))).json
    assert [u["code"] for u in found] == ["DIST-A"]


def test_units_list_is_scoped(client: Any, world: Any) -> None:
    def codes(who: str) -> set[str]:
        return {
            u["code"] for u in client.get("/api/v1/units/", headers=auth(world.token(who))).json
        }

    assert codes("admin") >= {"ROOT", "DIST-A", "COMM-A1", "DIST-B"}
    assert codes("agency_a") == {"DIST-A", "COMM-A1"}
    assert codes("owner_a") == {"COMM-A1"}
