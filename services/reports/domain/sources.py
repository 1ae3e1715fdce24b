"""What the reports service reads from the other services, through their internal APIs only
(service tokens). Each answer counts per unit that directly manages establishments; the
roll-up over the tree is ours (domain/tree.py).

A source that does not answer after the client's retries raises `ServiceCallFailed` (a
transient error: the compile job retries with backoff, then fails clearly); an answer that is
not what we asked for raises `SourceRefused` (not retried).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from shared.errors import DomainError
from shared.http import ServiceClient

ACCOUNTS_FIELDS = (
    "establishments",
    "certificate_subject",
    "commitment_subject",
    "ocop",
    "with_account",
    "certificate_with_account",
    "commitment_with_account",
    "ocop_with_account",
)
PRODUCTS_FIELDS = (
    "products",
    "ocop_products",
    "key_products",
    "packaged_processed",
    "packaged_processed_traceable",
    "lots_created",
    "recalls_opened",
    "recalls_closed",
    "recalls_open",
)
LABELS_FIELDS = ("labels_issued", "batches", "scans", "counterfeit_alerts")


class SourceRefused(DomainError):
    status = 502
    code = "source_refused"
    vi = "Một dịch vụ khác trả lời không đúng yêu cầu; báo cáo chưa được lập."
    en = "Another service gave an unexpected answer; the report was not compiled."


@dataclass
class Snapshot:
    """Everything one compilation read, per unit id (as text)."""

    as_of: date
    start: date
    end: date
    establishments: dict[str, dict[str, int]] = field(default_factory=dict)
    grants: dict[str, dict[str, int]] = field(default_factory=dict)  # unit → month → n
    products: dict[str, dict[str, int]] = field(default_factory=dict)
    labels: dict[str, dict[str, int]] = field(default_factory=dict)
    # OCOP and key products per unit, and how many of them carry a QR code.
    ocop_or_key_products: dict[str, int] = field(default_factory=dict)
    ocop_or_key_with_qr: dict[str, int] = field(default_factory=dict)

    def units(self) -> set[str]:
        found: set[str] = set()
        for table in (self.establishments, self.grants, self.products, self.labels):
            found.update(table)
        found.update(self.ocop_or_key_products)
        return found


def _json(client: ServiceClient, path: str, params: dict[str, str]) -> dict[str, Any]:
    response = client.get(path, params=params)
    if response.status_code != 200:
        raise SourceRefused(
            extra={"source": f"{client.base_url}{path}", "status": response.status_code}
        )
    body = response.json()
    if not isinstance(body, dict):
        raise SourceRefused(extra={"source": f"{client.base_url}{path}"})
    return body


def _per_unit(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        counts = out.setdefault(str(row["unit_id"]), dict.fromkeys(names, 0))
        for name in names:
            counts[name] += int(row.get(name) or 0)
    return out


def read(settings: Any, as_of: date, start: date, end: date) -> Snapshot:
    """Read every source for a period, all or nothing."""
    snapshot = Snapshot(as_of=as_of, start=start, end=end)
    period = {"as_of": as_of.isoformat(), "from": start.isoformat(), "to": end.isoformat()}

    accounts = ServiceClient.for_service("accounts", settings, calling_service="reports")
    try:
        body = _json(
            accounts, "/api/v1/internal/indicators/establishments", {"as_of": period["as_of"]}
        )
        snapshot.establishments = _per_unit(body["units"], ACCOUNTS_FIELDS)
        body = _json(
            accounts,
            "/api/v1/internal/indicators/grants",
            {"from": period["from"], "to": period["to"]},
        )
        for row in body["months"]:
            months = snapshot.grants.setdefault(str(row["unit_id"]), {})
            months[row["month"]] = months.get(row["month"], 0) + int(row["granted"])
    finally:
        accounts.close()

    products = ServiceClient.for_service("products", settings, calling_service="reports")
    try:
        body = _json(products, "/api/v1/internal/indicators", period)
        snapshot.products = _per_unit(body["units"], PRODUCTS_FIELDS)
        targets = body.get("target_products") or []
    finally:
        products.close()

    labels = ServiceClient.for_service("labels", settings, calling_service="reports")
    try:
        body = _json(labels, "/api/v1/internal/indicators", period)
        snapshot.labels = _per_unit(body["units"], LABELS_FIELDS)
        with_codes = {str(p) for p in body.get("products_with_codes") or []}
    finally:
        labels.close()

    for product in targets:
        unit = str(product["unit_id"])
        snapshot.ocop_or_key_products[unit] = snapshot.ocop_or_key_products.get(unit, 0) + 1
        if str(product["id"]) in with_codes:
            snapshot.ocop_or_key_with_qr[unit] = snapshot.ocop_or_key_with_qr.get(unit, 0) + 1
    return snapshot
