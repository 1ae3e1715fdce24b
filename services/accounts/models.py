"""Accounts service data: management units, establishments, accounts, sessions, audit log."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared.db import (
    NAMING_CONVENTION,
    TYPE_ANNOTATION_MAP,
    JSONType,
    Timestamps,
    UUIDPrimaryKey,
    utcnow,
)
from shared.jobs import JOB_STATUSES, JobMixin


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = TYPE_ANNOTATION_MAP


UNIT_LEVELS = (
    "province",
    "group",
    "department",
    "sub_department",
    "district",
    "commune",
    "ward",
    "special_zone",
    "other",
)
UNIT_STATUSES = ("active", "retired")
ROLES = ("admin", "agency", "establishment")
ACCOUNT_STATUSES = ("active", "suspended", "revoked")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Unit(UUIDPrimaryKey, Timestamps, Base):
    """A management unit (đơn vị / cơ quan quản lý) in the province's tree."""

    __tablename__ = "units"
    __table_args__ = (
        CheckConstraint(_in("level", UNIT_LEVELS), name="level"),
        CheckConstraint(_in("status", UNIT_STATUSES), name="status"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    name_folded: Mapped[str] = mapped_column(String(255), index=True)
    level: Mapped[str] = mapped_column(String(32))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    # "/<root id>/…/<own id>/": a subtree is one prefix match, on PostgreSQL and SQLite alike.
    path: Mapped[str] = mapped_column(String(1024), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    login_prefix: Mapped[str | None] = mapped_column(String(32), unique=True)
    retired_at: Mapped[datetime | None]
    retired_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    parent: Mapped[Unit | None] = relationship(remote_side="Unit.id")

    __mapper_args__ = {"version_id_col": version}


FOOD_SAFETY_STATUSES = ("certificate", "commitment", "none")
ESTABLISHMENT_STATUSES = ("active", "closed")
ACTIVITIES = ("production", "pre_processing", "processing", "trading")
SECTORS = ("farming", "forestry", "fishery", "livestock", "salt", "other")


class Establishment(UUIDPrimaryKey, Timestamps, Base):
    """An establishment (cơ sở sản xuất kinh doanh) managed by exactly one unit."""

    __tablename__ = "establishments"
    __table_args__ = (
        CheckConstraint(_in("food_safety_status", FOOD_SAFETY_STATUSES), name="food_safety"),
        CheckConstraint(_in("status", ESTABLISHMENT_STATUSES), name="status"),
        CheckConstraint("ocop_stars IS NULL OR ocop_stars BETWEEN 3 AND 5", name="ocop_stars"),
    )

    name: Mapped[str] = mapped_column(String(255))
    name_folded: Mapped[str] = mapped_column(String(255), index=True)
    business_registration_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    business_registration_date: Mapped[date | None]
    tax_code: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str | None] = mapped_column(String(500))
    commune: Mapped[str | None] = mapped_column(String(255))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    representative: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    # Sorted codes between bars ("|fishery|production|"): a category filter is one LIKE on
    # PostgreSQL and SQLite alike, and an import compares the whole set as one string.
    activities: Mapped[str] = mapped_column(String(100), default="|")
    sectors: Mapped[str] = mapped_column(String(100), default="|")
    food_safety_status: Mapped[str] = mapped_column(String(16), default="none", index=True)
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    certificate_issuer: Mapped[str | None] = mapped_column(String(255))
    certificate_issued_on: Mapped[date | None]
    certificate_expires_on: Mapped[date | None] = mapped_column(index=True)
    commitment_signed_on: Mapped[date | None]
    commitment_receiving_unit: Mapped[str | None] = mapped_column(String(255))
    ocop: Mapped[bool] = mapped_column(default=False, index=True)
    ocop_stars: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="active")
    # fold(name + address + representative): diacritic-insensitive search in one column.
    search_text: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship()

    __mapper_args__ = {"version_id_col": version}


class EstablishmentAssignment(Base):
    """Which unit managed an establishment when: moves keep their history, and reports of a
    past date count each establishment under the unit that managed it then."""

    __tablename__ = "establishment_assignments"
    __table_args__ = (
        Index("ix_establishment_assignments_period", "establishment_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    establishment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("establishments.id"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None]


class Account(UUIDPrimaryKey, Timestamps, Base):
    """A login (tài khoản): a management account (admin, agency) or an operating account."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(_in("status", ACCOUNT_STATUSES), name="status"),
        CheckConstraint(
            "(role = 'agency' AND unit_id IS NOT NULL AND establishment_id IS NULL)"
            " OR (role = 'establishment' AND establishment_id IS NOT NULL)"
            " OR (role = 'admin' AND establishment_id IS NULL)",
            name="role_scope",
        ),
    )

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"), index=True)
    establishment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("establishments.id"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="active")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    password_changed_at: Mapped[datetime | None]
    token_version: Mapped[int] = mapped_column(Integer, default=1)
    last_login_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit | None] = relationship()
    establishment: Mapped[Establishment | None] = relationship()

    __mapper_args__ = {"version_id_col": version}


class UsernameHistory(Base):
    """Every login name an account has held; a name once used stays with its account."""

    __tablename__ = "username_history"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[datetime] = mapped_column(default=utcnow)
    valid_to: Mapped[datetime | None]


class LoginSession(Base):
    """A login: the refresh token's hash, rotated on every refresh; logout revokes it."""

    __tablename__ = "login_sessions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    refresh_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class AuditEvent(Base):
    """Append-only (database triggers refuse UPDATE and DELETE): who did what, when, why."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[uuid.UUID | None]
    actor_username: Mapped[str] = mapped_column(String(64))
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    # The unit whose officers may read this row (scope of the audit trail).
    unit_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    request_id: Mapped[str | None] = mapped_column(String(128))


class Job(JobMixin, Base):
    """Imports and bulk grants of this service (see shared/jobs.py)."""

    __tablename__ = "jobs"
    __table_args__ = (CheckConstraint(_in("status", JOB_STATUSES), name="status"),)


class ImportRow(Base):
    """One row of an import's report: what happened to it and why."""

    __tablename__ = "import_rows"
    __table_args__ = (Index("ix_import_rows_job_outcome", "job_id", "outcome"),)

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    business_registration_no: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(255))
    establishment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    messages: Mapped[list[dict[str, str]] | None] = mapped_column(JSONType)
    # For an updated row: {field: [before, after]} — the establishment's history of the import.
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


REGISTRATION_KINDS = ("grant", "regrant")
REGISTRATION_STATUSES = ("submitted", "changes_requested", "rejected", "approved")


class Registration(UUIDPrimaryKey, Timestamps, Base):
    """An application for an account (Mẫu 03), from the public form or an officer."""

    __tablename__ = "registrations"
    __table_args__ = (
        CheckConstraint(_in("kind", REGISTRATION_KINDS), name="kind"),
        CheckConstraint(_in("status", REGISTRATION_STATUSES), name="status"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="submitted", index=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("units.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    business_registration_no: Mapped[str | None] = mapped_column(String(32), index=True)
    establishment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("establishments.id"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))
    submitted_by: Mapped[uuid.UUID | None]
    # The applicant's way back in (to answer a change request): only its hash is kept.
    applicant_token_hash: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


PASSWORD_HELP_STATUSES = ("open", "done", "dismissed")


class PasswordHelpRequest(Base):
    """ "Forgot my password": the holder asks the managing unit, which re-issues a one-time
    password and tells them by phone (no e-mail is assumed). Kept, with who handled it."""

    __tablename__ = "password_help_requests"
    __table_args__ = (
        CheckConstraint(_in("status", PASSWORD_HELP_STATUSES), name="status"),
        Index("ix_password_help_open", "status", "unit_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64))
    # Set when the login name exists (the asker is never told whether it does).
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    unit_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("units.id"))
    contact: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    handled_by: Mapped[str | None] = mapped_column(String(64))
    handled_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
