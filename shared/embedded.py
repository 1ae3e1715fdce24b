"""All services in one WSGI app, each at its URL prefix — the same paths the production
gateway (deploy/nginx.conf) routes to separate services.

    gunicorn 'shared.embedded:create_embedded_app()'

A service whose package has no `app.py` yet is simply not mounted: its prefix answers 404.
The root app answers `/` and `/healthz`; `/q/…` and `/01/…` (the public trace pages) go to
the labels service unchanged.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, redirect, request
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from shared.config import PROJECT_ROOT, SERVICES, Settings, load_settings
from shared.errors import register_error_handlers
from shared.keys import ensure_local_secrets
from shared.kv import create_store
from shared.logs import configure_logging


def available_services() -> list[str]:
    return [s for s in SERVICES if (PROJECT_ROOT / "services" / s / "app.py").is_file()]


def create_service_apps(settings: Settings) -> dict[str, Flask]:
    apps: dict[str, Flask] = {}
    for name in available_services():
        module = importlib.import_module(f"services.{name}.app")
        apps[name] = module.create_app(settings)
    return apps


def create_root_app(settings: Settings, mounted: list[str]) -> Flask:
    app = Flask("traceability")
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.config["SECRET_KEY"] = settings.secret_key
    register_error_handlers(app)

    @app.get("/")
    def index() -> Any:
        """A browser goes to the login page (which sends a logged-in person home); a program
        gets the map of the services' APIs."""
        accepts = request.accept_mimetypes
        if accepts.accept_html and accepts["text/html"] > accepts["application/json"]:
            return redirect("/accounts/login")
        base = request.host_url.rstrip("/")
        return jsonify(
            name="Hệ thống truy xuất nguồn gốc thực phẩm nông lâm thủy sản — Quảng Ninh",
            services={
                name: {
                    "api": f"{base}/{name}/api/v1/openapi.json",
                    "docs": f"{base}/{name}/api/v1/docs",
                }
                for name in mounted
            },
        )

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok", services=mounted)

    return app


# The public trace pages live at the root of the URL space, as the gateway routes them
# (deploy/nginx.conf): short codes and GS1 Digital Link paths go to the labels service whole.
PUBLIC_CODE_PREFIXES = ("/q/", "/01/")


def public_codes(app: Callable[..., Any], labels: Callable[..., Any]) -> Callable[..., Any]:
    def route(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO", "").startswith(PUBLIC_CODE_PREFIXES):
            return labels(environ, start_response)
        return app(environ, start_response)

    return route


def settings_for_process(settings: Settings | None = None) -> Settings:
    """Settings with the embedded secrets filled and one store shared by every service."""
    settings = ensure_local_secrets(settings or load_settings())
    configure_logging(settings.log_format or "text", settings.log_level)
    if "kv_store" not in settings.extra:
        store = create_store(settings.redis_url, settings.var_dir)
        settings = settings.with_(extra={**settings.extra, "kv_store": store})
    return settings


def create_embedded_app(settings: Settings | None = None) -> Callable[..., Any]:
    settings = settings_for_process(settings)
    apps = create_service_apps(settings)
    root = create_root_app(settings, list(apps))
    dispatcher = DispatcherMiddleware(
        root.wsgi_app, {f"/{name}": app for name, app in apps.items()}
    )
    labels = apps.get("labels")
    if labels is not None:
        root.wsgi_app = public_codes(dispatcher, labels.wsgi_app)  # type: ignore[method-assign]
    else:
        root.wsgi_app = dispatcher  # type: ignore[method-assign]
    root.extensions["service_apps"] = apps
    return root
