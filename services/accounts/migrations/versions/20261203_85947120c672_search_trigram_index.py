"""Accounts: trigram indexes for diacritic-insensitive search (PostgreSQL)

Revision ID: 85947120c672
Revises: d2337a1767e0
Create Date: 2026-12-03 15:53:48.130782+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "85947120c672"
down_revision: str | None = "d2337a1767e0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # `search_text LIKE '%word%'` on 30,000+ establishments: a trigram GIN index turns the
    # sequential scan into an index scan. pg_trgm is a trusted extension (PostgreSQL 13+), so
    # the database owner may create it. SQLite (the embedded default) scans, which is fine
    # at demo scale.
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_establishments_search_trgm ON establishments "
        "USING gin (search_text gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_establishments_categories_trgm ON establishments "
        "USING gin (activities gin_trgm_ops, sectors gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_establishments_search_trgm")
