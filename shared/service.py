"""What every service's `create_app` shares: the app shell around its blueprints.

A service app gets: its settings, its database (one transaction per request), token
verification, the request id, RFC 9457 errors, `/healthz` and `/readyz`, and an OpenAPI
document with a docs page under `/api/v1` (Swagger UI served from the installed package).
"""

from __future__ import annotations

import http
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, jsonify, request, send_from_directory
from flask_smorest import Api
from werkzeug.middleware.proxy_fix import ProxyFix

from shared import auth, db
from shared.config import ConfigError, Settings
from shared.errors import PROBLEM_JSON, register_error_handlers
from shared.kv import KeyValueStore, create_store
from shared.logs import (
    REQUEST_ID_HEADER,
    accept_request_id,
    bind_request_id,
    configure_logging,
    reset_request_id,
)
from shared.schema import ProblemSchema

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DOCS_ASSETS = "docs-assets"


class TraceApi(Api):
    """flask-smorest's Api, documenting errors as the problem details we really send."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_RESPONSE_CONTENT_TYPE = "application/json"

    def _register_responses(self) -> None:
        from flask_smorest.utils import prepare_response

        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Problem details (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)


def shared_store(settings: Settings) -> KeyValueStore:
    """One store per process and settings (all services of the embedded runner share it)."""
    store = settings.extra.get("kv_store")
    if store is None:
        store = create_store(settings.redis_url, settings.var_dir)
    return store


def create_service_app(
    name: str,
    settings: Settings,
    *,
    title: str,
    description: str,
    import_name: str,
) -> tuple[Flask, Api]:
    configure_logging(settings.log_format or "text", settings.log_level)
    app = Flask(import_name)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config.update(
        SERVICE_NAME=name,
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        JSON_SORT_KEYS=False,
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=f"{DOCS_ASSETS}/",
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
            x_prefix=settings.trusted_proxies,
        )

    database = db.Database(settings.database_url(name), service=name)
    db.init_app(app, database)
    store = shared_store(settings)
    app.extensions["trace_kv"] = store
    if not settings.jwt_public_key_file or not settings.service_secret:
        raise ConfigError("JWT_PUBLIC_KEY_FILE and SERVICE_SECRET are required")
    auth.init_app(
        app,
        auth.TokenVerifier(
            public_key_pem=Path(settings.jwt_public_key_file).read_text(),
            service_secret=settings.service_secret,
            store=store,
            cache_seconds=settings.token_revocation_cache_seconds,
        ),
    )
    from shared.celery_app import ensure_producer

    app.extensions["celery"] = ensure_producer(settings)
    _request_ids(app)
    api = TraceApi(app)
    register_error_handlers(app)  # after Api(): ours replace flask-smorest's handlers
    _health(app, database, store)
    _docs_assets(app)
    return app, api


def _request_ids(app: Flask) -> None:
    @app.before_request
    def _bind() -> None:
        g.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
        g._request_id_token = bind_request_id(g.request_id)

    @app.after_request
    def _header(response: Response) -> Response:
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.teardown_request
    def _unbind(_exc: BaseException | None) -> None:
        token = g.pop("_request_id_token", None)
        if token is not None:
            reset_request_id(token)


def _health(app: Flask, database: db.Database, store: KeyValueStore) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        """Liveness: the process answers."""
        return jsonify(status="ok", service=app.config["SERVICE_NAME"])

    @app.get("/readyz")
    def readyz() -> Any:
        """Readiness: the database and the shared store answer."""
        checks: dict[str, str] = {}
        for check_name, probe in (("database", database.ping), ("store", store.ping)):
            try:
                probe()
                checks[check_name] = "ok"
            except Exception as exc:
                checks[check_name] = f"unavailable: {type(exc).__name__}"
        ok = all(value == "ok" for value in checks.values())
        response = jsonify(
            status="ok" if ok else "unavailable", service=app.config["SERVICE_NAME"], checks=checks
        )
        response.status_code = 200 if ok else 503
        return response


def _docs_assets(app: Flask) -> None:
    import swagger_ui_bundle

    directory = swagger_ui_bundle.swagger_ui_path

    @app.get(f"/api/v1/{DOCS_ASSETS}/<path:filename>")
    def docs_asset(filename: str) -> Response:
        return send_from_directory(directory, filename, max_age=86400)
