"""Products service data: products, certifications, lots, stage events, the lot graph,
shipments, recalls, notifications, and a read-only copy of the accounts directory.

The lot graph (Circular 17/2021: one step back, one step forward) is `lot_links`: an edge from a
source lot to a lot made from it (`input`, `split`, `merge`) or received from it (`shipment`).
Suppliers and customers outside the system are leaves: `lot_sources` and `shipments` with no
recipient establishment.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.audit import AuditEventMixin
from shared.db import (
    NAMING_CONVENTION,
    TYPE_ANNOTATION_MAP,
    JSONType,
    Timestamps,
    UUIDPrimaryKey,
    utcnow,
)
from shared.directory import (
    DirectoryEstablishmentMixin,
    DirectoryStateMixin,
    DirectoryUnitMixin,
)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


QUANTITY = Numeric(18, 3)

# --- The directory: a read-only copy of the accounts service's units and establishments ---


class DirectoryUnit(DirectoryUnitMixin, Base):
    pass


class DirectoryEstablishment(DirectoryEstablishmentMixin, Base):
    pass


class DirectoryState(DirectoryStateMixin, Base):
    pass


# --- Products and certifications ---

PRODUCT_STATUSES = ("active", "discontinued")
PRESERVATIONS = ("fresh", "frozen", "processed")
PARTY_ROLES = ("producer", "pre_processor", "processor", "packer", "distributor")
CERTIFICATION_KINDS = (
    "food_safety",
    "commitment",
    "vietgap",
    "globalgap",
    "organic",
    "gmp",
    "haccp",
    "iso22000",
    "ocop",
    "other",
)


class Product(UUIDPrimaryKey, Timestamps, Base):
    """A product (sản phẩm) of one establishment."""

    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("establishment_id", "code"),
        CheckConstraint(_in("status", PRODUCT_STATUSES), name="status"),
        CheckConstraint(_in("preservation", PRESERVATIONS), name="preservation"),
        CheckConstraint("ocop_stars IS NULL OR ocop_stars BETWEEN 3 AND 5", name="ocop_stars"),
    )

    establishment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str] = mapped_column(String(255))
    name_folded: Mapped[str] = mapped_column(String(255), index=True)
    code: Mapped[str] = mapped_column(String(64))
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    category: Mapped[str | None] = mapped_column(String(100))
    image_key: Mapped[str | None] = mapped_column(String(200))
    image_type: Mapped[str | None] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str | None] = mapped_column(String(255))
    capacity: Mapped[str | None] = mapped_column(String(255))
    packaging: Mapped[str | None] = mapped_column(String(255))
    shelf_life_days: Mapped[int | None]
    preservation: Mapped[str] = mapped_column(String(16), default="fresh")
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    price_unit: Mapped[str | None] = mapped_column(String(32))
    standards: Mapped[list[str]] = mapped_column(JSONType, default=list)
    ocop_stars: Mapped[int | None]
    ocop_decision_no: Mapped[str | None] = mapped_column(String(64))
    ocop_decision_date: Mapped[date | None]
    ocop_expires_on: Mapped[date | None]
    is_key_product: Mapped[bool] = mapped_column(default=False, index=True)
    is_packaged_processed: Mapped[bool] = mapped_column(default=False, index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)

    parties: Mapped[list[ProductParty]] = relationship(
        order_by="ProductParty.position", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class ProductParty(UUIDPrimaryKey, Base):
    """Who produced, pre-processed, processed, packed or distributed a product: an
    establishment in the system, or a named outside party."""

    __tablename__ = "product_parties"
    __table_args__ = (CheckConstraint(_in("role", PARTY_ROLES), name="role"),)

    product_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    role: Mapped[str] = mapped_column(String(16))
    establishment_id: Mapped[uuid.UUID | None]
    name: Mapped[str | None] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(500))


class Certification(UUIDPrimaryKey, Timestamps, Base):
    """A certificate or commitment of an establishment, or of one of its products."""

    __tablename__ = "certifications"
    __table_args__ = (CheckConstraint(_in("kind", CERTIFICATION_KINDS), name="kind"),)

    establishment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    product_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    kind_other: Mapped[str | None] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(64))
    issuer: Mapped[str] = mapped_column(String(255))
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None] = mapped_column(index=True)
    scope_note: Mapped[str | None] = mapped_column(Text)
    document_key: Mapped[str | None] = mapped_column(String(200))
    document_type: Mapped[str | None] = mapped_column(String(40))
    document_name: Mapped[str | None] = mapped_column(String(255))
    document_size: Mapped[int | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


# --- Lots, stages and the graph ---

LOT_STATUSES = ("active", "on_hold", "recalled", "destroyed")
LOT_ORIGINS = ("produced", "received", "split", "merged", "processed")
STAGE_KINDS = (
    "production",
    "pre_processing",
    "processing",
    "packing",
    "storage",
    "shipping",
    "receiving",
)
LINK_KINDS = ("input", "split", "merge", "shipment")
# A link's columns besides its ends, carried in the walk indexes of lot_links.
_LINK_DATA = ["id", "kind", "quantity", "unit", "occurred_at", "place", "shipment_id"]


class Lot(UUIDPrimaryKey, Timestamps, Base):
    """A production lot (lô) of a product; its code is unique within the product."""

    __tablename__ = "lots"
    __table_args__ = (
        UniqueConstraint("product_id", "code"),
        CheckConstraint(_in("status", LOT_STATUSES), name="status"),
        CheckConstraint(_in("origin", LOT_ORIGINS), name="origin"),
        CheckConstraint("quantity IS NULL OR quantity >= 0", name="quantity"),
        Index("ix_lots_establishment_created", "establishment_id", "created_at"),
    )

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id"), index=True)
    establishment_id: Mapped[uuid.UUID]
    code: Mapped[str] = mapped_column(String(64))
    production_date: Mapped[date | None]
    expiry_date: Mapped[date | None]
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(16), default="produced")
    status: Mapped[str] = mapped_column(String(16), default="active")
    status_note: Mapped[str | None] = mapped_column(Text)
    # The Circular's retention: kept at least until this day (see domain.lots.retain_until).
    retain_until: Mapped[date | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    product: Mapped[Product] = relationship()

    __mapper_args__ = {"version_id_col": version}


class StageEvent(UUIDPrimaryKey, Base):
    """One entry of a lot's production diary (nhật ký sản xuất): a stage (công đoạn) with its
    time, place and actor. Never deleted: a wrong entry is voided with a reason."""

    __tablename__ = "stage_events"
    __table_args__ = (
        CheckConstraint(_in("kind", STAGE_KINDS), name="kind"),
        Index("ix_stage_events_lot_time", "lot_id", "occurred_at"),
    )

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"))
    establishment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(255))
    place_code: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(16))
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shipments.id"))
    recorded_by: Mapped[uuid.UUID | None]
    recorded_by_name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    voided_at: Mapped[datetime | None]
    voided_reason: Mapped[str | None] = mapped_column(Text)
    voided_by_name: Mapped[str | None] = mapped_column(String(255))


class LotLink(UUIDPrimaryKey, Base):
    """An edge of the lot graph: `target` was made from (or received from) `source`."""

    __tablename__ = "lot_links"
    __table_args__ = (
        CheckConstraint(_in("kind", LINK_KINDS), name="kind"),
        # One index per direction of a walk, covering on PostgreSQL: a step of the trace
        # reads the links leaving a lot with everything it shows of them from the index alone
        # (an index-only scan; see domain.graph). SQLite ignores INCLUDE.
        Index(
            "ix_lot_links_source_covering",
            "source_lot_id",
            "target_lot_id",
            postgresql_include=_LINK_DATA,
        ),
        Index(
            "ix_lot_links_target_covering",
            "target_lot_id",
            "source_lot_id",
            postgresql_include=_LINK_DATA,
        ),
    )

    source_lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"))
    target_lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"))
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(16))
    occurred_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(255))
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shipments.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LotSource(UUIDPrimaryKey, Base):
    """One step back to a supplier outside the system: who, when, where, what, how much."""

    __tablename__ = "lot_sources"

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), index=True)
    supplier_name: Mapped[str] = mapped_column(String(255))
    supplier_address: Mapped[str | None] = mapped_column(String(500))
    supplier_code: Mapped[str | None] = mapped_column(String(64))
    supplier_lot_code: Mapped[str | None] = mapped_column(String(64))
    product_name: Mapped[str | None] = mapped_column(String(255))
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


SHIPMENT_STATUSES = ("sent", "received", "cancelled")


class Shipment(UUIDPrimaryKey, Base):
    """One step forward: part of a lot handed to a recipient — an establishment in the system
    (which then receives it into a lot of its own) or a named customer outside it."""

    __tablename__ = "shipments"
    __table_args__ = (
        CheckConstraint(_in("status", SHIPMENT_STATUSES), name="status"),
        Index("ix_shipments_recipient_status", "recipient_establishment_id", "status"),
    )

    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), index=True)
    establishment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    recipient_establishment_id: Mapped[uuid.UUID | None]
    recipient_name: Mapped[str] = mapped_column(String(255))
    recipient_address: Mapped[str | None] = mapped_column(String(500))
    recipient_code: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    unit: Mapped[str | None] = mapped_column(String(16))
    shipped_at: Mapped[datetime]
    place: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="sent")
    received_lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lots.id"))
    received_at: Mapped[datetime | None]
    received_quantity: Mapped[Decimal | None] = mapped_column(QUANTITY)
    received_place: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


# --- Recalls ---

RECALL_KINDS = ("voluntary", "compulsory")
# Circular 17/2021 Art. 8–13, in order; `cancelled` ends a recall found unnecessary.
RECALL_STEPS = (
    "requested",
    "assessed",
    "plan_approved",
    "executed",
    "handled",
    "reported",
    "closed",
)
RECALL_STATUSES = (*RECALL_STEPS, "cancelled")
HANDLING_METHODS = ("fix", "change_use", "re_export", "destroy")


class Recall(UUIDPrimaryKey, Timestamps, Base):
    """A recall (thu hồi) of a lot and everything made from it or shipped from it."""

    __tablename__ = "recalls"
    __table_args__ = (
        CheckConstraint(_in("kind", RECALL_KINDS), name="kind"),
        CheckConstraint(_in("status", RECALL_STATUSES), name="status"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), index=True)
    establishment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    hazard: Mapped[str | None] = mapped_column(Text)
    found_at: Mapped[datetime]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_by: Mapped[uuid.UUID | None]
    opened_by_name: Mapped[str | None] = mapped_column(String(255))
    opened_by_role: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    decision_due_at: Mapped[datetime]
    handling: Mapped[str | None] = mapped_column(String(16))
    reported_at: Mapped[datetime | None]
    handling_decision_due_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    affected_lots: Mapped[int] = mapped_column(Integer, default=0)
    affected_establishments: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)

    steps: Mapped[list[RecallStep]] = relationship(order_by="RecallStep.at")

    __mapper_args__ = {"version_id_col": version}


class RecallStep(UUIDPrimaryKey, Base):
    """Who did which step of a recall, when, with what note."""

    __tablename__ = "recall_steps"

    recall_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recalls.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[uuid.UUID | None]
    by_name: Mapped[str | None] = mapped_column(String(255))
    by_role: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class RecallLot(Base):
    """A lot a recall reaches, with the status it had before, so a cancelled recall can
    put it back."""

    __tablename__ = "recall_lots"

    recall_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recalls.id"), primary_key=True)
    lot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("lots.id"), primary_key=True, index=True)
    establishment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    status_before: Mapped[str] = mapped_column(String(16))


class RecallRecipient(UUIDPrimaryKey, Base):
    """A customer outside the system who received part of a recalled lot."""

    __tablename__ = "recall_recipients"

    recall_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recalls.id"), index=True)
    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipments.id"))
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(500))


class Holiday(Base):
    """A public holiday (ngày nghỉ lễ): not a working day for the 3-working-day deadline."""

    __tablename__ = "holidays"

    day: Mapped[date] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))


class Notification(UUIDPrimaryKey, Base):
    """A message to an establishment or a unit inside the system ("your lot is in a recall")."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_establishment_created", "establishment_id", "created_at"),
        Index("ix_notifications_unit_created", "unit_id", "created_at"),
    )

    establishment_id: Mapped[uuid.UUID | None]
    unit_id: Mapped[uuid.UUID | None]
    kind: Mapped[str] = mapped_column(String(32))
    recall_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("recalls.id"))
    lot_id: Mapped[uuid.UUID | None]
    title_vi: Mapped[str] = mapped_column(String(500))
    title_en: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]


class AuditEvent(AuditEventMixin, Base):
    pass
