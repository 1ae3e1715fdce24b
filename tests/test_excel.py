"""shared.excel: hostile uploads refused before parsing, rows and headers read, cells converted,
exports that never contain formulas; and the test-data generator."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import struct
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from services.accounts.demo import (
    HEADER_FIELDS,
    TEMPLATE_HEADERS,
    establishment_rows,
    write_import_file,
)
from shared.errors import DomainError, InvalidInput
from shared.excel import (
    CellError,
    PayloadTooLarge,
    SheetSpec,
    csv_safe,
    find_header,
    inspect_upload,
    read_rows,
    to_bool,
    to_date,
    to_int,
    to_phone,
    to_text,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.smoke

AS_OF = dt.date(2025, 6, 1)
UNITS = ["DONG-TRIEU", "MONG-CAI", "HA-LONG", "VAN-DON", "HAI-HA", "SNN-QLCL", "CO-TO"]


# --- building files ----------------------------------------------------------------------------


def xlsx_bytes(rows: Sequence[Sequence[object]], *, sheets: int = 1) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for number in range(sheets):
        sheet = workbook.add_worksheet(f"Trang {number + 1}")
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, value, date_format)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                elif value is not None:
                    sheet.write_string(r, c, str(value))
    workbook.close()
    return buffer.getvalue()


def rezip(data: bytes, replace: Mapping[str, bytes]) -> bytes:
    """The same archive with some members' content replaced."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = replace.get(info.filename, source.read(info))
            target.writestr(info.filename, content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def cfb(stream_names: Sequence[str]) -> bytes:
    """A minimal, well-formed OLE2 compound file: header, one FAT sector, one directory sector
    holding the root entry and empty streams with the given names."""
    end, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, end, 0, end, 0)
    struct.pack_into("<109I", header, 0x4C, 0, *([free] * 108))
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int, child: int, right: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le")
        return struct.pack(
            "<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, no_stream, right, child,
            b"\0" * 16, 0, 0, 0, end, 0,
        )  # fmt: skip

    entries = [entry("Root Entry", 5, 1 if stream_names else no_stream, no_stream)]
    for index, name in enumerate(stream_names, start=1):
        sibling = index + 1 if index < len(stream_names) else no_stream
        entries.append(entry(name, 2, no_stream, sibling))
    directory = b"".join(entries).ljust(512, b"\0")
    return bytes(header) + fat + directory


def refused(data: bytes, **limits: int) -> DomainError:
    with pytest.raises(DomainError) as caught:
        inspect_upload(data, **limits)
    error = caught.value
    # Every refusal says what is wrong and what to do, in both languages.
    assert error.message["vi"]
    assert error.message["en"]
    assert error.message["vi"] != error.message["en"]
    return error


@pytest.fixture(scope="module")
def workbook() -> bytes:
    return xlsx_bytes([["Tên cơ sở", "Số ĐKKD"], ["Cơ sở chả mực Hạ Long", "5700123456"]])


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A real bomb: 300 MB of zeros deflated to ~300 KB, inside something shaped like a
    workbook. Written in 1 MiB pieces, so building it needs no 300 MB in memory."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(300):
                member.write(chunk)
    return out.getvalue()


# --- inspect_upload ----------------------------------------------------------------------------


def test_a_normal_workbook_passes(workbook: bytes) -> None:
    inspect_upload(workbook)


def test_too_large_is_413() -> None:
    error = refused(b"x" * 101, max_bytes=100)
    assert isinstance(error, PayloadTooLarge)
    assert (error.status, error.code) == (413, "file_too_large")
    assert error.extra == {"max_bytes": 100}


def test_empty_file() -> None:
    error = refused(b"")
    assert isinstance(error, InvalidInput)
    assert (error.status, error.code) == (422, "file_empty")


def test_password_protected_file() -> None:
    # What Excel writes when a password is set: an OLE2 container with these two streams.
    error = refused(cfb(["EncryptionInfo", "EncryptedPackage"]))
    assert error.code == "file_password_protected"
    assert "mật khẩu" in error.message["vi"]
    assert "password" in error.message["en"]


def test_legacy_xls() -> None:
    error = refused(cfb(["Workbook", "\x05SummaryInformation"]))
    assert error.code == "file_legacy_xls"
    assert ".xlsx" in error.message["vi"]


@pytest.mark.parametrize(
    "data",
    [
        "STT,Tên cơ sở,Số ĐKKD\n1,Cơ sở chả mực,5700123456\n".encode(),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        random.Random(7).randbytes(4096),
        b"PK\x05\x06" + bytes(18),  # an empty ZIP
    ],
    ids=["csv", "pdf", "random", "empty-zip"],
)
def test_not_a_workbook(data: bytes) -> None:
    assert refused(data).code == "file_not_xlsx"


def test_docx_renamed_xlsx() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("word/document.xml", "<w:document/>")
    assert refused(out.getvalue()).code == "file_not_xlsx"


def test_truncated_workbook_is_corrupt(workbook: bytes) -> None:
    assert refused(workbook[: len(workbook) // 2]).code == "file_corrupt"


def test_zip_bomb_refused_without_unpacking(
    zip_bomb: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(zip_bomb) < 1024 * 1024

    def no_unpacking(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a member was opened")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_unpacking)
    assert refused(zip_bomb).code == "file_zip_bomb"


def test_zip_bomb_by_ratio_alone(workbook: bytes) -> None:
    # 2 MiB that compresses ~1000:1: small in total, abnormal in ratio.
    bomb = rezip(workbook, {"xl/worksheets/sheet1.xml": bytes(2 * 1024 * 1024)})
    assert refused(bomb).code == "file_zip_bomb"


def test_zip_bomb_by_total_size(workbook: bytes) -> None:
    assert refused(workbook, max_uncompressed=1000).code == "file_zip_bomb"


def test_zip_bomb_by_member_count() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for index in range(10_000):
            archive.writestr(f"xl/media/{index}.bin", b"")
    assert refused(out.getvalue()).code == "file_zip_bomb"


def understate(data: bytes, name: str, size: int) -> bytes:
    """The archive with `name`'s uncompressed size rewritten to `size` in both the local
    header and the central directory (a lying bomb)."""
    patched = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        struct.pack_into("<I", patched, archive.getinfo(name).header_offset + 22, size)
    position = patched.index(b"PK\x01\x02")
    while patched[position + 46 : position + 46 + len(name)] != name.encode():
        position = patched.index(b"PK\x01\x02", position + 4)
    struct.pack_into("<I", patched, position + 24, size)
    return bytes(patched)


def test_understated_sizes_stop_at_the_declared_size(workbook: bytes) -> None:
    # 3 MB of text in one cell, under a central directory that claims 5,000 bytes: the
    # directory checks pass, then the parser refuses to inflate past the declared size.
    text = random.Random(3).randbytes(1_500_000).hex().encode()
    row = b'<row r="3"><c r="A3" t="inlineStr"><is><t>' + text + b"</t></is></c></row>"
    xml = _sheet_xml(workbook).replace(b"</sheetData>", row + b"</sheetData>")
    honest = rezip(workbook, {SHEET: xml})
    assert len(read_rows(honest)[2][0]) == 3_000_000  # type: ignore[arg-type]
    lying = understate(honest, SHEET, 5000)
    inspect_upload(lying)
    with pytest.raises(InvalidInput) as caught:
        read_rows(lying)
    assert caught.value.code == "file_corrupt"


SHEET = "xl/worksheets/sheet1.xml"


def _sheet_xml(workbook: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return archive.read(SHEET)


def test_doctype_in_sheet_xml(workbook: bytes) -> None:
    xml = _sheet_xml(workbook)
    declaration_end = xml.index(b"?>") + 2
    injected = (
        xml[:declaration_end]
        + b'\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>\n'
        + xml[declaration_end:]
    )
    bad = rezip(workbook, {"xl/worksheets/sheet1.xml": injected})
    assert refused(bad).code == "file_xml_entities"


def test_entity_in_rels_lower_case(workbook: bytes) -> None:
    bad = rezip(
        workbook, {"_rels/.rels": b'<!entity x SYSTEM "file:///etc/passwd"><Relationships/>'}
    )
    assert refused(bad).code == "file_xml_entities"


def test_doctype_hidden_after_a_long_comment(workbook: bytes) -> None:
    xml = _sheet_xml(workbook)
    padded = b"<!--" + b" " * 8000 + b"-->" + b'<!DOCTYPE x [<!ENTITY a "b">]>' + xml
    bad = rezip(workbook, {"xl/worksheets/sheet1.xml": padded})
    assert refused(bad).code == "file_xml_entities"


def test_doctype_in_utf16_xml(workbook: bytes) -> None:
    xml = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><worksheet/>'
    bad = rezip(workbook, {"xl/worksheets/sheet1.xml": xml.encode("utf-16")})
    assert refused(bad).code == "file_xml_entities"


def test_damaged_bytes_only_ever_give_domain_errors(workbook: bytes) -> None:
    rng = random.Random(11)
    codes: set[str] = set()
    for _ in range(200):
        damaged = bytearray(workbook)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            read_rows(bytes(damaged))
        except DomainError as exc:  # anything else (a crash, a bare library error) fails
            codes.add(exc.code)
    assert codes <= {"file_corrupt", "file_not_xlsx", "file_zip_bomb", "file_empty_sheet"}


# --- read_rows ---------------------------------------------------------------------------------


def test_read_rows_values() -> None:
    data = xlsx_bytes(
        [
            ["DANH SÁCH CƠ SỞ"],
            [],
            ["Tên", "Số", "Ngày", "OCOP", "Trống"],
            ["Hộ kinh doanh Lê Thị Hoa", 5700123456, dt.date(2024, 1, 2), True, None],
            [],
        ]
    )
    rows = read_rows(data)
    assert rows[0][0] == "DANH SÁCH CƠ SỞ"
    assert all(value is None for value in rows[1])
    assert rows[3] == ["Hộ kinh doanh Lê Thị Hoa", 5700123456.0, dt.date(2024, 1, 2), True, None]
    assert len(rows) == 4  # the trailing empty row is gone


def test_trailing_formatted_blank_rows_are_dropped() -> None:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet()
    sheet.write_string(0, 0, "Tên cơ sở")
    sheet.write_blank(50, 0, None, workbook.add_format({"bold": True}))
    workbook.close()
    assert read_rows(buffer.getvalue()) == [["Tên cơ sở"]]


def test_sheet_by_name_and_index() -> None:
    data = xlsx_bytes([["a", "b"]], sheets=2)
    assert read_rows(data, sheet="Trang 2") == [["a", "b"]]
    assert read_rows(data, sheet=1) == [["a", "b"]]
    for missing in ("Không có", 2, -1):
        with pytest.raises(InvalidInput) as caught:
            read_rows(data, sheet=missing)
        assert caught.value.code == "file_sheet_not_found"


def test_empty_sheet() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_rows(xlsx_bytes([]))
    assert caught.value.code == "file_empty_sheet"
    with pytest.raises(InvalidInput) as caught:
        read_rows(xlsx_bytes([[None, ""], [""]]))
    assert caught.value.code == "file_empty_sheet"


def test_read_rows_inspects_first() -> None:
    with pytest.raises(InvalidInput) as caught:
        read_rows(cfb(["Workbook"]))
    assert caught.value.code == "file_legacy_xls"


def test_malformed_sheet_xml_is_corrupt(workbook: bytes) -> None:
    bad = rezip(workbook, {"xl/worksheets/sheet1.xml": b'<worksheet><sheetData><row><c r="A1"'})
    with pytest.raises(InvalidInput) as caught:
        read_rows(bad)
    assert caught.value.code == "file_corrupt"


# --- find_header -------------------------------------------------------------------------------

ALIASES = {
    "name": ["Tên cơ sở", "Tên cơ sở sản xuất kinh doanh"],
    "business_registration_no": ["Số GCN đăng ký kinh doanh", "Số ĐKKD", "Mã số doanh nghiệp"],
    "address": ["Địa chỉ", "Địa chỉ trụ sở"],
    "phone": ["Số điện thoại", "Điện thoại"],
}
REQUIRED = ["name", "business_registration_no"]


def test_header_below_title_rows() -> None:
    rows: list[list[object]] = [
        ["DANH SÁCH CƠ SỞ SẢN XUẤT, KINH DOANH THỰC PHẨM", None, None, None],
        ["Ngày 12/06/2024", None, None, None],
        ["Địa chỉ", None, None, None],  # a stray match above the table is not the header
        [None, None, None, None],
        ["STT", "Tên cơ sở", "Số ĐKKD", "Địa chỉ"],
        [1, "Cơ sở chả mực", "5700123456", "Hạ Long"],
    ]
    match = find_header(rows, ALIASES, required=REQUIRED)
    assert match.row_index == 4
    assert match.columns == {"name": 1, "business_registration_no": 2, "address": 3}


def test_header_variants_and_any_order() -> None:
    rows: list[list[object]] = [
        [
            "Ghi chú",
            "  ĐIỆN   THOẠI: ",
            "Số\nĐKKD (*)",
            unicodedata.normalize("NFD", "TÊN CƠ SỞ (*)"),
            "dia chi tru so",
            "Mã số doanh nghiệp",  # a second registration column: the first one wins
        ]
    ]
    match = find_header(rows, ALIASES, required=REQUIRED)
    assert match.columns == {"phone": 1, "business_registration_no": 2, "name": 3, "address": 4}


def test_missing_required_columns() -> None:
    rows: list[list[object]] = [["Tên cơ sở", "Địa chỉ", "Điện thoại"], ["A", "B", "C"]]
    with pytest.raises(InvalidInput) as caught:
        find_header(rows, ALIASES, required=REQUIRED)
    error = caught.value
    assert (error.status, error.code) == (422, "file_missing_columns")
    assert error.extra == {"missing": ["Số GCN đăng ký kinh doanh"]}
    assert "Số GCN đăng ký kinh doanh" in error.message["vi"]


def test_no_header_row_at_all() -> None:
    rows: list[list[object]] = [["Tên cơ sở", None], ["Hạ Long", "Cẩm Phả"]]
    with pytest.raises(InvalidInput) as caught:
        find_header(rows, ALIASES, required=REQUIRED)
    assert caught.value.extra == {"missing": ["Tên cơ sở", "Số GCN đăng ký kinh doanh"]}


def test_header_beyond_scan_rows() -> None:
    rows: list[list[object]] = [[None] for _ in range(5)]
    rows.append(["Tên cơ sở", "Số ĐKKD"])
    assert find_header(rows, ALIASES, required=REQUIRED).row_index == 5
    with pytest.raises(InvalidInput):
        find_header(rows, ALIASES, required=REQUIRED, scan_rows=5)


def test_ambiguous_aliases_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="names both"):
        find_header([["a", "b"]], {"x": ["Ngày cấp"], "y": ["ngay cap"]}, required=[])


# --- converters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("  Cơ sở chả mực  ", "Cơ sở chả mực"),
        (5700123456.0, "5700123456"),
        (57001234560123.0, "57001234560123"),
        (1e20, "100000000000000000000"),
        (12, "12"),
        (1.5, "1.5"),
        (1e-7, "0.0000001"),
        (dt.date(2024, 1, 2), "02/01/2024"),
        (unicodedata.normalize("NFD", "Nguyễn Văn Hùng"), "Nguyễn Văn Hùng"),
        ("Số 12, Tổ 3\nPhường Hồng Hải", "Số 12, Tổ 3\nPhường Hồng Hải"),
    ],
)
def test_to_text(raw: object, expected: str | None) -> None:
    result = to_text(raw)
    assert result == expected
    if result is not None:
        assert unicodedata.is_normalized("NFC", result)


def test_to_text_refuses_control_characters() -> None:
    with pytest.raises(CellError):
        to_text("Cơ sở\x00A")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        (dt.date(2024, 1, 2), dt.date(2024, 1, 2)),
        (dt.datetime(2024, 1, 2, 13, 45, tzinfo=dt.UTC), dt.date(2024, 1, 2)),
        ("02/01/2024", dt.date(2024, 1, 2)),
        ("2/1/2024", dt.date(2024, 1, 2)),
        (" 02-01-2024 ", dt.date(2024, 1, 2)),
        ("02.01.2024", dt.date(2024, 1, 2)),
        ("2024-01-02", dt.date(2024, 1, 2)),
        ("29/02/2024", dt.date(2024, 2, 29)),
        (45292, dt.date(2024, 1, 1)),
        (45292.75, dt.date(2024, 1, 1)),
        (1, dt.date(1899, 12, 31)),
    ],
)
def test_to_date(raw: object, expected: dt.date | None) -> None:
    assert to_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["31/02/2024", "29/02/2023", "13/13/2024", "2024/01/02", "02/01-2024", "1/2/24", "hôm qua",
     "02/01/0202", 0, 100_001, -5, True, dt.time(12, 0)],
)  # fmt: skip
def test_to_date_refuses(raw: object) -> None:
    with pytest.raises(CellError) as caught:
        to_date(raw)
    assert caught.value.message == {
        "vi": "Ngày không hợp lệ (dd/mm/yyyy).",
        "en": "Invalid date (dd/mm/yyyy).",
    }


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        (912345678.0, "0912345678"),
        (912345678, "0912345678"),
        (356789012.0, "0356789012"),
        (2033123456.0, "02033123456"),  # a landline that lost its 0
        (84912345678.0, "0912345678"),
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("0912.345.678", "0912345678"),
        ("(+84) 912-345-678", "0912345678"),
        ("+84912345678", "0912345678"),
        ("0203 3 123 456", "02033123456"),
        ("(0203) 3.123.456", "02033123456"),
    ],
)
def test_to_phone(raw: object, expected: str | None) -> None:
    assert to_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["12345", "0912345678 / 0987654321", "gọi sau", "+1 202 555 0100", "0112345678",
     "09123456789", "0212345678", 12345.0, 912345678.5, -912345678, True],
)  # fmt: skip
def test_to_phone_refuses(raw: object) -> None:
    with pytest.raises(CellError):
        to_phone(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0.0, False),
        ("x", True),
        ("X", True),
        ("Có", True),
        (unicodedata.normalize("NFD", "có"), True),
        ("co", True),
        ("Yes", True),
        ("TRUE", True),
        ("1", True),
        ("Không", False),
        ("khong", False),
        ("no", False),
        ("false", False),
        ("0", False),
        ("", None),
        ("  ", None),
        (None, None),
    ],
)
def test_to_bool(raw: object, expected: bool | None) -> None:
    assert to_bool(raw) is expected


@pytest.mark.parametrize("raw", ["có lẽ", "2", 2, 0.5, dt.date(2024, 1, 1)])
def test_to_bool_refuses(raw: object) -> None:
    with pytest.raises(CellError):
        to_bool(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(5, 5), (5.0, 5), ("12", 12), (" 7 ", 7), ("-3", -3), ("", None), (None, None)],
)
def test_to_int(raw: object, expected: int | None) -> None:
    assert to_int(raw) == expected


@pytest.mark.parametrize("raw", [5.5, "5.5", "năm", True, "1 000", float("nan")])
def test_to_int_refuses(raw: object) -> None:
    with pytest.raises(CellError) as caught:
        to_int(raw)
    assert isinstance(caught.value, ValueError)
    assert caught.value.message["vi"]
    assert caught.value.message["en"]


# --- write_xlsx / write_csv --------------------------------------------------------------------

WRITTEN_HEADERS = ["Giá trị", "Số", "Ngày", "Thời điểm", "OCOP", "Trống"]
DANGEROUS = ["=1+2", "+84912345678", "-5", "@SUM(A1)", '=HYPERLINK("http://x","y")']


def _written(spec: SheetSpec, *more: SheetSpec) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(buffer, [spec, *more])
    return buffer.getvalue()


def test_write_xlsx_text_never_becomes_a_formula() -> None:
    data = _written(
        SheetSpec(
            "Cơ sở",
            WRITTEN_HEADERS,
            [
                [
                    text,
                    5,
                    dt.date(2024, 1, 2),
                    dt.datetime(2024, 1, 2, 3, 0, tzinfo=dt.UTC),
                    i % 2 == 0,
                    None,
                ]
                for i, text in enumerate(DANGEROUS)
            ],
        )
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b"<f>" not in archive.read("xl/worksheets/sheet1.xml")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    assert [cell.value for cell in sheet[1]] == WRITTEN_HEADERS
    assert all(cell.font.b for cell in sheet[1])
    for index, text in enumerate(DANGEROUS, start=2):
        value, number, day, moment, ocop, empty = sheet[index]
        assert (value.value, value.data_type) == (text, "s")
        assert (number.value, number.data_type) == (5, "n")
        assert day.is_date
        assert (day.value.date(), day.value.hour) == (dt.date(2024, 1, 2), 0)
        assert day.number_format == "dd/mm/yyyy"
        # 03:00 UTC is shown as Việt Nam wall-clock time.
        assert (moment.value.date(), moment.value.hour) == (dt.date(2024, 1, 2), 10)
        assert ocop.value == ("Có" if index % 2 == 0 else "Không")
        assert empty.value is None
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:F6"
    assert read_rows(data)[1][0] == "=1+2"


def test_write_xlsx_title_row_multiple_sheets_and_generators(tmp_path: Path) -> None:
    def rows() -> Iterator[list[object]]:
        yield from ([f"Cơ sở {i}", i] for i in range(3))

    path = tmp_path / "export.xlsx"
    write_xlsx(
        path,
        [
            SheetSpec("Danh sách: 2024/06", ["Tên", "Số"], rows(), [40, 10], title="DANH SÁCH"),
            SheetSpec("danh sách- 2024-06", ["Tên"], [["một"]], title="Một cột"),
            SheetSpec("Trống", ["Tên", "Số"], []),
        ],
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Danh sách- 2024-06", "danh sách- 2024-06 (2)", "Trống"]
    first = book.worksheets[0]
    assert [str(r) for r in first.merged_cells.ranges] == ["A1:B1"]
    assert first["A1"].value == "DANH SÁCH"
    assert [c.value for c in first[2]] == ["Tên", "Số"]
    assert first.freeze_panes == "A3"
    assert first.auto_filter.ref == "A2:B5"
    assert first.column_dimensions["A"].width == pytest.approx(40, abs=1)
    assert book.worksheets[1]["A1"].value == "Một cột"
    assert book.worksheets[2].auto_filter.ref == "A1:B1"


def test_write_xlsx_keeps_huge_integers_exact() -> None:
    data = _written(SheetSpec("S", ["Mã"], [[123456789012345678901]]))
    assert read_rows(data)[1] == ["123456789012345678901"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+2", "'=1+2"),
        ("+84912345678", "'+84912345678"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Hạ Long", "Hạ Long"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_csv_safe(text: str, expected: str) -> None:
    assert csv_safe(text) == expected


def test_write_csv_binary_buffer() -> None:
    buffer = io.BytesIO()
    write_csv(
        buffer,
        ["Tên cơ sở", "Ngày cấp", "Số", "OCOP", "Ghi chú"],
        [
            ["Cơ sở chả mực Hạ Long", dt.date(2024, 1, 2), 5, True, "=1+2"],
            [unicodedata.normalize("NFC", "Hợp tác xã Đầm Hà"), None, 1.5, False, "-5"],
        ],
    )
    assert not buffer.closed
    raw = buffer.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows == [
        ["Tên cơ sở", "Ngày cấp", "Số", "OCOP", "Ghi chú"],
        ["Cơ sở chả mực Hạ Long", "02/01/2024", "5", "Có", "'=1+2"],
        ["Hợp tác xã Đầm Hà", "", "1.5", "Không", "'-5"],
    ]


def test_write_csv_text_buffer() -> None:
    buffer = io.StringIO(newline="")
    write_csv(buffer, ["A"], [["@x"]])
    assert buffer.getvalue() == "\ufeffA\r\n'@x\r\n"


# --- the generator -----------------------------------------------------------------------------

KEYS = {
    "name", "business_registration_no", "business_registration_date", "tax_code", "address",
    "commune", "unit_code", "representative", "phone", "email", "activities", "sectors",
    "food_safety_status", "certificate_no", "certificate_issuer", "certificate_issued_on",
    "certificate_expires_on", "commitment_signed_on", "commitment_receiving_unit", "ocop",
    "ocop_stars",
}  # fmt: skip


ACTIVITIES = {"production", "pre_processing", "processing", "trading"}
SECTORS = {"farming", "forestry", "fishery", "livestock", "salt", "other"}


@pytest.fixture(scope="module")
def thousand() -> list[dict[str, object]]:
    return establishment_rows(1000, unit_codes=UNITS, as_of=AS_OF)


def test_generator_rows(thousand: list[dict[str, object]]) -> None:
    assert all(set(row) == KEYS for row in thousand)
    numbers = [str(row["business_registration_no"]) for row in thousand]
    assert len(set(numbers)) == 1000
    assert all(re.fullmatch(r"57[0-9]{8}", number) for number in numbers)
    statuses = Counter(row["food_safety_status"] for row in thousand)
    assert 50 <= statuses["certificate"] <= 150
    assert 830 <= statuses["commitment"] <= 930
    assert set(statuses) <= {"certificate", "commitment", "none"}
    units = Counter(row["unit_code"] for row in thousand)
    assert set(units) <= set(UNITS)
    assert units["DONG-TRIEU"] > 2 * units["CO-TO"]
    for row in thousand:
        assert row["phone"] is None or to_phone(row["phone"]) == row["phone"]
        activities, sectors = row["activities"], row["sectors"]
        assert isinstance(activities, list)
        assert isinstance(sectors, list)
        assert 1 <= len(activities) <= 2
        assert 1 <= len(sectors) <= 2
        assert set(activities) <= ACTIVITIES
        assert set(sectors) <= SECTORS
        assert unicodedata.is_normalized("NFC", str(row["name"]))
        if row["ocop"]:
            assert row["ocop_stars"] in (3, 4, 5)
    certified = [row for row in thousand if row["food_safety_status"] == "certificate"]
    expiries = [row["certificate_expires_on"] for row in certified]
    assert all(isinstance(day, dt.date) for day in expiries)
    assert any(day < AS_OF for day in expiries)  # type: ignore[operator]
    assert any(AS_OF <= day <= AS_OF + dt.timedelta(days=183) for day in expiries)  # type: ignore[operator]
    for row in certified:
        issued = row["certificate_issued_on"]
        assert isinstance(issued, dt.date)
        assert row["certificate_expires_on"] == issued.replace(year=issued.year + 3)
        assert re.fullmatch(r"[0-9]+/20[0-9]{2}/GCNATTP-[A-Z]+", str(row["certificate_no"]))


def test_generator_is_deterministic(thousand: list[dict[str, object]]) -> None:
    assert establishment_rows(1000, unit_codes=UNITS, as_of=AS_OF) == thousand
    assert establishment_rows(50, seed=1, unit_codes=UNITS, as_of=AS_OF) != thousand[:50]


TEXT_FIELDS = ["name", "business_registration_no", "tax_code", "address", "commune", "unit_code",
               "representative", "email", "certificate_no", "certificate_issuer",
               "commitment_receiving_unit"]  # fmt: skip
TEMPLATE_ALIASES = {field: [header] for header, field in HEADER_FIELDS.items()}
DATE_FIELDS = [key for key in KEYS if key.endswith(("_date", "_on"))]


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"header_rows_above": False},
        {"shuffle_columns": True},
        {"dates_as_text": True},
        {"phones_as_numbers": True},
        {"nfd": True},
        {"shuffle_columns": True, "dates_as_text": True, "phones_as_numbers": True, "nfd": True},
    ],
    ids=lambda options: "+".join(options) or "default",
)
def test_import_file_round_trip(
    tmp_path: Path, thousand: list[dict[str, object]], options: dict[str, bool]
) -> None:
    rows = thousand[:300]
    path = tmp_path / "import.xlsx"
    write_import_file(path, rows, **options)
    table = read_rows(path.read_bytes())
    match = find_header(table, TEMPLATE_ALIASES, required=list(TEMPLATE_ALIASES))
    assert match.row_index == (0 if options.get("header_rows_above") is False else 3)
    if options.get("shuffle_columns"):
        template_order = [HEADER_FIELDS[header] for header in TEMPLATE_HEADERS[1:]]
        assert list(match.columns) != template_order
    data = table[match.row_index + 1 :]
    assert len(data) == len(rows)
    col = match.columns
    for original, line in zip(rows, data, strict=True):
        for key in TEXT_FIELDS:
            assert to_text(line[col[key]]) == original[key], key
        for key in DATE_FIELDS:
            assert to_date(line[col[key]]) == original[key], key
        assert to_phone(line[col["phone"]]) == original["phone"]
        assert (to_bool(line[col["ocop"]]) or False) == original["ocop"]
        assert to_int(line[col["ocop_stars"]]) == original["ocop_stars"]
        if options.get("phones_as_numbers") and original["phone"]:
            assert isinstance(line[col["phone"]], float)
        if options.get("dates_as_text"):
            assert isinstance(line[col["business_registration_date"]], str)
        if options.get("nfd"):
            assert line[col["name"]] == unicodedata.normalize("NFD", str(original["name"]))


def test_template_headers() -> None:
    assert TEMPLATE_HEADERS[0] == "STT"
    assert len(TEMPLATE_HEADERS) == 22
    assert set(TEMPLATE_HEADERS[1:]) == set(HEADER_FIELDS)
