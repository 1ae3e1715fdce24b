"""Published Appendix 01 tables, and where they differ from what the system computes."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask_smorest import Blueprint
from sqlalchemy import select

from services.reports.api.common import settings
from services.reports.domain import indicators, published, scope, sources
from services.reports.domain.directory import COPY
from services.reports.domain.periods import Period
from services.reports.models import PublishedTable, Report
from services.reports.schemas import (
    ComparisonQuery,
    PublishedDetailOut,
    PublishedForm,
    PublishedTableOut,
)
from shared.auth import authenticated
from shared.db import request_session
from shared.errors import Forbidden, InvalidInput, NotFound

PREFIX = "published"
blp = Blueprint("published", __name__, description="Published tables (bảng số liệu đã công bố)")


@blp.get("/")
@blp.response(200, PublishedTableOut(many=True))
def list_tables() -> list[PublishedTable]:
    """Imported published tables, newest first (every officer may read them)."""
    scope.require_officer(authenticated())
    return list(
        request_session().scalars(
            select(PublishedTable).order_by(PublishedTable.imported_at.desc())
        )
    )


@blp.post("/")
@blp.arguments(PublishedForm, location="form")
@blp.response(201, PublishedTableOut)
@blp.doc(
    requestBody={
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "title", "as_of"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "title": {"type": "string"},
                        "as_of": {"type": "string", "format": "date"},
                    },
                }
            }
        }
    }
)
def import_table(form: dict[str, Any]) -> PublishedTable:
    """Import a published Appendix 01 table (.xlsx or .csv) as printed, subtotal rows
    included, to compare it with what the system computes. Administrator only."""
    principal = authenticated()
    scope.require_officer(principal)
    if not principal.is_admin:
        raise Forbidden()
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput.field(
            "file", "Hãy chọn tệp .xlsx hoặc .csv.", "Choose an .xlsx or .csv file."
        )
    return published.import_table(
        request_session(),
        upload.read(),
        upload.filename,
        title=form["title"],
        as_of=form["as_of"],
        actor=principal.account_id,
    )


@blp.get("/<uuid:table_id>")
@blp.response(200, PublishedDetailOut)
def get_table(table_id: uuid.UUID) -> dict[str, Any]:
    scope.require_officer(authenticated())
    session = request_session()
    table = published.get_table(session, table_id)
    return {
        "id": table.id,
        "title": table.title,
        "as_of": table.as_of,
        "file_name": table.file_name,
        "imported_at": table.imported_at,
        "rows": published.table_rows(session, table_id),
    }


@blp.get("/<uuid:table_id>/comparison")
@blp.arguments(ComparisonQuery, location="query")
@blp.response(200)
def compare(args: dict[str, Any], table_id: uuid.UUID) -> dict[str, Any]:
    """Cell by cell: each published figure against the system's for the same unit, each
    subtotal against the sum of its published children, each published rate against the two
    formulas it might use. Against a compiled report (`report_id`) or, by default, figures
    computed now for the table's date."""
    principal = authenticated()
    scope.require_officer(principal)
    session = request_session()
    table = published.get_table(session, table_id)
    if args["report_id"]:
        report = session.get(Report, args["report_id"])
        if report is None:
            raise NotFound()
        scope.require_unit(session, principal, report.unit_id, settings())
        figures = report.figures
    else:
        if not principal.is_admin:
            raise Forbidden()
        period = Period("annual", table.as_of.year)
        COPY.sync_units(session, settings())
        snapshot = sources.read(settings(), table.as_of, period.start, table.as_of)
        figures = indicators.compute(session, snapshot, period, None)
    return published.compare(session, table_id, figures)
