"""Realistic Quảng Ninh establishment rows and import files: the demo province, tests, benchmarks.

Deterministic: the same `seed` (and `as_of`) gives the same rows. The import file follows the
layout agencies already send: title rows above a table with Vietnamese headers.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import xlsxwriter

from shared.text import fold

TEMPLATE_HEADERS = [
    "STT",
    "Tên cơ sở",
    "Số GCN ĐKKD",
    "Ngày cấp ĐKKD",
    "Mã số thuế",
    "Địa chỉ",
    "Xã/phường",
    "Mã đơn vị quản lý",
    "Người đại diện",
    "Số điện thoại",
    "Email",
    "Loại hình hoạt động",
    "Lĩnh vực",
    "Diện quản lý",
    "Số GCN ATTP",
    "Cơ quan cấp GCN",
    "Ngày cấp GCN",
    "Ngày hết hạn GCN",
    "Ngày ký cam kết",
    "Đơn vị nhận cam kết",
    "OCOP",
    "Số sao OCOP",
]
# Template header → row key (STT is the running number, not a field).
HEADER_FIELDS = {
    "Tên cơ sở": "name",
    "Số GCN ĐKKD": "business_registration_no",
    "Ngày cấp ĐKKD": "business_registration_date",
    "Mã số thuế": "tax_code",
    "Địa chỉ": "address",
    "Xã/phường": "commune",
    "Mã đơn vị quản lý": "unit_code",
    "Người đại diện": "representative",
    "Số điện thoại": "phone",
    "Email": "email",
    "Loại hình hoạt động": "activities",
    "Lĩnh vực": "sectors",
    "Diện quản lý": "food_safety_status",
    "Số GCN ATTP": "certificate_no",
    "Cơ quan cấp GCN": "certificate_issuer",
    "Ngày cấp GCN": "certificate_issued_on",
    "Ngày hết hạn GCN": "certificate_expires_on",
    "Ngày ký cam kết": "commitment_signed_on",
    "Đơn vị nhận cam kết": "commitment_receiving_unit",
    "OCOP": "ocop",
    "Số sao OCOP": "ocop_stars",
}
ACTIVITY_LABELS = {
    "production": "Sản xuất",
    "pre_processing": "Sơ chế",
    "processing": "Chế biến",
    "trading": "Kinh doanh",
}
SECTOR_LABELS = {
    "farming": "Trồng trọt",
    "forestry": "Lâm nghiệp",
    "fishery": "Thủy sản",
    "livestock": "Chăn nuôi",
    "salt": "Muối",
    "other": "Khác",
}
STATUS_LABELS = {"certificate": "Cấp GCN ATTP", "commitment": "Ký cam kết", "none": ""}
TITLE_ROWS = [
    "DANH SÁCH CƠ SỞ SẢN XUẤT, KINH DOANH THỰC PHẨM NÔNG LÂM THỦY SẢN",
    "(Kèm theo Công văn số      /SNN-QLCL ngày     tháng     năm 2024 của Sở Nông nghiệp và PTNT)",
    "",
]

# unit code → (kind and name of the district-level locality, {commune kind: names}).
# Pre-2025 administrative map, matching the 2024 unit tree (Appendix 01).
PLACES: dict[str, tuple[str, str, dict[str, list[str]]]] = {
    "HA-LONG": ("TP", "Hạ Long", {
        "Phường": ["Hồng Hải", "Hồng Gai", "Bạch Đằng", "Hà Khẩu", "Hà Tu", "Hà Lầm", "Hà Trung",
                   "Hà Phong", "Cao Xanh", "Cao Thắng", "Giếng Đáy", "Hùng Thắng", "Bãi Cháy",
                   "Tuần Châu", "Việt Hưng", "Đại Yên", "Hoành Bồ"],
        "Xã": ["Thống Nhất", "Sơn Dương", "Lê Lợi", "Dân Chủ", "Quảng La", "Vũ Oai", "Đồng Lâm",
               "Đồng Sơn", "Hòa Bình", "Kỳ Thượng", "Tân Dân", "Bằng Cả"],
    }),
    "CAM-PHA": ("TP", "Cẩm Phả", {
        "Phường": ["Cẩm Đông", "Cẩm Tây", "Cẩm Thành", "Cẩm Trung", "Cẩm Bình", "Cẩm Thủy",
                   "Cẩm Thạch", "Cẩm Thịnh", "Cẩm Phú", "Cẩm Sơn", "Quang Hanh", "Mông Dương",
                   "Cửa Ông"],
        "Xã": ["Cộng Hòa", "Cẩm Hải", "Dương Huy"],
    }),
    "UONG-BI": ("TP", "Uông Bí", {
        "Phường": ["Quang Trung", "Trưng Vương", "Thanh Sơn", "Bắc Sơn", "Nam Khê", "Vàng Danh",
                   "Yên Thanh", "Phương Đông", "Phương Nam", "Thượng Yên Công"],
    }),
    "MONG-CAI": ("TP", "Móng Cái", {
        "Phường": ["Ka Long", "Trần Phú", "Hòa Lạc", "Ninh Dương", "Trà Cổ", "Hải Hòa", "Hải Yên",
                   "Bình Ngọc"],
        "Xã": ["Hải Xuân", "Hải Đông", "Hải Tiến", "Hải Sơn", "Vạn Ninh", "Quảng Nghĩa", "Bắc Sơn",
               "Vĩnh Trung", "Vĩnh Thực"],
    }),
    "DONG-TRIEU": ("TX", "Đông Triều", {
        "Phường": ["Đức Chính", "Mạo Khê", "Kim Sơn", "Đông Triều", "Xuân Sơn", "Hưng Đạo",
                   "Yên Thọ", "Hoàng Quế", "Hồng Phong", "Tràng An"],
        "Xã": ["An Sinh", "Bình Khê", "Tràng Lương", "Việt Dân", "Nguyễn Huệ", "Hồng Thái Tây",
               "Hồng Thái Đông", "Tân Việt", "Thủy An", "Bình Dương"],
    }),
    "QUANG-YEN": ("TX", "Quảng Yên", {
        "Phường": ["Quảng Yên", "Minh Thành", "Đông Mai", "Cộng Hòa", "Yên Giang", "Nam Hòa",
                   "Yên Hải", "Phong Hải", "Phong Cốc", "Hà An", "Tân An"],
        "Xã": ["Hiệp Hòa", "Sông Khoai", "Tiền An", "Cẩm La", "Liên Hòa", "Liên Vị", "Tiền Phong"],
    }),
    "VAN-DON": ("Huyện", "Vân Đồn", {
        "Thị trấn": ["Cái Rồng"],
        "Xã": ["Đông Xá", "Hạ Long", "Đài Xuyên", "Bình Dân", "Vạn Yên", "Đoàn Kết", "Quan Lạn",
               "Minh Châu", "Ngọc Vừng", "Thắng Lợi", "Bản Sen"],
    }),
    "TIEN-YEN": ("Huyện", "Tiên Yên", {
        "Thị trấn": ["Tiên Yên"],
        "Xã": ["Đông Ngũ", "Đông Hải", "Hải Lạng", "Đồng Rui", "Yên Than", "Tiên Lãng", "Điền Xá",
               "Phong Dụ", "Đại Dực", "Hà Lâu"],
    }),
    "HAI-HA": ("Huyện", "Hải Hà", {
        "Thị trấn": ["Quảng Hà"],
        "Xã": ["Quảng Long", "Quảng Chính", "Quảng Minh", "Quảng Thành", "Quảng Thịnh",
               "Quảng Đức", "Quảng Sơn", "Quảng Phong", "Đường Hoa", "Tiến Tới", "Cái Chiên"],
    }),
    "DAM-HA": ("Huyện", "Đầm Hà", {
        "Thị trấn": ["Đầm Hà"],
        "Xã": ["Quảng Tân", "Quảng Lâm", "Quảng An", "Đại Bình", "Tân Bình", "Tân Lập", "Dực Yên"],
    }),
    "BA-CHE": ("Huyện", "Ba Chẽ", {
        "Thị trấn": ["Ba Chẽ"],
        "Xã": ["Thanh Sơn", "Thanh Lâm", "Đạp Thanh", "Nam Sơn", "Lương Mông", "Đồn Đạc",
               "Minh Cầm"],
    }),
    "BINH-LIEU": ("Huyện", "Bình Liêu", {
        "Thị trấn": ["Bình Liêu"],
        "Xã": ["Hoành Mô", "Đồng Văn", "Đồng Tâm", "Lục Hồn", "Tình Húc", "Vô Ngại", "Húc Động"],
    }),
    "CO-TO": ("Huyện", "Cô Tô", {"Thị trấn": ["Cô Tô"], "Xã": ["Đồng Tiến", "Thanh Lân"]}),
}  # fmt: skip
STREETS = ["Trần Hưng Đạo", "Lê Thánh Tông", "Nguyễn Văn Cừ", "Hạ Long", "Trần Phú", "Lê Lợi",
           "Quang Trung", "Bạch Đằng", "Hùng Vương", "Nguyễn Du", "Lý Thường Kiệt",
           "Hai Bà Trưng"]  # fmt: skip
HAMLETS = ["Đồng Tâm", "Nam Hả", "Bắc Hả", "Khe Lục", "Đồng Cậy", "Pò Hèn", "Nà Pá", "Bản Mới",
           "Tân Hợp", "Cái Bầu", "Đông Hải", "Xóm Giữa", "Trại Mới", "Làng Cổng"]  # fmt: skip

FAMILY_NAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
                "Dương", "Lý", "Phan", "Đinh", "Lương", "Tô", "Mạc", "Chu", "Triệu"]  # fmt: skip
FAMILY_WEIGHTS = [38, 11, 9, 7, 5, 4, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1]
MIDDLE = {"m": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thành", "Công", "Tiến", "Ngọc"],
          "f": ["Thị", "Thu", "Ngọc", "Thanh", "Kim", "Hồng", "Minh", "Phương",
                "Thị Thu"]}  # fmt: skip
GIVEN = {
    "m": ["Hùng", "Dũng", "Tuấn", "Hải", "Long", "Nam", "Sơn", "Thắng", "Cường", "Quân", "Bình",
          "Toàn", "Hiếu", "Khánh", "Đạt", "Hưng", "Phúc", "Trường", "Việt", "Quý"],
    "f": ["Lan", "Hương", "Hoa", "Mai", "Hằng", "Thảo", "Ngọc", "Nga", "Huyền", "Trang", "Yến",
          "Thủy", "Phượng", "Liên", "Hiền", "Nhung", "Oanh", "Dung", "Tuyết", "Loan"],
}  # fmt: skip

# product → (sector, secondary sector or None, activities it plausibly involves)
PRODUCTS: dict[str, tuple[str, str | None, tuple[str, ...]]] = {
    "chả mực": ("fishery", None, ("processing", "trading")),
    "hải sản": ("fishery", None, ("pre_processing", "trading")),
    "nước mắm": ("fishery", "salt", ("processing",)),
    "ngao": ("fishery", None, ("production", "pre_processing")),
    "hàu": ("fishery", None, ("production", "trading")),
    "tôm": ("fishery", None, ("production", "pre_processing")),
    "sá sùng": ("fishery", None, ("pre_processing", "trading")),
    "chè": ("farming", None, ("production", "processing")),
    "miến dong": ("farming", None, ("processing",)),
    "ba kích": ("forestry", "farming", ("production", "processing")),
    "quế hồi": ("forestry", None, ("production", "pre_processing")),
    "rượu": ("other", "farming", ("processing",)),
    "mật ong": ("livestock", "forestry", ("production", "trading")),
    "gà đồi": ("livestock", None, ("production",)),
    "thịt lợn": ("livestock", None, ("pre_processing", "trading")),
    "rau an toàn": ("farming", None, ("production", "trading")),
    "gạo": ("farming", None, ("production", "processing")),
    "nấm": ("farming", None, ("production",)),
    "muối": ("salt", None, ("production",)),
}
CERT_ISSUERS = [
    ("QLCL", "Chi cục Quản lý Chất lượng Nông lâm sản và Thủy sản Quảng Ninh", 6),
    ("CCTS", "Chi cục Thủy sản Quảng Ninh", 2),
    ("CNTY", "Chi cục Chăn nuôi và Thú y Quảng Ninh", 1),
    ("TTBVTV", "Chi cục Trồng trọt và Bảo vệ thực vật Quảng Ninh", 1),
]
MOBILE_PREFIXES = ["090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035",
                   "036", "037", "038", "039", "081", "082", "083", "084", "085", "086", "088",
                   "070", "076", "077", "078", "079", "056", "058", "059"]  # fmt: skip


def _person(rng: random.Random) -> str:
    sex = rng.choice("mf")
    family = rng.choices(FAMILY_NAMES, FAMILY_WEIGHTS)[0]
    middle = rng.choice(MIDDLE[sex])
    given = rng.choice([name for name in GIVEN[sex] if name not in middle])
    return f"{family} {middle} {given}"


def _place(rng: random.Random, unit_code: str) -> tuple[str, str, str, str]:
    """(address, commune, district display, commune name) near the managing unit."""
    district_kind, district, communes = PLACES.get(unit_code) or PLACES[rng.choice(list(PLACES))]
    commune_kind = rng.choice(list(communes))
    commune_name = rng.choice(communes[commune_kind])
    commune = f"{commune_kind} {commune_name}"
    district_display = f"{district_kind} {district}"
    if commune_kind == "Phường":
        if rng.random() < 0.5:
            street = f"Số {rng.randint(1, 250)}, Tổ {rng.randint(1, 12)}, Khu {rng.randint(1, 9)}"
        else:
            street = f"Số {rng.randint(1, 500)} đường {rng.choice(STREETS)}"
    elif commune_kind == "Thị trấn":
        street = f"Khu {rng.randint(1, 8)}"
    else:
        street = f"Thôn {rng.choice([str(rng.randint(1, 12)), rng.choice(HAMLETS)])}"
    return f"{street}, {commune}, {district_display}", commune, district_display, commune_name


def _name(rng: random.Random, product: str, place: str, person: str) -> str:
    product_cap = product[:1].upper() + product[1:]
    roll = rng.random()
    if roll < 0.15:
        kind = rng.choice(
            ["Nuôi trồng thủy sản", "Nông nghiệp", "Dịch vụ nông nghiệp", product_cap]
        )
        return f"Hợp tác xã {kind} {place}"
    if roll < 0.30:
        form = rng.choice(["TNHH", "TNHH MTV", "Cổ phần"])
        return f"Công ty {form} {product_cap} {place}"
    if roll < 0.65:
        verb = rng.choice(["sản xuất", "chế biến", "kinh doanh"])
        return f"Cơ sở {verb} {product} {place} {person}"
    return f"Hộ kinh doanh {person}" if rng.random() < 0.5 else f"Hộ kinh doanh {product} {person}"


def _email(rng: random.Random, person: str) -> str:
    local = fold(person).replace(" ", rng.choice(["", "", "."]))
    domain = rng.choice(["gmail.com", "gmail.com", "gmail.com", "yahoo.com", "outlook.com"])
    return f"{local}{rng.randint(60, 99)}@{domain}"


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _day_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max((end - start).days, 0)))


def establishment_rows(
    n: int, *, seed: int = 2024, unit_codes: Sequence[str], as_of: dt.date | None = None
) -> list[dict[str, object]]:
    """`n` establishments; certificate expiries are spread around `as_of` (default: today), so
    some have expired and some expire within six months."""
    if not unit_codes:
        raise ValueError("unit_codes must not be empty")
    today = as_of or dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    rng = random.Random(seed)
    # Uneven like the real list (Đông Triều alone has ~8,000): the first codes weigh most.
    unit_weights = [1 / (i + 1) for i in range(len(unit_codes))]
    reg_numbers = rng.sample(range(10**8), n)
    product_names = list(PRODUCTS)
    rows: list[dict[str, object]] = []
    for serial in reg_numbers:
        unit_code = rng.choices(unit_codes, unit_weights)[0]
        address, commune, district, commune_name = _place(rng, unit_code)
        product = rng.choice(product_names)
        sector, second_sector, product_activities = PRODUCTS[product]
        representative = _person(rng)
        place = rng.choice([commune_name, district.split(" ", 1)[1]])
        name = _name(rng, product, place, representative)
        reg_no = f"57{serial:08d}"
        reg_date = _day_between(rng, dt.date(2005, 1, 1), today - dt.timedelta(days=30))
        activities = sorted(
            rng.sample(product_activities, min(rng.randint(1, 2), len(product_activities)))
        )
        sectors = [sector] + ([second_sector] if second_sector and rng.random() < 0.4 else [])
        tax_roll = rng.random()
        tax_code: str | None = reg_no  # companies and cooperatives: the same number
        if tax_roll >= 0.8:
            tax_code = None if tax_roll < 0.88 else f"57{rng.randint(0, 10**8 - 1):08d}"
        phone: str | None
        phone_roll = rng.random()
        if phone_roll < 0.04:
            phone = None
        elif phone_roll < 0.09:
            phone = f"0203{rng.randint(3_000_000, 3_999_999)}"  # Quảng Ninh landline
        else:
            phone = rng.choice(MOBILE_PREFIXES) + f"{rng.randint(0, 9_999_999):07d}"
        row: dict[str, Any] = {
            "name": name,
            "business_registration_no": reg_no,
            "business_registration_date": reg_date,
            "tax_code": tax_code,
            "address": address,
            "commune": commune,
            "unit_code": unit_code,
            "representative": representative,
            "phone": phone,
            "email": _email(rng, representative) if rng.random() < 0.15 else None,
            "activities": activities,
            "sectors": sectors,
            "food_safety_status": "none",
            "certificate_no": None,
            "certificate_issuer": None,
            "certificate_issued_on": None,
            "certificate_expires_on": None,
            "commitment_signed_on": None,
            "commitment_receiving_unit": None,
            "ocop": False,
            "ocop_stars": None,
        }
        status_roll = rng.random()
        if status_roll < 0.10:
            short, issuer = rng.choices(
                [(c[0], c[1]) for c in CERT_ISSUERS], [c[2] for c in CERT_ISSUERS]
            )[0]
            # Issued over the last four years: ~25 % expired, ~12 % expire within six months.
            issued = _day_between(rng, _add_years(today, -4), today - dt.timedelta(days=7))
            row |= {
                "food_safety_status": "certificate",
                "certificate_no": f"{rng.randint(1, 450)}/{issued.year}/GCNATTP-{short}",
                "certificate_issuer": issuer,
                "certificate_issued_on": issued,
                "certificate_expires_on": _add_years(issued, 3),
            }
        elif status_roll < 0.98:
            office = (
                "Phòng Nông nghiệp và PTNT" if district.startswith("Huyện") else "Phòng Kinh tế"
            )
            receiver = rng.choice([f"UBND {commune}", f"UBND {district}", f"{office} {district}"])
            signed = _day_between(rng, max(reg_date, _add_years(today, -6)), today)
            row |= {
                "food_safety_status": "commitment",
                "commitment_signed_on": signed,
                "commitment_receiving_unit": receiver,
            }
        if rng.random() < 0.01:
            row |= {"ocop": True, "ocop_stars": rng.choices([3, 4, 5], [70, 25, 5])[0]}
        rows.append(row)
    return rows


def write_import_file(
    path: str | Path | IO[bytes],
    rows: Sequence[dict[str, object]],
    *,
    header_rows_above: bool = True,
    shuffle_columns: bool = False,
    dates_as_text: bool = False,
    phones_as_numbers: bool = False,
    nfd: bool = False,
) -> None:
    """An .xlsx as an agency would send it (see the module docstring); options add the
    variations real files have."""
    headers = list(TEMPLATE_HEADERS)
    if shuffle_columns:
        random.Random(7).shuffle(headers)
    # Shared strings, as Excel itself writes them (and faster here than constant_memory).
    # A path, or a binary file object (never str() of one: that names a file on disk).
    workbook = xlsxwriter.Workbook(str(path) if isinstance(path, str | Path) else path)
    bold = workbook.add_format({"bold": True, "text_wrap": True, "border": 1})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    sheet = workbook.add_worksheet("Danh sách")
    top = 0
    if header_rows_above:
        for top, title in enumerate(TITLE_ROWS):
            if title:
                sheet.write_string(top, 0, title)
        top += 1
    for column, header in enumerate(headers):
        sheet.write_string(top, column, header, bold)
    keys = [HEADER_FIELDS.get(header) for header in headers]  # None: the STT column
    for index, row in enumerate(rows, start=1):
        line = top + index
        for column, key in enumerate(keys):
            value = index if key is None else _cell(row, key, nfd=nfd)
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                if dates_as_text:
                    sheet.write_string(line, column, value.strftime("%d/%m/%Y"))
                else:
                    sheet.write_datetime(line, column, value, date_format)
            elif isinstance(value, int) or (key == "phone" and phones_as_numbers):
                sheet.write_number(line, column, int(str(value)))
            else:
                sheet.write_string(line, column, str(value))
    workbook.close()


def _cell(row: dict[str, object], key: str, *, nfd: bool) -> object:
    value = row[key]
    if key in {"activities", "sectors"} and isinstance(value, list):
        labels = ACTIVITY_LABELS if key == "activities" else SECTOR_LABELS
        return ", ".join(labels[code] for code in value)
    if key == "food_safety_status":
        return STATUS_LABELS[str(value)]
    if key == "ocop":
        return "x" if value else None
    if nfd and key in {"name", "address", "representative", "commune"} and value:
        return unicodedata.normalize("NFD", str(value))
    return value
