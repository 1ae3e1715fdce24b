"""Labels: indexes for GS1 lookups, scans by time and alerts by scope and status

Revision ID: 5001fbd387ac
Revises: 513bb96eff0e
Create Date: 2026-12-04 11:08:56.316738+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5001fbd387ac"
down_revision: str | None = "513bb96eff0e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A scanned GS1 Digital Link: the lot's code by (gtin, level, lot_code), the GTIN's owner
    # by gtin alone, in the codes and else in the batches (domain/resolve.py).
    op.create_index(
        "ix_qr_codes_gtin_level_lot_code",
        "qr_codes",
        ["gtin", "level", "lot_code"],
        unique=False,
    )
    op.create_index("ix_label_batches_gtin", "label_batches", ["gtin"], unique=False)
    # Every scan of a period: the administrator's summary, the indicators, retention.
    op.create_index("ix_scans_at", "scans", ["at"], unique=False)
    # Alerts in scope by status; it starts with establishment_id, so it replaces that index
    # (made first: no moment without one).
    op.create_index(
        "ix_counterfeit_alerts_establishment_status",
        "counterfeit_alerts",
        ["establishment_id", "status"],
        unique=False,
    )
    op.drop_index("ix_counterfeit_alerts_establishment_id", table_name="counterfeit_alerts")
    op.create_index(
        "ix_counterfeit_alerts_product_status",
        "counterfeit_alerts",
        ["product_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_counterfeit_alerts_last_seen", "counterfeit_alerts", ["last_seen"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_counterfeit_alerts_last_seen", table_name="counterfeit_alerts")
    op.drop_index("ix_counterfeit_alerts_product_status", table_name="counterfeit_alerts")
    op.create_index(
        "ix_counterfeit_alerts_establishment_id",
        "counterfeit_alerts",
        ["establishment_id"],
        unique=False,
    )
    op.drop_index("ix_counterfeit_alerts_establishment_status", table_name="counterfeit_alerts")
    op.drop_index("ix_scans_at", table_name="scans")
    op.drop_index("ix_label_batches_gtin", table_name="label_batches")
    op.drop_index("ix_qr_codes_gtin_level_lot_code", table_name="qr_codes")
