"""The shared store (Redis) down: the API answers 503 with Retry-After, never 500
[RELIABILITY 4]; tokens that cannot be checked are not accepted (fail closed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shared.config import Settings
from shared.db import get_database
from shared.kv import RedisStore
from tests.accounts.factories import auth

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def outage_app(settings: Settings) -> Iterator[Any]:
    from services.accounts.app import create_app

    dead = RedisStore("redis://127.0.0.1:1/0")
    app = create_app(settings.with_(extra={"kv_store": dead}))
    yield app
    get_database(app).dispose()


def test_login_with_the_store_down_is_503(outage_app: Any, world: Any) -> None:
    response = outage_app.test_client().post(
        "/api/v1/auth/token", json={"username": "canbo.a", "password": "whatever it is"}
    )
    assert response.status_code == 503
    assert response.json["code"] == "service_unavailable"
    assert response.headers["Retry-After"]


def test_token_check_with_the_store_down_is_503(outage_app: Any, world: Any) -> None:
    response = outage_app.test_client().get(
        "/api/v1/auth/me", headers=auth(world.token("agency_a"))
    )
    assert response.status_code == 503
    readiness = outage_app.test_client().get("/readyz")
    assert readiness.status_code == 503
    assert readiness.json["checks"]["store"].startswith("unavailable")


def test_a_process_without_the_signing_key_refuses_login_with_503(
    settings: Settings, world: Any
) -> None:
    """Workers load the accounts app without the private key (least privilege)."""
    from services.accounts.app import create_app

    app = create_app(settings.with_(jwt_private_key_file=None))
    try:
        response = app.test_client().post(
            "/api/v1/auth/token", json={"username": "canbo.a", "password": "whatever it is"}
        )
        assert response.status_code == 503
        assert response.json["code"] == "signing_key_missing"
        assert app.test_client().get("/api/v1/auth/jwks.json").status_code == 200
    finally:
        get_database(app).dispose()


def test_pages_with_the_store_down_are_a_503_page(outage_app: Any, world: Any) -> None:
    """An officer's page and the login form while Redis is down: an HTML page saying so, with
    Retry-After — not a JSON body, not a stack trace."""
    client = outage_app.test_client()
    client.set_cookie("trace_access", world.token("agency_a"))
    page = client.get("/establishments")
    assert page.status_code == 503
    assert page.headers["Retry-After"]
    assert "text/html" in page.content_type
    assert "gián đoạn" in page.get_data(as_text=True)
    with client.session_transaction() as session:
        session["_csrf"] = "t"
    login = client.post(
        "/login", data={"_csrf": "t", "username": "canbo.a", "password": "whatever it is"}
    )
    assert login.status_code == 503
    assert "text/html" in login.content_type
