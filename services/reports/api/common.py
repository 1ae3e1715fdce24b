"""What the reports API modules share: settings, the file store, the period of a query."""

from __future__ import annotations

from typing import Any

from flask import current_app

from services.reports.domain.periods import Period


def settings() -> Any:
    return current_app.config["SETTINGS"]


def files() -> Any:
    return current_app.extensions["trace_files"]


def period_of(args: dict[str, Any]) -> Period:
    return Period.of(args["kind"], args["year"], args.get("quarter"))
