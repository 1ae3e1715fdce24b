"""The read-only copy of the accounts service's directory (units and establishments) that
other services keep for scope checks and public cards (docs/architecture.md, D20).

Each service declares its own tables from the mixins here (its own metadata) and builds a
`Directory` over them. The copy is kept fresh by pulls (`sync`): rung by the accounts service
after each change and run by beat every minute; an establishment missing from the copy is
fetched once on demand (`get_establishment`), so a brand-new establishment works before any
pull.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shared.db import utcnow
from shared.http import ServiceCallFailed, ServiceClient

log = logging.getLogger(__name__)

# Re-read a little before the last cursor: a transaction that started before the previous pull
# but committed after it carries an older `updated_at`; upserts make the overlap harmless.
OVERLAP = timedelta(minutes=5)
PAGE = 2000


class DirectoryUnitMixin:
    """A management unit as the accounts service last told us (scope checks need the path)."""

    __tablename__ = "directory_units"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    parent_id: Mapped[uuid.UUID | None]
    path: Mapped[str] = mapped_column(String(1024), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="active")
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DirectoryEstablishmentMixin:
    """An establishment's public card and scope facts, copied from the accounts service."""

    __tablename__ = "directory_establishments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    unit_id: Mapped[uuid.UUID] = mapped_column(index=True)
    unit_path: Mapped[str] = mapped_column(String(1024), index=True)
    name: Mapped[str] = mapped_column(String(255))
    address: Mapped[str | None] = mapped_column(String(500))
    phone: Mapped[str | None] = mapped_column(String(20))
    representative: Mapped[str | None] = mapped_column(String(255))
    business_registration_no: Mapped[str | None] = mapped_column(String(32))
    food_safety_status: Mapped[str] = mapped_column(String(16), default="none")
    certificate_no: Mapped[str | None] = mapped_column(String(64))
    certificate_issuer: Mapped[str | None] = mapped_column(String(255))
    certificate_expires_on: Mapped[date | None]
    commitment_signed_on: Mapped[date | None]
    ocop: Mapped[bool] = mapped_column(default=False)
    ocop_stars: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="active")
    # "active" when it has a usable operating account, else "suspended", "revoked" or "none".
    account_status: Mapped[str] = mapped_column(String(16), default="none")
    source_updated_at: Mapped[datetime | None]
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DirectoryStateMixin:
    """Where the last incremental sync stopped."""

    __tablename__ = "directory_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[datetime | None]
    synced_at: Mapped[datetime | None]


_ESTABLISHMENT_FIELDS = (
    "unit_id",
    "unit_path",
    "name",
    "address",
    "phone",
    "representative",
    "business_registration_no",
    "food_safety_status",
    "certificate_no",
    "certificate_issuer",
    "certificate_expires_on",
    "commitment_signed_on",
    "ocop",
    "ocop_stars",
    "status",
    "account_status",
)


def _date(value: Any) -> Any:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _answer(response: Any) -> dict[str, Any]:
    if response.status_code != 200:
        log.error("directory call answered %d: %s", response.status_code, response.text[:500])
        raise ServiceCallFailed(extra={"dependency": "accounts"})
    body: dict[str, Any] = response.json()
    return body


@dataclass(frozen=True)
class Directory:
    """One service's copy: its three tables and its name (the caller of the accounts API)."""

    unit_model: Any
    establishment_model: Any
    state_model: Any
    service: str

    def _client(self, settings: Any) -> ServiceClient:
        return ServiceClient.for_service("accounts", settings, calling_service=self.service)

    def apply_units(self, session: Session, units: Iterable[dict[str, Any]]) -> int:
        """Replace the unit copy with `units` (the whole tree)."""
        model = self.unit_model
        rows = list(units)
        known = {u.id: u for u in session.scalars(select(model))}
        seen: set[uuid.UUID] = set()
        for item in rows:
            unit_id = uuid.UUID(str(item["id"]))
            seen.add(unit_id)
            unit = known.get(unit_id)
            if unit is None:
                unit = model(id=unit_id)
                session.add(unit)
            parent = item.get("parent_id")
            unit.parent_id = uuid.UUID(str(parent)) if parent else None
            unit.path = item["path"]
            unit.code = item["code"]
            unit.name = item["name"]
            unit.status = item.get("status") or "active"
        gone = set(known) - seen
        if gone:
            session.execute(delete(model).where(model.id.in_(gone)))
        session.flush()
        return len(rows)

    def apply_establishments(self, session: Session, items: Iterable[dict[str, Any]]) -> int:
        model = self.establishment_model
        rows = list(items)
        if not rows:
            return 0
        ids = [uuid.UUID(str(item["id"])) for item in rows]
        known = {e.id: e for e in session.scalars(select(model).where(model.id.in_(ids)))}
        for establishment_id, item in zip(ids, rows, strict=True):
            establishment = known.get(establishment_id)
            if establishment is None:
                establishment = model(id=establishment_id)
                session.add(establishment)
            for name in _ESTABLISHMENT_FIELDS:
                value = item.get(name)
                if name == "unit_id":
                    value = uuid.UUID(str(value))
                elif name in {"certificate_expires_on", "commitment_signed_on"}:
                    value = _date(value)
                elif name == "ocop":
                    value = bool(value)
                elif name in {"food_safety_status", "status", "account_status"}:
                    value = value or {"status": "active"}.get(name, "none")
                setattr(establishment, name, value)
            establishment.source_updated_at = _dt(item.get("updated_at"))
        session.flush()
        return len(rows)

    def sync(self, session: Session, settings: Any, *, full: bool = False) -> dict[str, int]:
        """Pull what changed since the last pull (everything when `full`)."""
        state = session.get(self.state_model, "accounts")
        if state is None:
            state = self.state_model(name="accounts")
            session.add(state)
        since = None if full or state.cursor is None else state.cursor - OVERLAP
        client = self._client(settings)
        counts = {"units": 0, "establishments": 0}
        after: str | None = None
        as_of: datetime | None = None
        try:
            while True:
                params: dict[str, Any] = {"limit": PAGE}
                if since is not None:
                    params["since"] = since.isoformat()
                if after:
                    params["after"] = after
                body = _answer(client.get("/api/v1/internal/directory", params=params))
                if as_of is None:
                    as_of = _dt(body["as_of"])
                if body.get("units") is not None:
                    counts["units"] = self.apply_units(session, body["units"])
                counts["establishments"] += self.apply_establishments(
                    session, body["establishments"]
                )
                after = body.get("next_after")
                if not after:
                    break
        finally:
            client.close()
        state.cursor = as_of
        state.synced_at = utcnow()
        session.flush()
        log.info("directory synced for %s: %s", self.service, counts)
        return counts

    def sync_units(self, session: Session, settings: Any) -> int:
        """Replace the unit tree only (one call): for a service that needs the tree and not
        the establishments (the reports service)."""
        client = self._client(settings)
        try:
            body = _answer(client.get("/api/v1/internal/directory", params={"limit": 1}))
        finally:
            client.close()
        return self.apply_units(session, body.get("units") or [])

    def fetch_establishments(self, session: Session, settings: Any, ids: list[uuid.UUID]) -> int:
        """The API fallback: copy these establishments now (a miss on the hot path)."""
        client = self._client(settings)
        try:
            body = _answer(
                client.get(
                    "/api/v1/internal/directory",
                    params={"establishment_id": [str(i) for i in ids], "limit": max(len(ids), 1)},
                )
            )
        finally:
            client.close()
        self.apply_units(session, body.get("units") or [])
        return self.apply_establishments(session, body["establishments"])

    def get_establishment(
        self, session: Session, establishment_id: uuid.UUID, *, settings: Any = None
    ) -> Any:
        """The copied establishment; fetched from the accounts service when not yet copied."""
        found = session.get(self.establishment_model, establishment_id)
        if found is None and settings is not None and settings.service_secret:
            self.fetch_establishments(session, settings, [establishment_id])
            found = session.get(self.establishment_model, establishment_id)
        return found

    def unit_path(
        self, session: Session, unit_id: uuid.UUID | None, *, settings: Any = None
    ) -> str | None:
        """The unit's path in the copied tree; the tree is fetched once when it is unknown."""
        if unit_id is None:
            return None
        model = self.unit_model
        path = session.scalar(select(model.path).where(model.id == unit_id))
        if path is None and settings is not None and settings.service_secret:
            self.fetch_establishments(session, settings, [])
            path = session.scalar(select(model.path).where(model.id == unit_id))
        return path

    # --- scope over the copy: admin all; agency its unit's subtree; establishment itself ----

    def establishments_in_scope(self, session: Session, principal: Any, settings: Any) -> Any:
        """A subquery of the establishment ids whose data the principal manages."""
        from sqlalchemy import false

        model = self.establishment_model
        query = select(model.id)
        if principal.is_admin or principal.is_service:
            return query
        if principal.role == "agency":
            path = self.unit_path(session, principal.unit_id, settings=settings) or "//nothing//"
            return query.where(model.unit_path.startswith(path, autoescape=True))
        if principal.role == "establishment" and principal.establishment_id:
            return query.where(model.id == principal.establishment_id)
        return query.where(false())

    def scope_filter(self, session: Session, principal: Any, column: Any, settings: Any) -> Any:
        """A WHERE clause limiting `column` (an establishment id) to the principal's scope."""
        from sqlalchemy import true

        if principal.is_admin or principal.is_service:
            return true()
        if principal.role == "establishment":
            return column == principal.establishment_id
        return column.in_(self.establishments_in_scope(session, principal, settings))

    def manages(
        self, session: Session, principal: Any, establishment_id: uuid.UUID, settings: Any
    ) -> bool:
        """May the principal read and record the data of this establishment?"""
        if principal.is_admin:
            return True
        if principal.role == "establishment":
            return bool(principal.establishment_id == establishment_id)
        if principal.role == "agency":
            path = self.unit_path(session, principal.unit_id, settings=settings)
            if path is None:
                return False
            found = self.get_establishment(session, establishment_id, settings=settings)
            return found is not None and str(found.unit_path).startswith(path)
        return False
