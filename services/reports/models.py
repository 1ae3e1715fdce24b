"""Reports service data: the plan (accounts to grant per unit and month, Appendix 02), the
year's percentage targets, published tables imported for comparison (Appendix 01), compile
jobs, compiled reports (immutable, versioned snapshots), the units' narratives and the
reminders sent to units that have not submitted.

Figures are never stored per establishment here: a compiled report keeps what the other
services answered (through their APIs) at compile time, rolled up over the unit tree it saw.
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

REPORT_KINDS = ("quarterly", "annual")
NARRATIVE_STATUSES = ("draft", "submitted")
TRIGGERS = ("schedule", "on_demand")


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


class AuditEvent(AuditEventMixin, Base):
    pass


class PlanEntry(Base):
    """Accounts a unit plans to grant in a month (Appendix 02). Only units that manage
    establishments directly carry entries; a parent's plan is the sum of its children's,
    computed, never stored (the published table's subtotals are checked, not kept)."""

    __tablename__ = "plan_entries"
    __table_args__ = (
        UniqueConstraint("unit_id", "year", "month"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month"),
        CheckConstraint("accounts >= 0", name="accounts"),
        Index("ix_plan_entries_year", "year"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[uuid.UUID]
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    accounts: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[uuid.UUID | None]


class YearTargets(Base):
    """The year's percentage targets (the plan's five), editable per year."""

    __tablename__ = "year_targets"

    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    certificate_accounts: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    commitment_accounts: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    ocop_accounts: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    qr_key_products: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    traceable_packaged: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[uuid.UUID | None]


class PublishedTable(UUIDPrimaryKey, Base):
    """A published Appendix 01 table, imported to be compared cell by cell with what the
    system computes for the same date."""

    __tablename__ = "published_tables"

    title: Mapped[str] = mapped_column(String(255))
    as_of: Mapped[date]
    file_name: Mapped[str | None] = mapped_column(String(255))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    imported_by: Mapped[uuid.UUID | None]


class PublishedRow(Base):
    """One row of a published table as printed (subtotal rows included, numbers as given)."""

    __tablename__ = "published_rows"

    table_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("published_tables.id", ondelete="CASCADE"), primary_key=True
    )
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    parent_code: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    # The unit this row was matched to (by code, else by name); None for a row of its own
    # (e.g. a grand total) or one that matched nothing.
    unit_id: Mapped[uuid.UUID | None]
    values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Job(JobMixin, Base):
    """Compile jobs (and imports) of this service (see shared/jobs.py)."""

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATUSES), name="status"),)


class Report(UUIDPrimaryKey, Base):
    """A compiled report: an immutable snapshot. Compiling a period again adds a version."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("kind", "year", "quarter", "unit_id", "version"),
        UniqueConstraint("job_id", "unit_id"),
        CheckConstraint(_in("kind", REPORT_KINDS), name="kind"),
        CheckConstraint(_in("trigger", TRIGGERS), name="trigger"),
        CheckConstraint("quarter BETWEEN 0 AND 4", name="quarter"),
        Index("ix_reports_period", "kind", "year", "quarter"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    # 1–4 for a quarterly report, 0 for the annual one.
    quarter: Mapped[int] = mapped_column(Integer, default=0)
    unit_id: Mapped[uuid.UUID] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[uuid.UUID | None]
    as_of: Mapped[date]
    compiled_at: Mapped[datetime] = mapped_column(default=utcnow)
    compiled_by: Mapped[uuid.UUID | None]
    figures: Mapped[dict[str, Any]] = mapped_column(JSONType)
    xlsx_key: Mapped[str | None] = mapped_column(String(255))
    pdf_key: Mapped[str | None] = mapped_column(String(255))


class Narrative(UUIDPrimaryKey, Timestamps, Base):
    """A unit's own words for a period: what was done, what was not, why, what it proposes."""

    __tablename__ = "narratives"
    __table_args__ = (
        UniqueConstraint("unit_id", "kind", "year", "quarter"),
        CheckConstraint(_in("kind", REPORT_KINDS), name="kind"),
        CheckConstraint(_in("status", NARRATIVE_STATUSES), name="status"),
    )

    unit_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[str] = mapped_column(Text, default="")
    not_done: Mapped[str] = mapped_column(Text, default="")
    reasons: Mapped[str] = mapped_column(Text, default="")
    proposals: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[uuid.UUID | None]
    updated_by: Mapped[uuid.UUID | None]
    version: Mapped[int] = mapped_column(Integer, default=1)


class Reminder(Base):
    """A reminder shown to a unit that has not submitted its narrative (one per unit, period
    and day: beat may run twice without sending twice)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("unit_id", "kind", "year", "quarter", "sent_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))
    year: Mapped[int] = mapped_column(Integer)
    quarter: Mapped[int] = mapped_column(Integer, default=0)
    sent_on: Mapped[date]
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
