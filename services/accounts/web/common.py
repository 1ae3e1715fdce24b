"""What the accounts pages share: paging a query, the names of codes, reading forms."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts.domain import scope
from services.accounts.models import Unit
from shared.auth import Principal
from shared.web import PAGE_SIZE, Paged, _l, page_number, page_url, paged

# Paging is shared by every service's pages (shared/web.py).
__all__ = ["PAGE_SIZE", "Paged", "page_number", "page_url", "paged"]


def parse_uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def units_for(session: Session, principal: Principal, *, active_only: bool = True) -> list[Unit]:
    """The units in the caller's scope, in tree order (for filters and select boxes)."""
    stmt = select(Unit).where(Unit.id.in_(scope.units_in_scope(session, principal)))
    if active_only:
        stmt = stmt.where(Unit.status == "active")
    return list(session.scalars(stmt.order_by(Unit.path)))


def unit_options(units: list[Unit]) -> list[tuple[str, str]]:
    top = min((u.path.count("/") for u in units), default=0)
    return [(str(u.id), "\u00a0\u00a0" * (u.path.count("/") - top) + u.name) for u in units]


def form_text(*names: str) -> dict[str, str]:
    """The submitted values of these fields, stripped (to re-fill a form)."""
    return {name: request.form.get(name, "").strip() for name in names}


# The names of codes, in the page's language.
FOOD_SAFETY = {
    "certificate": _l("Cấp Giấy chứng nhận ATTP"),
    "commitment": _l("Ký cam kết"),
    "none": _l("Không thuộc diện"),
}
ACTIVITY = {
    "production": _l("Sản xuất"),
    "pre_processing": _l("Sơ chế"),
    "processing": _l("Chế biến"),
    "trading": _l("Kinh doanh"),
}
SECTOR = {
    "farming": _l("Trồng trọt"),
    "forestry": _l("Lâm nghiệp"),
    "fishery": _l("Thủy sản"),
    "livestock": _l("Chăn nuôi"),
    "salt": _l("Muối"),
    "other": _l("Khác"),
}
ESTABLISHMENT_STATUS = {"active": _l("Đang hoạt động"), "closed": _l("Ngừng hoạt động")}
CERTIFICATE = {
    "valid": _l("Còn hạn"),
    "expiring": _l("Sắp hết hạn (dưới 6 tháng)"),
    "expired": _l("Đã hết hạn"),
    "unknown": _l("Chưa rõ ngày hết hạn"),
}
CERTIFICATE_KIND = {"valid": "ok", "expiring": "warn", "expired": "bad", "unknown": "warn"}
ACCOUNT_STATUS = {
    "active": _l("Đang dùng"),
    "suspended": _l("Tạm ngừng"),
    "revoked": _l("Đã thu hồi"),
}
ACCOUNT_STATUS_KIND = {"active": "ok", "suspended": "warn", "revoked": "bad"}
ROLE = {
    "admin": _l("Quản trị hệ thống"),
    "agency": _l("Cán bộ đơn vị"),
    "establishment": _l("Cơ sở"),
}
REGISTRATION_STATUS = {
    "submitted": _l("Đang chờ xem xét"),
    "changes_requested": _l("Cần bổ sung"),
    "rejected": _l("Bị từ chối"),
    "approved": _l("Đã cấp tài khoản"),
}
REGISTRATION_KIND = {"grant": _l("Cấp mới"), "regrant": _l("Cấp lại")}
UNIT_LEVEL = {
    "province": _l("Tỉnh"),
    "group": _l("Nhóm"),
    "department": _l("Sở, ngành"),
    "sub_department": _l("Chi cục"),
    "district": _l("Huyện, thị xã, thành phố"),
    "commune": _l("Xã"),
    "ward": _l("Phường"),
    "special_zone": _l("Đặc khu"),
    "other": _l("Khác"),
}
UNIT_STATUS = {"active": _l("Đang hoạt động"), "retired": _l("Đã ngừng hoạt động")}
JOB_STATUS = {
    "queued": _l("Đang chờ"),
    "running": _l("Đang chạy"),
    "done": _l("Hoàn tất"),
    "failed": _l("Thất bại"),
}
OUTCOME = {
    "created": _l("Thêm mới"),
    "updated": _l("Cập nhật"),
    "unchanged": _l("Không đổi"),
    "rejected": _l("Bị từ chối"),
}
FIELD = {
    "name": _l("Tên cơ sở"),
    "business_registration_no": _l("Số GCN đăng ký kinh doanh"),
    "business_registration_date": _l("Ngày cấp GCN đăng ký kinh doanh"),
    "tax_code": _l("Mã số thuế"),
    "address": _l("Địa chỉ"),
    "commune": _l("Xã/phường"),
    "unit_id": _l("Đơn vị quản lý"),
    "representative": _l("Người đại diện"),
    "phone": _l("Số điện thoại"),
    "email": _l("Email"),
    "activities": _l("Loại hình hoạt động"),
    "sectors": _l("Lĩnh vực"),
    "food_safety_status": _l("Diện quản lý an toàn thực phẩm"),
    "certificate_no": _l("Số GCN ATTP"),
    "certificate_issuer": _l("Cơ quan cấp GCN ATTP"),
    "certificate_issued_on": _l("Ngày cấp GCN ATTP"),
    "certificate_expires_on": _l("Ngày hết hạn GCN ATTP"),
    "commitment_signed_on": _l("Ngày ký cam kết"),
    "commitment_receiving_unit": _l("Đơn vị nhận cam kết"),
    "ocop": _l("OCOP"),
    "ocop_stars": _l("Số sao OCOP"),
    "status": _l("Trạng thái"),
    "contact_name": _l("Người liên hệ"),
    "contact_phone": _l("Điện thoại liên hệ"),
    "contact_email": _l("Email liên hệ"),
    "requested_username": _l("Tên đăng nhập mong muốn"),
    "note": _l("Ghi chú"),
    "username": _l("Tên đăng nhập"),
    "display_name": _l("Tên hiển thị"),
    "role": _l("Vai trò"),
    "code": _l("Mã"),
    "level": _l("Cấp"),
    "parent_id": _l("Đơn vị cấp trên"),
    "login_prefix": _l("Tiền tố tên đăng nhập"),
}
ACTION = {
    "establishment.create": _l("Tạo cơ sở"),
    "establishment.update": _l("Sửa thông tin"),
    "establishment.move": _l("Chuyển đơn vị quản lý"),
    "account.grant": _l("Cấp tài khoản"),
    "account.rename": _l("Đổi tên đăng nhập"),
    "account.suspend": _l("Tạm ngừng"),
    "account.reactivate": _l("Mở lại"),
    "account.revoke": _l("Thu hồi"),
    "account.regrant": _l("Cấp lại tài khoản"),
    "account.password_reissue": _l("Cấp lại mật khẩu"),
    "account.password_change": _l("Đổi mật khẩu"),
    "unit.create": _l("Tạo đơn vị"),
    "unit.update": _l("Sửa đơn vị"),
    "unit.move": _l("Chuyển đơn vị"),
    "unit.retire": _l("Ngừng hoạt động đơn vị"),
}


def labels() -> dict[str, Any]:
    """The code names, for templates."""
    return {
        "FOOD_SAFETY": FOOD_SAFETY,
        "ACTIVITY": ACTIVITY,
        "SECTOR": SECTOR,
        "ESTABLISHMENT_STATUS": ESTABLISHMENT_STATUS,
        "CERTIFICATE": CERTIFICATE,
        "CERTIFICATE_KIND": CERTIFICATE_KIND,
        "ACCOUNT_STATUS": ACCOUNT_STATUS,
        "ACCOUNT_STATUS_KIND": ACCOUNT_STATUS_KIND,
        "ROLE": ROLE,
        "REGISTRATION_STATUS": REGISTRATION_STATUS,
        "REGISTRATION_KIND": REGISTRATION_KIND,
        "UNIT_LEVEL": UNIT_LEVEL,
        "UNIT_STATUS": UNIT_STATUS,
        "JOB_STATUS": JOB_STATUS,
        "OUTCOME": OUTCOME,
        "FIELD": FIELD,
        "ACTION": ACTION,
        "page_url": page_url,
    }
