"""Every endpoint × every role × own / other scope [ASVS 8; RELIABILITY 15].

Targets belong to scope A (unit A1, establishment A, its owner). "agency_a" covers them,
"agency_b" does not; "owner_a" is the establishment itself, "owner_b" another one. Outside
one's scope the answer is 404 (existence not revealed); a role without the capability gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.accounts.factories import EstablishmentFactory, auth

pytestmark = pytest.mark.smoke

CALLERS = ("anon", "admin", "agency_a", "agency_b", "owner_a", "owner_b")


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[Any], str]
    expect: dict[str, int]
    body: Callable[[Any, Any], Any] = lambda world, session: None


def _new_establishment(world: Any, session: Any) -> dict[str, str]:
    est = EstablishmentFactory(unit=world.unit_a1)
    session.commit()
    return {"role": "establishment", "establishment_id": str(est.id)}


def _everyone(status: int) -> dict[str, int]:
    return {"anon": 401, **{c: status for c in CALLERS if c != "anon"}}


def _managers(admin: int, own: int, other: int) -> dict[str, int]:
    return {
        "anon": 401,
        "admin": admin,
        "agency_a": own,
        "agency_b": other,
        "owner_a": 403,
        "owner_b": 403,
    }


def _admin_only(admin: int) -> dict[str, int]:
    return {
        "anon": 401,
        "admin": admin,
        "agency_a": 403,
        "agency_b": 403,
        "owner_a": 403,
        "owner_b": 403,
    }


ACCOUNT = "/api/v1/accounts/{}"
ENDPOINTS = [
    Endpoint("units.list", "GET", lambda w: "/api/v1/units/", _everyone(200)),
    Endpoint(
        "units.create",
        "POST",
        lambda w: "/api/v1/units/",
        _admin_only(201),
        lambda w, s: {
            "code": "NEW-UNIT",
            "name": "Xã Mới",
            "level": "commune",
            "parent_id": str(w.unit_a.id),
        },
    ),
    Endpoint(
        "units.get",
        "GET",
        lambda w: f"/api/v1/units/{w.unit_a1.id}",
        {
            "anon": 401,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 404,
            "owner_a": 200,
            "owner_b": 404,
        },
    ),
    Endpoint(
        "units.update",
        "PATCH",
        lambda w: f"/api/v1/units/{w.unit_a1.id}",
        _admin_only(200),
        lambda w, s: {"name": "Xã Quảng Tân mới"},
    ),
    Endpoint(
        "units.retire",
        "POST",
        lambda w: f"/api/v1/units/{w.unit_a1.id}/retire",
        _admin_only(409),
        lambda w, s: {"reason": "thử"},
    ),
    Endpoint(
        "units.history",
        "GET",
        lambda w: f"/api/v1/units/{w.unit_a1.id}/history",
        _managers(200, 200, 404),
    ),
    Endpoint("establishments.list", "GET", lambda w: "/api/v1/establishments/", _everyone(200)),
    Endpoint(
        "establishments.create",
        "POST",
        lambda w: "/api/v1/establishments/",
        _managers(201, 201, 422),
        lambda w, s: {"name": "Cơ sở mới", "unit_id": str(w.unit_a1.id)},
    ),
    Endpoint(
        "establishments.get",
        "GET",
        lambda w: f"/api/v1/establishments/{w.est_a.id}",
        {
            "anon": 401,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 404,
            "owner_a": 200,
            "owner_b": 404,
        },
    ),
    Endpoint("accounts.list", "GET", lambda w: "/api/v1/accounts/", _managers(200, 200, 200)),
    Endpoint(
        "accounts.grant_establishment",
        "POST",
        lambda w: "/api/v1/accounts/",
        _managers(201, 201, 422),
        _new_establishment,
    ),
    Endpoint(
        "accounts.grant_agency",
        "POST",
        lambda w: "/api/v1/accounts/",
        _admin_only(201),
        lambda w, s: {"role": "agency", "unit_id": str(w.unit_a.id), "username": "canbo.moi"},
    ),
    Endpoint(
        "accounts.get",
        "GET",
        lambda w: ACCOUNT.format(w.owner_a.id),
        {
            "anon": 401,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 404,
            "owner_a": 200,
            "owner_b": 404,
        },
    ),
    Endpoint(
        "accounts.get_agency",
        "GET",
        lambda w: ACCOUNT.format(w.agency_a.id),
        {
            "anon": 401,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 404,
            "owner_a": 404,
            "owner_b": 404,
        },
    ),
    Endpoint(
        "accounts.rename",
        "POST",
        lambda w: ACCOUNT.format(w.owner_a.id) + "/rename",
        _managers(200, 200, 404),
        lambda w, s: {"username": "ten.moi"},
    ),
    Endpoint(
        "accounts.suspend",
        "POST",
        lambda w: ACCOUNT.format(w.owner_a.id) + "/suspend",
        _managers(200, 200, 404),
        lambda w, s: {"reason": "thử"},
    ),
    Endpoint(
        "accounts.suspend_agency",
        "POST",
        lambda w: ACCOUNT.format(w.agency_a.id) + "/suspend",
        {
            "anon": 401,
            "admin": 200,
            "agency_a": 403,
            "agency_b": 404,
            "owner_a": 403,
            "owner_b": 403,
        },
        lambda w, s: {"reason": "thử"},
    ),
    Endpoint(
        "accounts.reactivate",
        "POST",
        lambda w: ACCOUNT.format(w.owner_a.id) + "/reactivate",
        _managers(409, 409, 404),
        lambda w, s: {},
    ),
    Endpoint(
        "accounts.revoke",
        "POST",
        lambda w: ACCOUNT.format(w.owner_a.id) + "/revoke",
        _managers(200, 200, 404),
        lambda w, s: {"reason": "thử"},
    ),
    Endpoint(
        "accounts.regrant",
        "POST",
        lambda w: ACCOUNT.format(w.owner_a.id) + "/regrant",
        _managers(409, 409, 404),
        lambda w, s: {"reason": "thử"},
    ),
    Endpoint(
        "accounts.password",
        "POST",
        lambda w: ACCOUNT.format(w.owner_a.id) + "/password",
        _managers(200, 200, 404),
        lambda w, s: {"reason": "thử"},
    ),
    Endpoint(
        "accounts.usernames",
        "GET",
        lambda w: ACCOUNT.format(w.owner_a.id) + "/usernames",
        {
            "anon": 401,
            "admin": 200,
            "agency_a": 200,
            "agency_b": 404,
            "owner_a": 200,
            "owner_b": 404,
        },
    ),
    Endpoint(
        "accounts.audit",
        "GET",
        lambda w: ACCOUNT.format(w.owner_a.id) + "/audit",
        _managers(200, 200, 404),
    ),
    Endpoint(
        "accounts.audit_events",
        "GET",
        lambda w: "/api/v1/accounts/audit-events",
        _managers(200, 200, 200),
    ),
    Endpoint("auth.me", "GET", lambda w: "/api/v1/auth/me", _everyone(200)),
    Endpoint(
        "auth.password",
        "POST",
        lambda w: "/api/v1/auth/me/password",
        _everyone(422),
        lambda w, s: {"current_password": "wrong one", "new_password": "x" * 20},
    ),
    Endpoint("auth.logout", "POST", lambda w: "/api/v1/auth/logout", _everyone(204)),
]

PUBLIC = {
    "auth.token": ("POST", "/api/v1/auth/token"),
    "auth.refresh": ("POST", "/api/v1/auth/refresh"),
    "auth.jwks": ("GET", "/api/v1/auth/jwks.json"),
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_matrix(client: Any, world: Any, session: Any, endpoint: Endpoint, caller: str) -> None:
    headers = {} if caller == "anon" else auth(world.token(caller))
    body = endpoint.body(world, session)
    response = client.open(endpoint.path(world), method=endpoint.method, headers=headers, json=body)
    assert response.status_code == endpoint.expect[caller], response.get_json()


def test_listings_show_only_the_callers_scope(client: Any, world: Any) -> None:
    def names(who: str, path: str, key: str) -> set[str]:
        return {row[key] for row in client.get(path, headers=auth(world.token(who))).json}

    assert names("agency_a", "/api/v1/establishments/", "name") == {"HTX Chè Đường Hoa"}
    assert names("owner_b", "/api/v1/establishments/", "name") == {"Cơ sở Miến dong Bình Liêu"}
    assert names("agency_a", "/api/v1/accounts/", "username") == {"canbo.a", "coso.a"}
    assert names("agency_b", "/api/v1/accounts/", "username") == {"canbo.b", "coso.b"}
    assert names("admin", "/api/v1/accounts/", "username") >= {
        "admin.test",
        "canbo.a",
        "canbo.b",
        "coso.a",
        "coso.b",
    }


def test_every_route_is_in_the_matrix(accounts_app: Any, world: Any) -> None:
    """A new endpoint must be added to the matrix (or to the public list) to pass."""
    covered = {(e.method, _template(e.path(world), world)) for e in ENDPOINTS}
    covered |= set(PUBLIC.values())
    routes = set()
    for rule in accounts_app.url_map.iter_rules():
        if (
            not rule.rule.startswith("/api/v1/")
            or "docs" in rule.rule
            or rule.rule.endswith("openapi.json")
        ):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add(
                (
                    method,
                    rule.rule.replace("<uuid:", "<").split(">")[0].split("<")[0]
                    + ("<id>" + rule.rule.split(">", 1)[1] if "<" in rule.rule else ""),
                )
            )
    missing = routes - covered
    assert not missing, f"endpoints missing from the authorisation matrix: {sorted(missing)}"


def _template(path: str, world: Any) -> str:
    for value in (world.unit_a1.id, world.est_a.id, world.owner_a.id, world.agency_a.id):
        path = path.replace(str(value), "<id>")
    return path
