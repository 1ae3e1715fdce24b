"""What every service shares: health, readiness, request ids, problems, OpenAPI, embedding."""

from __future__ import annotations

from typing import Any

import pytest

from shared.config import Settings
from shared.db import Database, get_database

pytestmark = pytest.mark.smoke


def test_healthz_and_readyz(client: Any) -> None:
    assert client.get("/healthz").json == {"service": "accounts", "status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "store": "ok"}


def test_readyz_reports_a_database_that_is_down(accounts_app: Any, monkeypatch: Any) -> None:
    from shared import db as shared_db

    database = shared_db.get_database(accounts_app)
    broken = Database("postgresql+psycopg://nobody@127.0.0.1:1/none", service="accounts")
    monkeypatch.setattr(database, "ping", broken.ping)
    response = accounts_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("unavailable")


def test_request_id_is_kept_or_made(client: Any) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123-def-456"})
    assert given.headers["X-Request-ID"] == "abc-123-def-456"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id <with> spaces"})
    assert made.headers["X-Request-ID"] != "bad id <with> spaces"
    assert len(made.headers["X-Request-ID"]) == 32


def test_problem_carries_the_request_id(client: Any) -> None:
    response = client.get("/api/v1/units/", headers={"X-Request-ID": "trace-me-12345"})
    assert response.status_code == 401
    assert response.json["request_id"] == "trace-me-12345"
    assert response.json["type"] == "urn:traceability:problem:unauthenticated"
    assert response.json["instance"] == "/api/v1/units/"


def test_unknown_route_and_method(client: Any) -> None:
    assert client.get("/api/v1/nothing").json["code"] == "not_found"
    response = client.delete("/api/v1/auth/token")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"


def test_openapi_document_and_docs_page(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    assert "/api/v1/auth/token" in paths
    assert "/api/v1/accounts/{account_id}/suspend" in paths
    assert spec.json["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert b"docs-assets/swagger-ui-bundle.js" in docs.data
    asset = client.get("/api/v1/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200
    asset.close()


def test_unexpected_errors_are_500_problems_without_internals(app_settings: Settings) -> None:
    from shared.service import create_service_app

    app, _ = create_service_app(
        "accounts", app_settings, title="t", description="d", import_name=__name__
    )

    @app.get("/boom-for-test")
    def boom() -> Any:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom-for-test")
    get_database(app).dispose()
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True)


def test_embedded_app_mounts_services_at_their_prefixes(app_settings: Settings) -> None:
    from werkzeug.test import Client

    from shared.embedded import create_embedded_app

    app = create_embedded_app(app_settings)
    client = Client(app)
    request_finished = app.extensions["service_apps"]
    assert client.get("/accounts/healthz").json["service"] == "accounts"
    assert client.get("/accounts/api/v1/openapi.json").status_code == 200
    index = client.get("/").json
    for name in ("accounts", "products", "labels", "reports"):
        assert name in index["services"]
        assert client.get(f"/{name}/api/v1/openapi.json").status_code == 200
    # An unknown prefix answers a problem document, not a stack trace.
    response = client.get("/nothing/api/v1/openapi.json")
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
    # The public trace pages at the root go to the labels service, path unchanged.
    assert client.get("/q/0000001-AAAA").status_code in {200, 404}
    for service_app in request_finished.values():
        get_database(service_app).dispose()
