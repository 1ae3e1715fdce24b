"""Bad input on every write [RELIABILITY 10, 16]: missing, wrong-typed, too long, malicious
values and fields the caller may not set → 422 problem with per-field errors in Vietnamese
and English, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from services.accounts.models import Account, AuditEvent, Establishment, Unit
from tests.accounts.factories import auth

pytestmark = pytest.mark.smoke

LONG = "x" * 5000
MALICIOUS = ["<script>alert(1)</script>", "'; DROP TABLE accounts; --", "=1+2", "../../etc"]


def _counts(session: Any) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(m))
        for m in (Unit, Establishment, Account, AuditEvent)
    )


def _assert_problem(response: Any, fields: set[str]) -> None:
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] in {"validation_error", "invalid_username", "weak_password"}
    assert body["message"]["vi"]
    assert body["message"]["en"]
    assert fields <= set(body["errors"]), body["errors"]
    for messages in body["errors"].values():
        for message in messages:
            assert message["vi"]
            assert message["en"]


CASES: list[tuple[str, str, str, dict[str, Any], set[str]]] = [
    # (who, method, path template, body, fields expected in errors)
    ("admin", "POST", "/api/v1/units/", {}, {"code", "name", "level"}),
    (
        "admin",
        "POST",
        "/api/v1/units/",
        {"code": 12, "name": ["x"], "level": "planet"},
        {"code", "name", "level"},
    ),
    (
        "admin",
        "POST",
        "/api/v1/units/",
        {"code": LONG, "name": LONG, "level": "ward"},
        {"code", "name"},
    ),
    (
        "admin",
        "POST",
        "/api/v1/units/",
        {"code": "<script>", "name": "x", "level": "ward"},
        {"code"},
    ),
    (
        "admin",
        "POST",
        "/api/v1/units/",
        {"code": "OK", "name": "x", "level": "ward", "parent_id": "not-a-uuid"},
        {"parent_id"},
    ),
    (
        "admin",
        "POST",
        "/api/v1/units/",
        {"code": "OK", "name": "x", "level": "ward", "status": "retired"},
        {"status"},
    ),
    ("admin", "PATCH", "/api/v1/units/{unit}", {"name": ""}, {"name"}),
    ("admin", "PATCH", "/api/v1/units/{unit}", {"path": "/evil/"}, {"path"}),
    ("admin", "POST", "/api/v1/units/{unit}/retire", {}, {"reason"}),
    ("agency_a", "POST", "/api/v1/establishments/", {"name": LONG}, {"name", "unit_id"}),
    (
        "agency_a",
        "POST",
        "/api/v1/establishments/",
        {"name": "nul\x00byte", "unit_id": "{unit}", "address": "a\x1bb"},
        {"name", "address"},
    ),
    (
        "admin",
        "POST",
        "/api/v1/units/",
        {"code": "OK", "name": "two\nlines", "level": "ward"},
        {"name"},
    ),
    (
        "agency_a",
        "POST",
        "/api/v1/establishments/",
        {"name": "x", "unit_id": "{unit}", "id": "{unit}"},
        {"id"},
    ),
    ("agency_a", "POST", "/api/v1/accounts/", {}, {"role"}),
    ("agency_a", "POST", "/api/v1/accounts/", {"role": "god"}, {"role"}),
    ("agency_a", "POST", "/api/v1/accounts/", {"role": "establishment"}, {"establishment_id"}),
    (
        "agency_a",
        "POST",
        "/api/v1/accounts/",
        {"role": "establishment", "establishment_id": "{est}", "status": "active"},
        {"status"},
    ),
    (
        "agency_a",
        "POST",
        "/api/v1/accounts/",
        {
            "role": "establishment",
            "establishment_id": "{est}",
            "email": "not an email",
            "phone": "call me",
        },
        {"email", "phone"},
    ),
    (
        "admin",
        "POST",
        "/api/v1/accounts/",
        {"role": "agency", "unit_id": "{unit}", "username": "a"},
        {"username"},
    ),
    (
        "admin",
        "POST",
        "/api/v1/accounts/",
        {"role": "agency", "unit_id": "{unit}", "username": "<script>x</script>"},
        {"username"},
    ),
    ("admin", "POST", "/api/v1/accounts/", {"role": "agency", "username": "no.unit"}, {"unit_id"}),
    (
        "agency_a",
        "POST",
        "/api/v1/accounts/{owner}/rename",
        {"username": "../../etc"},
        {"username"},
    ),
    (
        "agency_a",
        "POST",
        "/api/v1/accounts/{owner}/rename",
        {"username": "ok.name", "role": "admin"},
        {"role"},
    ),
    ("agency_a", "POST", "/api/v1/accounts/{owner}/suspend", {}, {"reason"}),
    ("agency_a", "POST", "/api/v1/accounts/{owner}/suspend", {"reason": LONG}, {"reason"}),
    ("agency_a", "POST", "/api/v1/accounts/{owner}/revoke", {"reason": None}, {"reason"}),
    ("agency_a", "POST", "/api/v1/accounts/{owner}/password", {"reason": "  "}, {"reason"}),
    (
        "owner_a",
        "POST",
        "/api/v1/auth/me/password",
        {"current_password": 5},
        {"current_password", "new_password"},
    ),
    (
        "anon",
        "POST",
        "/api/v1/auth/token",
        {"username": "", "password": ""},
        {"username", "password"},
    ),
    ("anon", "POST", "/api/v1/auth/token", {"username": LONG, "password": "x"}, {"username"}),
    ("anon", "POST", "/api/v1/auth/refresh", {}, {"refresh_token"}),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "fields"), CASES)
def test_bad_write_changes_nothing(
    client: Any,
    world: Any,
    session: Any,
    who: str,
    method: str,
    path: str,
    body: dict[str, Any],
    fields: set[str],
) -> None:
    ids = {"unit": world.unit_a1.id, "est": world.est_a.id, "owner": world.owner_a.id}
    path = path.format(**ids)
    body = {k: (v.format(**ids) if isinstance(v, str) and "{" in v else v) for k, v in body.items()}
    before = _counts(session)
    headers = {} if who == "anon" else auth(world.token(who))
    response = client.open(path, method=method, headers=headers, json=body)
    _assert_problem(response, fields)
    assert _counts(session) == before


@pytest.mark.parametrize("value", MALICIOUS)
def test_malicious_text_is_stored_verbatim_and_returned_as_data(
    client: Any, world: Any, value: str
) -> None:
    """Text is data: stored as given (NFC) and returned JSON-escaped, never interpreted."""
    response = client.post(
        "/api/v1/establishments/",
        headers=auth(world.token("agency_a")),
        json={"name": f"Cơ sở {value}", "unit_id": str(world.unit_a1.id)},
    )
    assert response.status_code == 201
    assert response.json["name"] == f"Cơ sở {value}".strip()
    assert response.mimetype == "application/json"


def test_not_json_body_is_a_problem(client: Any, world: Any) -> None:
    response = client.post(
        "/api/v1/units/",
        headers={**auth(world.token("admin")), "Content-Type": "application/json"},
        data="{not json",
    )
    assert response.status_code in {400, 422}
    assert response.mimetype == "application/problem+json"


def test_vietnamese_is_the_default_language_and_english_on_request(client: Any, world: Any) -> None:
    vi = client.post("/api/v1/units/", headers=auth(world.token("admin")), json={})
    en = client.post(
        "/api/v1/units/",
        headers={**auth(world.token("admin")), "Accept-Language": "en-GB,en;q=0.8"},
        json={},
    )
    assert vi.json["detail"] == "Dữ liệu gửi lên không hợp lệ."
    assert en.json["detail"] == "The submitted data is not valid."
    assert vi.json["errors"]["code"][0] == {
        "vi": "Thiếu trường bắt buộc.",
        "en": "Missing data for required field.",
    }


def test_oversized_body_is_413(client: Any, world: Any) -> None:
    response = client.post(
        "/api/v1/units/",
        headers=auth(world.token("admin")),
        data=b"x" * (21 * 1024 * 1024),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"
