"""The labels service: QR codes, serialised label batches and their PDFs, the public trace
page for scanned codes, scans and counterfeit signals."""

from __future__ import annotations

from flask import Flask

from services.labels.api import register
from shared.config import Settings, load_settings
from shared.files import file_store
from shared.keys import ensure_local_secrets
from shared.service import create_service_app

DESCRIPTION = """QR codes at product, lot and item level (GS1 Digital Link where the product
has a GTIN, else a short code), label batches with signed serials allocated as ranges, bulk
label PDFs rendered by the `labels` workers, scans, counterfeit alerts and scan statistics.
The public trace page a shopper reaches by scanning is served at `/q/{code}` and
`/01/{gtin}/…`. Errors are RFC 9457 problem details (`application/problem+json`) with a
stable `code` and a message in Vietnamese and English."""


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or ensure_local_secrets(load_settings())
    app, api = create_service_app(
        "labels",
        settings,
        title="Labels service (Dịch vụ tem truy xuất)",
        description=DESCRIPTION,
        import_name=__name__,
    )
    app.extensions["trace_files"] = file_store(settings.var_dir)
    # Read per request by the trace pages (web.py); a test may lower it on a running app.
    app.config["TRACE_VIEWS_PER_MINUTE"] = settings.trace_views_per_minute
    register(api)
    register_pages(app)
    return app


def register_pages(app: Flask) -> None:
    """The public pages (trace page, report form) and the logged-in pages (pages.py)."""
    import importlib

    try:
        web = importlib.import_module("services.labels.web")
    except ModuleNotFoundError as exc:
        if exc.name != "services.labels.web":
            raise
        return
    web.init_app(app)
    from services.labels import pages

    pages.init_app(app)
