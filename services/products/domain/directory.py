"""The read-only copy of the accounts service's directory (units and establishments).

Scope checks and public cards read the copy, never the accounts service per request. The
copy is kept fresh by pulls (`sync`): rung by the accounts service after each change and run
by beat every minute; an establishment missing from the copy is fetched once on demand
(`ensure_establishment`), so a brand-new establishment works before any pull.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.products.models import DirectoryEstablishment, DirectoryState, DirectoryUnit
from shared.db import utcnow
from shared.http import ServiceCallFailed, ServiceClient

log = logging.getLogger(__name__)

# Re-read a little before the last cursor: a transaction that started before the previous pull
# but committed after it carries an older `updated_at`; upserts make the overlap harmless.
OVERLAP = timedelta(minutes=5)
PAGE = 2000
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
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value


def _dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def apply_units(session: Session, units: Iterable[dict[str, Any]]) -> int:
    """Replace the unit copy with `units` (the whole tree)."""
    rows = list(units)
    known = {u.id: u for u in session.scalars(select(DirectoryUnit))}
    seen: set[uuid.UUID] = set()
    for item in rows:
        unit_id = uuid.UUID(str(item["id"]))
        seen.add(unit_id)
        unit = known.get(unit_id)
        if unit is None:
            unit = DirectoryUnit(id=unit_id)
            session.add(unit)
        parent = item.get("parent_id")
        unit.parent_id = uuid.UUID(str(parent)) if parent else None
        unit.path = item["path"]
        unit.code = item["code"]
        unit.name = item["name"]
        unit.status = item.get("status") or "active"
    gone = set(known) - seen
    if gone:
        session.execute(delete(DirectoryUnit).where(DirectoryUnit.id.in_(gone)))
    session.flush()
    return len(rows)


def apply_establishments(session: Session, items: Iterable[dict[str, Any]]) -> int:
    rows = list(items)
    if not rows:
        return 0
    ids = [uuid.UUID(str(item["id"])) for item in rows]
    known = {
        e.id: e
        for e in session.scalars(
            select(DirectoryEstablishment).where(DirectoryEstablishment.id.in_(ids))
        )
    }
    for establishment_id, item in zip(ids, rows, strict=True):
        establishment = known.get(establishment_id)
        if establishment is None:
            establishment = DirectoryEstablishment(id=establishment_id)
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


def _answer(response: Any) -> dict[str, Any]:
    if response.status_code != 200:
        log.error("directory call answered %d: %s", response.status_code, response.text[:500])
        raise ServiceCallFailed(extra={"dependency": "accounts"})
    body: dict[str, Any] = response.json()
    return body


def _client(settings: Any) -> ServiceClient:
    return ServiceClient.for_service("accounts", settings, calling_service="products")


def sync(session: Session, settings: Any, *, full: bool = False) -> dict[str, int]:
    """Pull what changed since the last pull (everything when `full`)."""
    state = session.get(DirectoryState, "accounts")
    if state is None:
        state = DirectoryState(name="accounts")
        session.add(state)
    since = None if full or state.cursor is None else state.cursor - OVERLAP
    client = _client(settings)
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
                counts["units"] = apply_units(session, body["units"])
            counts["establishments"] += apply_establishments(session, body["establishments"])
            after = body.get("next_after")
            if not after:
                break
    finally:
        client.close()
    state.cursor = as_of
    state.synced_at = utcnow()
    session.flush()
    log.info("directory synced: %s", counts)
    return counts


def fetch_establishments(session: Session, settings: Any, ids: list[uuid.UUID]) -> int:
    """The API fallback: copy these establishments now (a miss on the hot path)."""
    client = _client(settings)
    try:
        body = _answer(
            client.get(
                "/api/v1/internal/directory",
                params={"establishment_id": [str(i) for i in ids], "limit": max(len(ids), 1)},
            )
        )
    finally:
        client.close()
    apply_units(session, body.get("units") or [])
    return apply_establishments(session, body["establishments"])


def get_establishment(
    session: Session, establishment_id: uuid.UUID, *, settings: Any = None
) -> DirectoryEstablishment | None:
    """The copied establishment; fetched from the accounts service when not yet copied."""
    found = session.get(DirectoryEstablishment, establishment_id)
    if found is None and settings is not None and settings.service_secret:
        fetch_establishments(session, settings, [establishment_id])
        found = session.get(DirectoryEstablishment, establishment_id)
    return found


def unit_path(session: Session, unit_id: uuid.UUID | None, *, settings: Any = None) -> str | None:
    """The unit's path in the copied tree; the tree is fetched once when the unit is unknown."""
    if unit_id is None:
        return None
    path = session.scalar(select(DirectoryUnit.path).where(DirectoryUnit.id == unit_id))
    if path is None and settings is not None and settings.service_secret:
        fetch_establishments(session, settings, [])
        path = session.scalar(select(DirectoryUnit.path).where(DirectoryUnit.id == unit_id))
    return path
