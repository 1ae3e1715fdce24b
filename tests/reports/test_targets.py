"""The year's targets: the plan's defaults, set by the administrator with If-Match."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.smoke

NEW = {
    "certificate_accounts": 100,
    "commitment_accounts": 15,
    "ocop_accounts": 100,
    "qr_key_products": 90,
    "traceable_packaged": 85.5,
}


def test_defaults_then_set_by_the_administrator(rclient: Any, rworld: Any) -> None:
    defaults = rclient.get("/api/v1/targets/2025", headers=rworld.headers("agency_a")).json
    assert defaults["is_default"] is True
    assert defaults["version"] == 0
    assert [t["value"] for t in defaults["targets"]] == [100, 10, 100, 100, 80]
    assert defaults["targets"][4]["formula"] == "packaged_processed_traceable/packaged_processed"

    admin = rworld.headers("admin")
    saved = rclient.put("/api/v1/targets/2025", json=NEW, headers={**admin, "If-Match": '"0"'})
    assert saved.status_code == 200, saved.json
    assert saved.json["version"] == 1
    assert saved.json["traceable_packaged"] == 85.5
    # A stale version loses nothing: 412, and the saved values stay.
    stale = rclient.put(
        "/api/v1/targets/2025",
        json={**NEW, "commitment_accounts": 20},
        headers={**admin, "If-Match": '"0"'},
    )
    assert stale.status_code == 412
    assert rclient.get("/api/v1/targets/2025", headers=admin).json["commitment_accounts"] == 15
    # Another year keeps the defaults.
    assert rclient.get("/api/v1/targets/2026", headers=admin).json["commitment_accounts"] == 10


@pytest.mark.parametrize(
    "body",
    [
        {**NEW, "qr_key_products": 101},
        {**NEW, "qr_key_products": -1},
        {k: v for k, v in NEW.items() if k != "ocop_accounts"},
        {**NEW, "qr_key_products": "many"},
    ],
)
def test_bad_targets(rclient: Any, rworld: Any, body: dict[str, Any]) -> None:
    response = rclient.put("/api/v1/targets/2025", json=body, headers=rworld.headers("admin"))
    assert response.status_code == 422, response.json
    assert rclient.get("/api/v1/targets/2025", headers=rworld.headers("admin")).json["is_default"]


@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 401), ("agency_a", 403), ("owner_a", 403)]
)
def test_only_the_administrator_sets_targets(
    rclient: Any, rworld: Any, who: str, status: int
) -> None:
    response = rclient.put("/api/v1/targets/2025", json=NEW, headers=rworld.headers(who))
    assert response.status_code == status


def test_establishments_do_not_read_targets(rclient: Any, rworld: Any) -> None:
    assert rclient.get("/api/v1/targets/2025", headers=rworld.headers("owner_a")).status_code == 403
