"""Login, refresh, logout, the caller's account, password change, JWKS, token forgery."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest

from tests.accounts.factories import PASSWORD, AccountFactory, auth

pytestmark = pytest.mark.smoke


def login(client: Any, username: str, password: str = PASSWORD, **kwargs: Any) -> Any:
    return client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}, **kwargs
    )


def test_login_returns_tokens_that_open_me(client: Any, world: Any) -> None:
    response = login(client, "canbo.a")
    assert response.status_code == 200, response.json
    body = response.json
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 15 * 60
    assert body["account"]["username"] == "canbo.a"
    me = client.get("/api/v1/auth/me", headers=auth(body["access_token"]))
    assert me.status_code == 200
    assert me.json["role"] == "agency"
    assert me.json["unit_id"] == str(world.unit_a.id)


def test_login_name_is_normalised(client: Any, world: Any) -> None:
    assert login(client, "  CanBo.A ").status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client: Any, world: Any) -> None:
    wrong = login(client, "canbo.a", "not the password at all")
    unknown = login(client, "nobody.here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    for key in ("code", "message", "detail", "title"):
        assert wrong.json[key] == unknown.json[key]
    assert wrong.json["code"] == "invalid_credentials"
    assert wrong.json["message"]["vi"]
    assert wrong.json["message"]["en"]


def test_brute_force_is_throttled_whether_or_not_the_user_exists(
    client: Any, world: Any, accounts_app: Any
) -> None:
    limit = accounts_app.config["SETTINGS"].login_max_failures
    for name in ("canbo.a", "no.such.user"):
        for _ in range(limit):
            assert login(client, name, "wrong password 123").status_code == 401
        blocked = login(client, name, "wrong password 123")
        assert blocked.status_code == 429
        assert blocked.json["code"] == "login_throttled"
        assert int(blocked.headers["Retry-After"]) > 0
    # Throttled even with the right password until the window passes.
    assert login(client, "canbo.a").status_code == 429


def test_throttle_per_client_address_across_names(
    client: Any, world: Any, accounts_app: Any
) -> None:
    limit = accounts_app.config["SETTINGS"].login_max_failures * 5
    env = {"REMOTE_ADDR": "203.0.113.9"}
    for i in range(limit):
        assert login(client, f"guess{i}", "wrong password 123", environ_base=env).status_code == 401
    assert login(client, "canbo.b", environ_base=env).status_code == 429
    assert login(client, "canbo.b", environ_base={"REMOTE_ADDR": "203.0.113.10"}).status_code == 200


def test_suspended_account_cannot_log_in(client: Any, world: Any, session: Any) -> None:
    world.agency_b.status = "suspended"
    session.commit()
    response = login(client, "canbo.b")
    assert response.status_code == 401
    assert response.json["code"] == "account_inactive"


def test_one_time_password_must_be_changed_first(client: Any, world: Any, session: Any) -> None:
    world.owner_a.must_change_password = True
    session.commit()
    body = login(client, "coso.a").json
    assert body["must_change_password"] is True
    token = body["access_token"]
    blocked = client.get(f"/api/v1/establishments/{world.est_a.id}", headers=auth(token))
    assert blocked.status_code == 403
    assert blocked.json["code"] == "password_change_required"
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    new = "Chè Đường Hoa ngon nhất vùng"
    changed = client.post(
        "/api/v1/auth/me/password",
        headers=auth(token),
        json={"current_password": PASSWORD, "new_password": new},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["must_change_password"] is False
    # The old token dies with the change; the new password opens a normal session.
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401
    fresh = login(client, "coso.a", new).json
    assert fresh["must_change_password"] is False
    ok = client.get(f"/api/v1/establishments/{world.est_a.id}", headers=auth(fresh["access_token"]))
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("new_password", "code"),
    [
        ("short", "weak_password"),
        ("password", "weak_password"),
        ("12345678", "weak_password"),
        ("qwertyuiop", "weak_password"),
        ("canbo.a", "weak_password"),
    ],
)
def test_weak_new_passwords_are_refused(
    client: Any, world: Any, new_password: str, code: str
) -> None:
    token = world.token("agency_a")
    response = client.post(
        "/api/v1/auth/me/password",
        headers=auth(token),
        json={"current_password": PASSWORD, "new_password": new_password},
    )
    assert response.status_code == 422
    assert response.json["code"] == code
    assert "new_password" in response.json["errors"]
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 200


def test_long_vietnamese_passphrase_works_in_nfc_and_nfd(client: Any, world: Any) -> None:
    import unicodedata

    phrase = "Những con thuyền đánh cá trở về bến Cái Rồng lúc bình minh rực rỡ"
    assert len(phrase) >= 64
    token = world.token("agency_a")
    response = client.post(
        "/api/v1/auth/me/password",
        headers=auth(token),
        json={"current_password": PASSWORD, "new_password": unicodedata.normalize("NFD", phrase)},
    )
    assert response.status_code == 200, response.json
    assert login(client, "canbo.a", unicodedata.normalize("NFC", phrase)).status_code == 200


def test_wrong_current_password_changes_nothing(client: Any, world: Any) -> None:
    response = client.post(
        "/api/v1/auth/me/password",
        headers=auth(world.token("agency_a")),
        json={"current_password": "not it at all", "new_password": "một mật khẩu mới đủ dài"},
    )
    assert response.status_code == 422
    assert response.json["code"] == "wrong_password"
    assert login(client, "canbo.a").status_code == 200


def test_refresh_rotates_and_reuse_ends_the_session(client: Any, world: Any) -> None:
    first = login(client, "canbo.a").json
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    assert (
        client.get("/api/v1/auth/me", headers=auth(second.json["access_token"])).status_code == 200
    )
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    # Theft detected: the whole session is over, including the newest tokens.
    again = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second.json["refresh_token"]}
    )
    assert again.status_code == 401
    assert (
        client.get("/api/v1/auth/me", headers=auth(second.json["access_token"])).status_code == 401
    )


@pytest.mark.parametrize(
    "token", ["", "garbage", "6f1c7a8e-3b1d-4c2e-9f00-5b6d7e8f9a0b.nope", "a.b.c"]
)
def test_bad_refresh_tokens(client: Any, world: Any, token: str) -> None:
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": token})
    assert response.status_code in {401, 422}


def test_logout_ends_the_session_on_the_server(client: Any, world: Any) -> None:
    body = login(client, "canbo.a").json
    token = body["access_token"]
    assert client.post("/api/v1/auth/logout", headers=auth(token)).status_code == 204
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert refreshed.status_code == 401


def test_each_login_is_a_new_session(client: Any, world: Any) -> None:
    one = login(client, "canbo.a").json["access_token"]
    two = login(client, "canbo.a").json["access_token"]
    sid = [jwt.decode(t, options={"verify_signature": False})["sid"] for t in (one, two)]
    assert sid[0] != sid[1]
    client.post("/api/v1/auth/logout", headers=auth(one))
    assert client.get("/api/v1/auth/me", headers=auth(two)).status_code == 200


def test_jwks_publishes_the_verification_key(client: Any, accounts_app: Any, world: Any) -> None:
    keys = client.get("/api/v1/auth/jwks.json").json["keys"]
    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    key = jwt.PyJWK(keys[0])
    token = world.token("admin")
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="traceability")
    assert claims["role"] == "admin"


# --- forged and broken tokens [ASVS 9] --------------------------------------------------------


def _claims(world: Any, **changes: Any) -> dict[str, Any]:
    claims = jwt.decode(world.token("admin"), options={"verify_signature": False})
    claims.update(changes)
    return claims


def _private_key(accounts_app: Any) -> str:
    return accounts_app.extensions["accounts"].issuer.private_key_pem  # type: ignore[no-any-return]


def test_alg_none_is_refused(client: Any, world: Any) -> None:
    token = jwt.encode(_claims(world), key=None, algorithm="none")  # type: ignore[arg-type]
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


def test_hs256_signed_with_the_public_key_is_refused(
    client: Any, world: Any, accounts_app: Any
) -> None:
    from pathlib import Path

    public_pem = Path(accounts_app.config["SETTINGS"].jwt_public_key_file).read_bytes()
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        import base64

        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "acc-1"}).encode())
    payload = b64(json.dumps(_claims(world)).encode())
    signature = b64(hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest())
    token = f"{header}.{payload}.{signature}"
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


def test_service_kid_with_rs256_is_refused(client: Any, world: Any, accounts_app: Any) -> None:
    token = jwt.encode(
        _claims(world), _private_key(accounts_app), algorithm="RS256", headers={"kid": "svc"}
    )
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "someone-else"},
        {"iss": "evil"},
        {"exp": int(time.time()) - 3600},
        {"role": "superuser"},
    ],
)
def test_wrong_audience_issuer_expiry_or_role_is_refused(
    client: Any, world: Any, accounts_app: Any, change: dict[str, Any]
) -> None:
    token = jwt.encode(
        _claims(world, **change),
        _private_key(accounts_app),
        algorithm="RS256",
        headers={"kid": "acc-1"},
    )
    response = client.get("/api/v1/auth/me", headers=auth(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_signed_by_another_key_is_refused(client: Any, world: Any, tmp_path: Any) -> None:
    from shared.keys import generate_rsa_pair

    private, _ = generate_rsa_pair(tmp_path)
    token = jwt.encode(
        _claims(world), private.read_text(), algorithm="RS256", headers={"kid": "acc-1"}
    )
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 401


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer    ", "token xyz"])
def test_malformed_authorization_header(client: Any, world: Any, header: str) -> None:
    response = client.get("/api/v1/auth/me", headers={"Authorization": header})
    assert response.status_code == 401


def test_no_token_is_401(client: Any, world: Any) -> None:
    response = client.get("/api/v1/auth/me")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_factory_accounts_have_history(session: Any, world: Any) -> None:
    AccountFactory(username="someone.new", role="agency", unit=world.unit_b)
    from sqlalchemy import select

    from services.accounts.models import UsernameHistory

    assert (
        session.scalar(
            select(UsernameHistory.account_id).where(UsernameHistory.username == "someone.new")
        )
        is not None
    )
