"""Paging a query for flask-smorest's `@blp.paginate()`: stable order, counted once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def count(session: Session, stmt: Select[Any]) -> int:
    """Rows `stmt` would return. The select list is replaced by count(*), so per-row
    expressions (e.g. an EXISTS flag) are not evaluated for rows no page will show; a
    statement with GROUP BY or DISTINCT is counted as a subquery."""
    if stmt._group_by_clauses or stmt._distinct:
        return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    counted = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    return session.scalar(counted) or 0


def paginate(session: Session, stmt: Select[Any], pagination_parameters: Any) -> list[Any]:
    """`stmt` must already be ordered by a unique key (stable pages)."""
    pagination_parameters.item_count = count(session, stmt)
    if pagination_parameters.first_item >= pagination_parameters.item_count:
        return []  # past the end (also keeps a huge ?page= from overflowing OFFSET)
    rows = session.scalars(
        stmt.offset(pagination_parameters.first_item).limit(pagination_parameters.page_size)
    )
    return list(rows)


def paginate_rows(session: Session, stmt: Select[Any], pagination_parameters: Any) -> list[Any]:
    """`paginate` for a statement selecting several columns: a list of rows."""
    pagination_parameters.item_count = count(session, stmt)
    if pagination_parameters.first_item >= pagination_parameters.item_count:
        return []
    return list(
        session.execute(
            stmt.offset(pagination_parameters.first_item).limit(pagination_parameters.page_size)
        )
    )


def if_match_version(header: str | None) -> int | None:
    """`If-Match: "3"` (or W/"3") → 3; absent → None; anything else → 412."""
    if not header:
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        from shared.errors import PreconditionFailed

        raise PreconditionFailed()
    return int(value)
