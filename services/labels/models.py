"""Labels service data: QR codes at product and lot level, label batches with their serial
ranges and print jobs, scans, counterfeit alerts, problem reports from consumers, and the
cached public cards of the products service.

Serials (one per printed label) are never stored one row each: a batch holds a range
[serial_start, serial_end], and every serial carries a short signature (domain/codes.py), so
a code never issued is recognised without a lookup and an issued one is found by its range.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.audit import AuditEventMixin
from shared.db import (
    NAMING_CONVENTION,
    TYPE_ANNOTATION_MAP,
    JSONType,
    Timestamps,
    UUIDPrimaryKey,
    utcnow,
)
from shared.directory import DirectoryEstablishmentMixin, DirectoryStateMixin, DirectoryUnitMixin
from shared.jobs import JOB_STATUSES, JobMixin


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class DirectoryUnit(DirectoryUnitMixin, Base):
    pass


class DirectoryEstablishment(DirectoryEstablishmentMixin, Base):
    pass


class DirectoryState(DirectoryStateMixin, Base):
    pass


# SQLite has 64-bit INTEGER; BigInteger maps to it there and to BIGINT on PostgreSQL.
SERIAL = BigInteger().with_variant(Integer(), "sqlite")

CODE_LEVELS = ("product", "lot")
CODE_STATUSES = ("active", "void")


class QrCode(UUIDPrimaryKey, Timestamps, Base):
    """A product-level or lot-level code (short code `/q/{code}`, or a GS1 Digital Link when
    the product has a GTIN). Item-level codes are the serials of label batches."""

    __tablename__ = "qr_codes"
    __table_args__ = (
        CheckConstraint(_in("level", CODE_LEVELS), name="level"),
        CheckConstraint(_in("status", CODE_STATUSES), name="status"),
        UniqueConstraint("level", "product_id", "lot_id"),
        # A GS1 Digital Link scanned: the lot's code by (gtin, "lot", lot_code), the GTIN's
        # owner by gtin alone (domain/resolve.py).
        Index("ix_qr_codes_gtin_level_lot_code", "gtin", "level", "lot_code"),
    )

    code: Mapped[str] = mapped_column(String(16), unique=True)
    level: Mapped[str] = mapped_column(String(8))
    establishment_id: Mapped[uuid.UUID] = mapped_column(index=True)
    product_id: Mapped[uuid.UUID] = mapped_column(index=True)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot_code: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8), default="active")
    created_by: Mapped[uuid.UUID | None]


class SerialCounter(Base):
    """The next free serial. Orders take ranges from it with one atomic UPDATE … RETURNING,
    inside their own transaction (no gap unless the order's transaction commits)."""

    __tablename__ = "serial_counters"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_value: Mapped[int] = mapped_column(SERIAL)


BATCH_STATUSES = ("queued", "rendering", "done", "failed", "void")
STICKER_PRESETS = ("30x20", "40x30", "50x30", "roll-50x30", "roll-40x30")


class LabelBatch(UUIDPrimaryKey, Timestamps, Base):
    """An order of N serialised labels for a product or a lot, with its print template."""

    __tablename__ = "label_batches"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("serial_end >= serial_start", name="range"),
        Index("ix_label_batches_serial_start", "serial_start"),
        Index("ix_label_batches_establishment_created", "establishment_id", "created_at"),
        # The owner of a GTIN labels were printed for, when it has no product code.
        Index("ix_label_batches_gtin", "gtin"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)
    establishment_id: Mapped[uuid.UUID]
    unit_path: Mapped[str | None] = mapped_column(String(1024))
    product_id: Mapped[uuid.UUID] = mapped_column(index=True)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    gtin: Mapped[str | None] = mapped_column(String(14))
    lot_code: Mapped[str | None] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    serial_start: Mapped[int] = mapped_column(SERIAL)
    serial_end: Mapped[int] = mapped_column(SERIAL)
    template: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # What prints on every label of the batch, copied from the products service at order time.
    content: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    voided_at: Mapped[datetime | None]
    voided_reason: Mapped[str | None] = mapped_column(Text)
    voided_by: Mapped[uuid.UUID | None]
    job_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_by: Mapped[uuid.UUID | None]
    created_by_name: Mapped[str | None] = mapped_column(String(255))


class Job(JobMixin, Base):
    """Print jobs (bulk label PDFs) of this service (see shared/jobs.py)."""

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATUSES), name="status"),)


class JobChunk(Base):
    """One slice of a print job, rendered by whichever worker takes it; the job joins the
    finished slices in order."""

    __tablename__ = "job_chunks"

    job_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial_start: Mapped[int] = mapped_column(SERIAL)
    serial_end: Mapped[int] = mapped_column(SERIAL)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    file_key: Mapped[str | None] = mapped_column(String(255))
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    heartbeat_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    finished_at: Mapped[datetime | None]


UA_CLASSES = ("mobile", "desktop", "app", "bot", "other")
RESOLUTIONS = ("ok", "unknown", "forged", "void", "recalled", "suspicious")


class Scan(Base):
    """One resolution of a code: when, what, a coarse place (a ~10 km grid cell, only when
    the client gave a position), the kind of client. No personal data."""

    __tablename__ = "scans"
    __table_args__ = (
        Index("ix_scans_product_at", "product_id", "at"),
        Index("ix_scans_establishment_at", "establishment_id", "at"),
        Index("ix_scans_serial", "serial"),
        # Every scan of a period (the administrator's summary, the indicators, retention).
        Index("ix_scans_at", "at"),
    )

    id: Mapped[int] = mapped_column(SERIAL, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[str] = mapped_column(String(8))
    code: Mapped[str] = mapped_column(String(64))
    serial: Mapped[int | None] = mapped_column(SERIAL)
    batch_id: Mapped[uuid.UUID | None]
    product_id: Mapped[uuid.UUID | None]
    lot_id: Mapped[uuid.UUID | None]
    establishment_id: Mapped[uuid.UUID | None]
    place: Mapped[str | None] = mapped_column(String(16))
    ua_class: Mapped[str] = mapped_column(String(8), default="other")
    outcome: Mapped[str] = mapped_column(String(12), default="ok")


ALERT_REASONS = ("too_many_scans", "too_many_places", "forged", "void", "unknown")
ALERT_STATUSES = ("open", "dismissed", "confirmed")


class CounterfeitAlert(UUIDPrimaryKey, Timestamps, Base):
    """A code that looks counterfeit: scanned more often or in more places than one package
    plausibly is, or never issued, or voided. Listed for the managing agency."""

    __tablename__ = "counterfeit_alerts"
    __table_args__ = (
        CheckConstraint(_in("reason", ALERT_REASONS), name="reason"),
        CheckConstraint(_in("status", ALERT_STATUSES), name="status"),
        UniqueConstraint("code", "reason"),
        # In scope, by status (lists, the open alerts of an establishment's statistics; also
        # the day's alerts naming nobody, establishment_id IS NULL) and of a product's.
        Index("ix_counterfeit_alerts_establishment_status", "establishment_id", "status"),
        Index("ix_counterfeit_alerts_product_status", "product_id", "status"),
        # The administrator's list, most recently seen first.
        Index("ix_counterfeit_alerts_last_seen", "last_seen"),
    )

    code: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(16))
    serial: Mapped[int | None] = mapped_column(SERIAL)
    batch_id: Mapped[uuid.UUID | None]
    product_id: Mapped[uuid.UUID | None]
    establishment_id: Mapped[uuid.UUID | None]
    unit_path: Mapped[str | None] = mapped_column(String(1024), index=True)
    scans: Mapped[int] = mapped_column(Integer, default=0)
    places: Mapped[list[str]] = mapped_column(JSONType, default=list)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12), default="open")
    note: Mapped[str | None] = mapped_column(Text)


REPORT_KINDS = ("suspected_fake", "quality", "wrong_information", "other")
REPORT_STATUSES = ("new", "in_review", "closed")


class ProblemReport(UUIDPrimaryKey, Timestamps, Base):
    """A consumer's report of a suspected fake or a problem, for the managing agency."""

    __tablename__ = "problem_reports"
    __table_args__ = (
        CheckConstraint(_in("kind", REPORT_KINDS), name="kind"),
        CheckConstraint(_in("status", REPORT_STATUSES), name="status"),
    )

    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(24))
    message: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(255))
    place_text: Mapped[str | None] = mapped_column(String(255))
    product_id: Mapped[uuid.UUID | None]
    lot_id: Mapped[uuid.UUID | None]
    establishment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    unit_path: Mapped[str | None] = mapped_column(String(1024), index=True)
    status: Mapped[str] = mapped_column(String(12), default="new")
    handled_note: Mapped[str | None] = mapped_column(Text)


class PublicCard(Base):
    """The products service's public card of a product or lot, kept for the trace page
    (refreshed on a change event, re-fetched when older than its time to live)."""

    __tablename__ = "public_cards"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # "lot:<id>" / "product:<id>"
    card: Mapped[dict[str, Any]] = mapped_column(JSONType)
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(AuditEventMixin, Base):
    pass
