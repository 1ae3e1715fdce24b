"""The products service: products, certifications, lots, stage events, the lot graph,
trace both ways, recalls, and the EPCIS 2.0 export."""

from __future__ import annotations

from flask import Flask

from services.products.api import register
from services.products.domain import events as _events  # noqa: F401 - registers the doorbell
from services.products.web import blp as web_blueprint
from shared.config import Settings, load_settings
from shared.files import file_store
from shared.keys import ensure_local_secrets
from shared.service import create_service_app
from shared.web import init_web

DESCRIPTION = """Products, certifications, lots and their stage-by-stage origin (production
diary), shipments and receipts between establishments, trace one step back and one step
forward to any depth (Circular 17/2021/TT-BNNPTNT), recalls, and the GS1 EPCIS 2.0 export.
Errors are RFC 9457 problem details (`application/problem+json`) with a stable `code` and a
message in Vietnamese and English."""


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or ensure_local_secrets(load_settings())
    app, api = create_service_app(
        "products",
        settings,
        title="Products service (Dịch vụ sản phẩm)",
        description=DESCRIPTION,
        import_name=__name__,
    )
    app.extensions["trace_files"] = file_store(settings.var_dir)
    register(api)
    init_web(app)
    app.register_blueprint(web_blueprint)
    return app
