"""The establishment list's Excel layout — one table for the import template, the import's
header recognition, and the export, so a file exported here imports back unchanged.

Headers are the ones agencies already use; each field accepts the variants seen in provincial
lists (compared without diacritics, case, punctuation or line breaks).
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.text import fold


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()
    width: int = 16
    import_: bool = True
    export: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("row", "STT", ("Số TT", "TT"), 6, import_=False),
    Column(
        "name",
        "Tên cơ sở",
        (
            "Tên cơ sở sản xuất kinh doanh",
            "Tên cơ sở SXKD",
            "Tên doanh nghiệp",
            "Tên cơ sở/doanh nghiệp",
            "Tên cơ sở, doanh nghiệp",
        ),
        40,
    ),
    Column(
        "business_registration_no",
        "Số GCN ĐKKD",
        (
            "Số giấy chứng nhận đăng ký kinh doanh",
            "Số GCN đăng ký kinh doanh",
            "Số ĐKKD",
            "Số đăng ký kinh doanh",
            "Mã số doanh nghiệp",
            "Số GPKD",
            "Số giấy phép kinh doanh",
        ),
        16,
    ),
    Column(
        "business_registration_date",
        "Ngày cấp ĐKKD",
        ("Ngày cấp GCN ĐKKD", "Ngày cấp giấy ĐKKD", "Ngày đăng ký kinh doanh"),
        12,
    ),
    Column("tax_code", "Mã số thuế", ("MST",), 14),
    Column("address", "Địa chỉ", ("Địa chỉ cơ sở", "Địa chỉ sản xuất", "Địa chỉ trụ sở"), 40),
    Column("commune", "Xã/phường", ("Xã/Phường/Thị trấn", "Xã, phường", "Xã", "Phường"), 18),
    Column(
        "unit_code", "Mã đơn vị quản lý", ("Đơn vị quản lý", "Cơ quan quản lý", "Mã đơn vị"), 14
    ),
    Column(
        "representative",
        "Người đại diện",
        ("Người đại diện theo pháp luật", "Chủ cơ sở", "Họ tên chủ cơ sở", "Họ và tên chủ cơ sở"),
        24,
    ),
    Column("phone", "Số điện thoại", ("Điện thoại", "SĐT", "Số ĐT"), 14),
    Column("email", "Email", ("Thư điện tử", "E-mail"), 24),
    Column("activities", "Loại hình hoạt động", ("Loại hình",), 20),
    Column("sectors", "Lĩnh vực", ("Ngành", "Lĩnh vực hoạt động"), 18),
    Column(
        "food_safety_status",
        "Diện quản lý",
        ("Diện quản lý ATTP", "Hình thức quản lý", "Diện cấp GCN/ký cam kết"),
        16,
    ),
    Column(
        "certificate_no",
        "Số GCN ATTP",
        ("Số giấy chứng nhận ATTP", "Số GCN đủ điều kiện ATTP", "Số GCN"),
        22,
    ),
    Column("certificate_issuer", "Cơ quan cấp GCN", ("Cơ quan cấp", "Nơi cấp GCN"), 22),
    Column("certificate_issued_on", "Ngày cấp GCN", ("Ngày cấp GCN ATTP",), 12),
    Column(
        "certificate_expires_on",
        "Ngày hết hạn GCN",
        ("Ngày hết hạn", "Hạn GCN", "Hiệu lực đến"),
        12,
    ),
    Column("commitment_signed_on", "Ngày ký cam kết", ("Ngày cam kết",), 12),
    Column("commitment_receiving_unit", "Đơn vị nhận cam kết", ("Cơ quan nhận cam kết",), 22),
    Column("ocop", "OCOP", ("Tham gia OCOP", "Sản phẩm OCOP"), 8),
    Column("ocop_stars", "Số sao OCOP", ("Hạng sao OCOP", "Xếp hạng OCOP"), 8),
    Column("certificate_state", "Tình trạng GCN", (), 14, import_=False),
    Column("has_account", "Đã có tài khoản", (), 10, import_=False),
)
REQUIRED = ("name", "business_registration_no", "unit_code")
IMPORT_COLUMNS = tuple(c for c in COLUMNS if c.import_)

ACTIVITY_NAMES = {
    "production": "Sản xuất",
    "pre_processing": "Sơ chế",
    "processing": "Chế biến",
    "trading": "Kinh doanh",
}
SECTOR_NAMES = {
    "farming": "Trồng trọt",
    "forestry": "Lâm nghiệp",
    "fishery": "Thủy sản",
    "livestock": "Chăn nuôi",
    "salt": "Muối",
    "other": "Khác",
}
STATUS_NAMES = {"certificate": "Cấp GCN ATTP", "commitment": "Ký cam kết", "none": ""}
CERTIFICATE_STATE_NAMES = {
    "valid": "Còn hạn",
    "expiring": "Sắp hết hạn",
    "expired": "Hết hạn",
    "unknown": "Chưa rõ hạn",
}

_ACTIVITY_WORDS = (
    {fold(v): k for k, v in ACTIVITY_NAMES.items()}
    | {
        "sx": "production",
        "so che": "pre_processing",
        "che bien": "processing",
        "kd": "trading",
        "thuong mai": "trading",
        "buon ban": "trading",
    }
    | {k.replace("_", " "): k for k in ACTIVITY_NAMES}
)
_SECTOR_WORDS = (
    {fold(v): k for k, v in SECTOR_NAMES.items()}
    | {
        "nong nghiep": "farming",
        "trong trot": "farming",
        "lam san": "forestry",
        "thuy hai san": "fishery",
        "nuoi trong thuy san": "fishery",
        "khai thac thuy san": "fishery",
        "chan nuoi thu y": "livestock",
    }
    | {k: k for k in SECTOR_NAMES}
)


def aliases() -> dict[str, list[str]]:
    return {c.key: [c.header, *c.aliases] for c in IMPORT_COLUMNS}


def parse_codes(text: str | None, words: dict[str, str]) -> tuple[list[str], list[str]]:
    """ "Sản xuất, Chế biến" → (["production", "processing"], unknown words)."""
    found, unknown = [], []
    for part in (text or "").replace(";", ",").replace("/", ",").replace("\n", ",").split(","):
        key = fold(part)
        if not key:
            continue
        if key in words:
            found.append(words[key])
        else:
            unknown.append(part.strip())
    return found, unknown


def activities(text: str | None) -> tuple[list[str], list[str]]:
    return parse_codes(text, _ACTIVITY_WORDS)


def sectors(text: str | None) -> tuple[list[str], list[str]]:
    return parse_codes(text, _SECTOR_WORDS)


def food_safety_status(text: str | None) -> str | None:
    """ "Cấp GCN ATTP" → certificate, "Ký cam kết" → commitment, "" → None (inferred later)."""
    key = fold(text or "")
    if not key:
        return None
    if "cam ket" in key or key == "commitment":
        return "commitment"
    if "gcn" in key or "giay chung nhan" in key or "chung nhan" in key or key == "certificate":
        return "certificate"
    if key in {"none", "khong", "khong thuoc dien"}:
        return "none"
    raise ValueError(text)
