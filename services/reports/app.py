"""The reports service: targets and plans, indicators computed from the other services,
published tables compared with computed ones, and the quarterly and annual reports."""

from __future__ import annotations

from flask import Flask

from services.reports.api import register
from services.reports.web import blp as web_blueprint
from shared.config import Settings, load_settings
from shared.files import file_store
from shared.keys import ensure_local_secrets
from shared.service import create_service_app
from shared.web import init_web

DESCRIPTION = """Targets and plans per unit and year (Appendix 02, importable from Excel),
indicators computed from the accounts, products and labels services per unit with sub-unit
roll-up (Appendix 01's columns, each rate named by its formula; plan against actual accounts
granted; the year's five targets; labels and scans; recalls), published tables compared cell
by cell with what the system computes, and quarterly and annual reports: immutable,
versioned snapshots with each unit's narrative, exported as XLSX and PDF. Errors are RFC 9457
problem details (`application/problem+json`) with a stable `code` and a message in Vietnamese
and English."""


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or ensure_local_secrets(load_settings())
    app, api = create_service_app(
        "reports",
        settings,
        title="Reports service (Dịch vụ báo cáo)",
        description=DESCRIPTION,
        import_name=__name__,
    )
    app.extensions["trace_files"] = file_store(settings.var_dir)
    register(api)
    init_web(app)
    app.register_blueprint(web_blueprint)
    return app
