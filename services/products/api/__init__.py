"""The products service's REST API, one blueprint per sub-domain."""

from __future__ import annotations

import importlib

from flask_smorest import Api

# Each module has `blp` and `PREFIX`; its routes live under /api/v1/<PREFIX>.
MODULES = (
    "products",
    "certifications",
    "lots",
    "shipments",
    "trace",
    "recalls",
    "notifications",
    "epcis",
    "public",
    "admin",
    "internal",
)


def register(api: Api) -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(f"services.products.api.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"services.products.api.{name}":
                raise
            continue
        api.register_blueprint(module.blp, url_prefix=f"/api/v1/{module.PREFIX}")
