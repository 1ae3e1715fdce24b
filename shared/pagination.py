"""Paging a query for flask-smorest's `@blp.paginate()`: stable order, counted once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def count(session: Session, stmt: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def paginate(session: Session, stmt: Select[Any], pagination_parameters: Any) -> list[Any]:
    """`stmt` must already be ordered by a unique key (stable pages)."""
    pagination_parameters.item_count = count(session, stmt)
    rows = session.scalars(
        stmt.offset(pagination_parameters.first_item).limit(pagination_parameters.page_size)
    )
    return list(rows)


def if_match_version(header: str | None) -> int | None:
    """`If-Match: "3"` (or W/"3") → 3; absent → None; anything else → 412."""
    if not header:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        from shared.errors import PreconditionFailed

        raise PreconditionFailed()
    return int(value)
