"""Products: lot_links walk indexes covering the link data (PostgreSQL INCLUDE)

Revision ID: c5222f7d7ee1
Revises: 843fe2a7b13e
Create Date: 2026-12-04 11:02:34.610736+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "c5222f7d7ee1"
down_revision: str | None = "843fe2a7b13e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A link's columns besides its ends: with them in the index, a step of the trace (the links
# leaving a lot and everything shown of them) is an index-only scan. SQLite ignores INCLUDE.
LINK_DATA = ["id", "kind", "quantity", "unit", "occurred_at", "place", "shipment_id"]


def upgrade() -> None:
    # The same keys as the indexes they replace, so every query they served still has one.
    op.create_index(
        "ix_lot_links_source_covering",
        "lot_links",
        ["source_lot_id", "target_lot_id"],
        unique=False,
        postgresql_include=LINK_DATA,
    )
    op.create_index(
        "ix_lot_links_target_covering",
        "lot_links",
        ["target_lot_id", "source_lot_id"],
        unique=False,
        postgresql_include=LINK_DATA,
    )
    op.drop_index("ix_lot_links_source_target", table_name="lot_links")
    op.drop_index("ix_lot_links_target_source", table_name="lot_links")


def downgrade() -> None:
    op.create_index(
        "ix_lot_links_target_source",
        "lot_links",
        ["target_lot_id", "source_lot_id"],
        unique=False,
    )
    op.create_index(
        "ix_lot_links_source_target",
        "lot_links",
        ["source_lot_id", "target_lot_id"],
        unique=False,
    )
    op.drop_index("ix_lot_links_target_covering", table_name="lot_links")
    op.drop_index("ix_lot_links_source_covering", table_name="lot_links")
