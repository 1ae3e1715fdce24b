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
    headers: dict[str, str] | None = None
    multipart: bool = False


def _new_establishment(world: Any, session: Any) -> dict[str, str]:
    est = EstablishmentFactory(unit=world.unit_a1)
    session.commit()
    return {"role": "establishment", "establishment_id": str(est.id)}


def _small_list(world: Any, session: Any) -> dict[str, Any]:
    import io
    import tempfile
    from pathlib import Path

    from services.accounts.demo import establishment_rows, write_import_file

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "list.xlsx"
        write_import_file(path, establishment_rows(2, seed=3, unit_codes=["COMM-A1"]))
        data = path.read_bytes()
    return {"file": (io.BytesIO(data), "list.xlsx"), "dry_run": "true"}


def _application(world: Any, session: Any) -> dict[str, Any]:
    return {
        "unit_id": str(world.unit_a1.id),
        "name": "Cơ sở Quảng Tân",
        "business_registration_no": "5788888888",
        "representative": "Vũ Văn Nam",
        "phone": "0987654321",
    }


def _all(status: int) -> dict[str, int]:
    return dict.fromkeys(CALLERS, status)


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
    # establishments registry
    Endpoint(
        "establishments.update",
        "PATCH",
        lambda w: f"/api/v1/establishments/{w.est_a.id}",
        _managers(200, 200, 404),
        lambda w, s: {"phone": "0912345678"},
        headers={"If-Match": '"1"'},
    ),
    Endpoint(
        "establishments.move",
        "POST",
        lambda w: f"/api/v1/establishments/{w.est_a.id}/move",
        _managers(200, 200, 404),
        lambda w, s: {"unit_id": str(w.unit_a.id), "reason": "Chuyển quản lý"},
        headers={"If-Match": '"1"'},
    ),
    Endpoint(
        "establishments.history",
        "GET",
        lambda w: f"/api/v1/establishments/{w.est_a.id}/history",
        _managers(200, 200, 404),
    ),
    Endpoint(
        "establishments.export_xlsx",
        "GET",
        lambda w: "/api/v1/establishments/export.xlsx",
        _managers(200, 200, 200),
    ),
    Endpoint(
        "establishments.export_csv",
        "GET",
        lambda w: "/api/v1/establishments/export.csv",
        _managers(200, 200, 200),
    ),
    # jobs: import and bulk grant
    Endpoint(
        "jobs.template",
        "GET",
        lambda w: "/api/v1/jobs/import-template.xlsx",
        _managers(200, 200, 200),
    ),
    Endpoint(
        "jobs.import",
        "POST",
        lambda w: "/api/v1/jobs/imports",
        _managers(202, 202, 202),
        _small_list,
        multipart=True,
    ),
    Endpoint(
        "jobs.bulk_grant",
        "POST",
        lambda w: "/api/v1/jobs/bulk-grants",
        _managers(202, 202, 202),
        lambda w, s: {"establishment_ids": [str(w.est_b.id)]},
    ),
    Endpoint(
        "jobs.get",
        "GET",
        lambda w: f"/api/v1/jobs/{w.extras['job'].id}",
        {**_managers(200, 200, 404), "owner_a": 404, "owner_b": 404},
    ),
    Endpoint(
        "jobs.rows",
        "GET",
        lambda w: f"/api/v1/jobs/{w.extras['job'].id}/rows",
        {**_managers(200, 200, 404), "owner_a": 404, "owner_b": 404},
    ),
    Endpoint(
        "jobs.report",
        "GET",
        lambda w: f"/api/v1/jobs/{w.extras['job'].id}/report.xlsx",
        {**_managers(200, 200, 404), "owner_a": 404, "owner_b": 404},
    ),
    Endpoint(
        "jobs.result",
        "GET",
        lambda w: f"/api/v1/jobs/{w.extras['grant_job'].id}/result.xlsx",
        {**_managers(404, 200, 404), "owner_a": 404, "owner_b": 404},
    ),
    # registrations (Mẫu 03)
    Endpoint("registrations.units", "GET", lambda w: "/api/v1/registrations/units", _all(200)),
    Endpoint(
        "registrations.submit",
        "POST",
        lambda w: "/api/v1/registrations/",
        {**_managers(201, 201, 422), "anon": 201},
        _application,
    ),
    Endpoint(
        "registrations.inbox", "GET", lambda w: "/api/v1/registrations/", _managers(200, 200, 200)
    ),
    Endpoint(
        "registrations.get",
        "GET",
        lambda w: f"/api/v1/registrations/{w.extras['registration'].id}",
        _managers(200, 200, 404),
    ),
    Endpoint(
        "registrations.request_changes",
        "POST",
        lambda w: f"/api/v1/registrations/{w.extras['registration'].id}/request-changes",
        _managers(200, 200, 404),
        lambda w, s: {"reason": "Thiếu số điện thoại"},
    ),
    Endpoint(
        "registrations.reject",
        "POST",
        lambda w: f"/api/v1/registrations/{w.extras['registration'].id}/reject",
        _managers(200, 200, 404),
        lambda w, s: {"reason": "Không thuộc diện"},
    ),
    Endpoint(
        "registrations.approve",
        "POST",
        lambda w: f"/api/v1/registrations/{w.extras['registration'].id}/approve",
        _managers(200, 200, 404),
    ),
    Endpoint(
        "registrations.applicant",
        "GET",
        lambda w: (
            f"/api/v1/registrations/{w.extras['registration'].id}/applicant"
            f"?token={w.extras['applicant_token']}"
        ),
        _all(200),
    ),
    Endpoint(
        "registrations.applicant_resubmit",
        "PUT",
        lambda w: (
            f"/api/v1/registrations/{w.extras['registration'].id}/applicant"
            f"?token={w.extras['applicant_token']}"
        ),
        _all(409),
        _application,
    ),
]

_SERVICE_ONLY = {
    "anon": 401,
    "admin": 403,
    "agency_a": 403,
    "agency_b": 403,
    "owner_a": 403,
    "owner_b": 403,
}
ENDPOINTS.append(
    Endpoint(
        "internal.get_establishment_indicators",
        "GET",
        lambda w: "/api/v1/internal/indicators/establishments",
        _SERVICE_ONLY,
    )
)
ENDPOINTS.append(
    Endpoint(
        "internal.get_grant_indicators",
        "GET",
        lambda w: "/api/v1/internal/indicators/grants?from=2024-01-01&to=2024-12-31",
        _SERVICE_ONLY,
    )
)
ENDPOINTS.append(
    Endpoint(
        "internal.directory",
        "GET",
        lambda w: "/api/v1/internal/directory",
        # Service tokens only (tests/accounts/test_directory.py); people never.
        {
            "anon": 401,
            "admin": 403,
            "agency_a": 403,
            "agency_b": 403,
            "owner_a": 403,
            "owner_b": 403,
        },
    )
)

PUBLIC = {
    "auth.token": ("POST", "/api/v1/auth/token"),
    "auth.refresh": ("POST", "/api/v1/auth/refresh"),
    "auth.jwks": ("GET", "/api/v1/auth/jwks.json"),
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_matrix(
    client: Any, world_with_work: Any, session: Any, endpoint: Endpoint, caller: str
) -> None:
    world = world_with_work
    headers = {} if caller == "anon" else auth(world.token(caller))
    headers.update(endpoint.headers or {})
    body = endpoint.body(world, session)
    if endpoint.multipart:
        response = client.open(
            endpoint.path(world),
            method=endpoint.method,
            headers=headers,
            data=body,
            content_type="multipart/form-data",
        )
    else:
        response = client.open(
            endpoint.path(world), method=endpoint.method, headers=headers, json=body
        )
    response.close()  # file downloads keep their file open until closed
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


def test_every_route_is_in_the_matrix(accounts_app: Any, world_with_work: Any) -> None:
    """A new endpoint must be added to the matrix (or to the public list) to pass."""
    world = world_with_work
    covered = {(e.method, _template(e.path(world).split("?")[0], world)) for e in ENDPOINTS}
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
    ids = [world.unit_a1.id, world.est_a.id, world.owner_a.id, world.agency_a.id]
    ids += [world.extras[k].id for k in ("job", "grant_job", "registration")]
    for value in ids:
        path = path.replace(str(value), "<id>")
    return path
