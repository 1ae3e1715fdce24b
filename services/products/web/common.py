"""What the products pages share: paging, form reading, labels of the codes, errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from flask import current_app, request
from marshmallow import ValidationError
from sqlalchemy import Select

from services.products.web import blp
from shared.clock import LOCAL_TZ
from shared.db import request_session, utcnow
from shared.web import Paged, _l, page_url
from shared.web import paged as shared_paged

PAGE_SIZE = 25

STAGE_LABELS = {
    "production": _l("Sản xuất / nuôi trồng"),
    "pre_processing": _l("Sơ chế"),
    "processing": _l("Chế biến"),
    "packing": _l("Đóng gói"),
    "storage": _l("Bảo quản"),
    "shipping": _l("Giao hàng"),
    "receiving": _l("Nhận hàng"),
}
LOT_STATUS_LABELS = {
    "active": _l("Đang lưu hành"),
    "on_hold": _l("Tạm giữ"),
    "recalled": _l("Bị thu hồi"),
    "destroyed": _l("Đã tiêu hủy"),
}
LOT_STATUS_KINDS = {"active": "ok", "on_hold": "warn", "recalled": "bad", "destroyed": "bad"}
LOT_ORIGIN_LABELS = {
    "produced": _l("Tự sản xuất"),
    "received": _l("Nhận từ cơ sở khác"),
    "split": _l("Tách lô"),
    "merged": _l("Gộp lô"),
    "processed": _l("Chế biến từ lô khác"),
}
LINK_LABELS = {
    "input": _l("Nguyên liệu"),
    "split": _l("Tách lô"),
    "merge": _l("Gộp lô"),
    "shipment": _l("Giao nhận"),
}
PRODUCT_STATUS_LABELS = {"active": _l("Đang sản xuất"), "discontinued": _l("Ngừng sản xuất")}
PRESERVATION_LABELS = {
    "fresh": _l("Tươi sống"),
    "frozen": _l("Đông lạnh"),
    "processed": _l("Đã chế biến"),
}
PARTY_ROLE_LABELS = {
    "producer": _l("Sản xuất"),
    "pre_processor": _l("Sơ chế"),
    "processor": _l("Chế biến"),
    "packer": _l("Đóng gói"),
    "distributor": _l("Phân phối"),
}
CERT_KIND_LABELS = {
    "food_safety": _l("Giấy chứng nhận cơ sở đủ điều kiện ATTP"),
    "commitment": _l("Bản cam kết sản xuất thực phẩm an toàn"),
    "vietgap": _l("VietGAP"),
    "globalgap": _l("GlobalGAP"),
    "organic": _l("Hữu cơ"),
    "gmp": _l("GMP"),
    "haccp": _l("HACCP"),
    "iso22000": _l("ISO 22000"),
    "ocop": _l("OCOP"),
    "other": _l("Khác"),
}
VALIDITY_LABELS = {
    "valid": _l("Còn hiệu lực"),
    "expiring": _l("Sắp hết hạn"),
    "expired": _l("Đã hết hạn"),
}
VALIDITY_KINDS = {"valid": "ok", "expiring": "warn", "expired": "bad"}
SHIPMENT_STATUS_LABELS = {
    "sent": _l("Đang giao"),
    "received": _l("Đã nhận"),
    "cancelled": _l("Đã hủy"),
}
DEADLINE_STATE_LABELS = {
    "met": _l("Đúng hạn"),
    "overdue": _l("Quá hạn"),
    "pending": _l("Đang trong hạn"),
    "not_started": _l("Chưa bắt đầu"),
    "cancelled": _l("Đã hủy"),
}
DEADLINE_STATE_KINDS = {"met": "ok", "overdue": "bad", "pending": "warn", "not_started": ""}


@blp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "STAGE_LABELS": STAGE_LABELS,
        "LOT_STATUS_LABELS": LOT_STATUS_LABELS,
        "LOT_STATUS_KINDS": LOT_STATUS_KINDS,
        "LOT_ORIGIN_LABELS": LOT_ORIGIN_LABELS,
        "LINK_LABELS": LINK_LABELS,
        "PRODUCT_STATUS_LABELS": PRODUCT_STATUS_LABELS,
        "PRESERVATION_LABELS": PRESERVATION_LABELS,
        "PARTY_ROLE_LABELS": PARTY_ROLE_LABELS,
        "CERT_KIND_LABELS": CERT_KIND_LABELS,
        "VALIDITY_LABELS": VALIDITY_LABELS,
        "VALIDITY_KINDS": VALIDITY_KINDS,
        "SHIPMENT_STATUS_LABELS": SHIPMENT_STATUS_LABELS,
        "DEADLINE_STATE_LABELS": DEADLINE_STATE_LABELS,
        "DEADLINE_STATE_KINDS": DEADLINE_STATE_KINDS,
        "page_url": page_url,
    }


# --- paging -----------------------------------------------------------------------------------


def paged(stmt: Select[Any], *, rows: bool = False, size: int = PAGE_SIZE) -> Paged:
    """One page of an ordered statement (`?page=`), shared/web.py's paging."""
    return shared_paged(request_session(), stmt, rows=rows, size=size)


def query_args(schema: Any, names: Iterable[str]) -> dict[str, Any]:
    """The list filters from the query string, checked by the API's query schema (a bad value
    is dropped, as if not given)."""
    raw = {k: request.args[k] for k in names if request.args.get(k)}
    try:
        loaded: dict[str, Any] = schema.load(raw)
    except ValidationError as exc:
        bad = set(exc.messages) if isinstance(exc.messages, dict) else set()
        loaded = schema.load({k: v for k, v in raw.items() if k not in bad})
    return loaded


# --- forms ------------------------------------------------------------------------------------


def form_values(names: Iterable[str]) -> dict[str, str]:
    """The submitted text fields, trimmed (to re-fill the form)."""
    return {name: request.form.get(name, "").strip() for name in names}


def compact(values: Mapping[str, Any], *, nullable: Iterable[str] = ()) -> dict[str, Any]:
    """Drop empty fields (so defaults and "required" apply); those in `nullable` become None
    (an edit clears them)."""
    keep_none = set(nullable)
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value == "" or value is None:
            if key in keep_none:
                out[key] = None
            continue
        out[key] = value
    return out


def aware(value: str | None) -> str | None:
    """An `<input type=datetime-local>` value (Vietnam time) as an aware ISO 8601 moment."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the schema answers "not a valid datetime"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment.isoformat()


def local_input(moment: datetime | None = None) -> str:
    """A moment (default now) as an `<input type=datetime-local>` value in Vietnam time."""
    moment = moment or utcnow()
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M")


def upload_limit() -> int:
    return int(current_app.config["SETTINGS"].upload_max_mb) * 1024 * 1024


def options(labels: Mapping[str, Any], keys: Iterable[str] | None = None) -> list[tuple[str, Any]]:
    return [(key, labels[key]) for key in (keys if keys is not None else labels)]


def first(rows: Iterable[Any], test: Callable[[Any], bool]) -> Any:
    return next((row for row in rows if test(row)), None)
