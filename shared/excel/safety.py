"""Refuse hostile or unusable uploads before any spreadsheet parser touches them.

Everything here looks only at the raw bytes, the ZIP central directory and the first few KiB of
each XML part, so a refusal costs milliseconds and a bounded amount of memory, whatever the
upload claims to contain.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from shared.errors import DomainError, InvalidInput

_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# An encrypted OOXML file is an OLE2 container holding these two streams (MS-OFFCRYPTO).
_ENCRYPTION_STREAMS = tuple(
    name.encode("utf-16-le") for name in ("EncryptionInfo", "EncryptedPackage")
)
_REQUIRED_PARTS = ("[Content_Types].xml", "xl/workbook.xml")
_MAX_MEMBERS = 10_000
_RATIO_APPLIES_ABOVE = 1024 * 1024
_XML_PEEK = 4096
_DTD_MARKERS = re.compile(r"<!(doctype|entity)", re.IGNORECASE)
# What may legally precede the root element: the XML declaration, processing instructions,
# comments, white space (and a DOCTYPE, which is refused on its own).
_PROLOG_NOISE = re.compile(r"<\?.*?\?>|<!--.*?-->", re.DOTALL)
_ROOT_START = re.compile(r"<[A-Za-z_:]")


class PayloadTooLarge(DomainError):
    status = 413
    code = "file_too_large"
    vi = "Tệp tải lên quá lớn."
    en = "The uploaded file is too large."


def inspect_upload(
    data: bytes,
    *,
    max_bytes: int = 20 * 1024 * 1024,
    max_uncompressed: int = 200 * 1024 * 1024,
    max_ratio: int = 100,
) -> None:
    """Raise unless `data` looks like a plain, unencrypted .xlsx that is safe to parse."""
    if len(data) > max_bytes:
        mib = max_bytes / (1024 * 1024)
        raise PayloadTooLarge(
            f"Tệp quá lớn (tối đa {mib:g} MB). Hãy chia danh sách thành nhiều tệp nhỏ hơn.",
            f"The file is too large (at most {mib:g} MB). Split the list into smaller files.",
            extra={"max_bytes": max_bytes},
        )
    if not data:
        raise _refuse(
            "file_empty",
            "Tệp rỗng (0 byte). Hãy chọn lại đúng tệp Excel (.xlsx) cần nhập.",
            "The file is empty (0 bytes). Choose the Excel (.xlsx) file to import again.",
        )
    if data.startswith(_OLE2_MAGIC):
        if any(name in data for name in _ENCRYPTION_STREAMS):
            raise _refuse(
                "file_password_protected",
                "Tệp đang được bảo vệ bằng mật khẩu. Hãy mở tệp trong Excel, gỡ mật khẩu "
                "rồi lưu lại dưới dạng .xlsx.",
                "The file is protected by a password. Open it in Excel, remove the password, "
                "and save it as .xlsx.",
            )
        raise _refuse(
            "file_legacy_xls",
            "Tệp ở định dạng Excel cũ (.xls). Hãy mở trong Excel và lưu lại dưới dạng "
            "Excel Workbook (.xlsx).",
            "The file is in the old Excel format (.xls). Open it in Excel and save it as an "
            "Excel Workbook (.xlsx).",
        )
    if not data.startswith(_ZIP_MAGIC):
        raise _not_xlsx()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_sizes(archive.infolist(), max_uncompressed, max_ratio)
            names = set(archive.namelist())
            if not all(part in names for part in _REQUIRED_PARTS):
                raise _not_xlsx()
            _check_xml_parts(archive)
    except (
        zipfile.BadZipFile,
        zlib.error,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        # Crafted headers surface as OSError/ValueError (bad offsets); NotImplementedError is an
        # unsupported compression method; RuntimeError a ZIP-encrypted member. Excel writes none.
        raise _corrupt() from exc


def _check_sizes(members: list[zipfile.ZipInfo], max_uncompressed: int, max_ratio: int) -> None:
    # Only the central directory is read; nothing is inflated. A directory that understates
    # sizes gains nothing: zipfile and calamine both stop at the declared size (tested).
    bomb = len(members) > _MAX_MEMBERS or sum(m.file_size for m in members) > max_uncompressed
    bomb = bomb or any(
        m.file_size > _RATIO_APPLIES_ABOVE and m.file_size / max(m.compress_size, 1) > max_ratio
        for m in members
    )
    if bomb:
        raise _refuse(
            "file_zip_bomb",
            "Tệp bị từ chối trước khi giải nén: nội dung sau khi giải nén quá lớn hoặc nén bất "
            "thường. Hãy lưu lại tệp bằng Excel hoặc chia thành nhiều tệp nhỏ hơn.",
            "The file was refused before unpacking: its unpacked content is too large or "
            "abnormally compressed. Save it again from Excel, or split it into smaller files.",
        )


def _check_xml_parts(archive: zipfile.ZipFile) -> None:
    for member in archive.infolist():
        if not member.filename.lower().endswith((".xml", ".rels")):
            continue
        with archive.open(member) as handle:
            head = handle.read(_XML_PEEK)
        if _has_dtd(head):
            raise _refuse(
                "file_xml_entities",
                "Tệp chứa khai báo XML (DOCTYPE/ENTITY) không được phép. Hãy mở tệp trong Excel "
                "và lưu lại dưới dạng .xlsx.",
                "The file contains XML declarations (DOCTYPE/ENTITY) that are not allowed. Open "
                "it in Excel and save it again as .xlsx.",
            )


def _has_dtd(head: bytes) -> bool:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in head[:4]:
        # UTF-16 XML would hide "<!DOCTYPE" from a byte search.
        encoding = "utf-16-be" if head[:2] == b"\xfe\xff" or head[:1] == b"\x00" else "utf-16-le"
        text = head.decode(encoding, errors="ignore").lstrip("\ufeff")
    else:
        text = head.decode("latin-1")
    if _DTD_MARKERS.search(text):
        return True
    # A DOCTYPE may only appear before the root element. If the part is longer than what we
    # read and its root element has not started yet (a long comment or padding first), the
    # DOCTYPE could be hiding further on: Excel never writes that, so refuse it too.
    return len(head) == _XML_PEEK and not _ROOT_START.search(_PROLOG_NOISE.sub("", text))


def _refuse(code: str, vi: str, en: str) -> InvalidInput:
    return InvalidInput(vi, en, code=code)


def _not_xlsx() -> InvalidInput:
    return _refuse(
        "file_not_xlsx",
        "Tệp không phải là bảng tính Excel (.xlsx) (có thể là CSV, PDF hoặc Word đã đổi đuôi). "
        "Hãy mở tệp trong Excel và lưu dưới dạng Excel Workbook (.xlsx).",
        "The file is not an Excel workbook (.xlsx) (perhaps a renamed CSV, PDF or Word file). "
        "Open it in Excel and save it as an Excel Workbook (.xlsx).",
    )


def _corrupt() -> InvalidInput:
    return _refuse(
        "file_corrupt",
        "Tệp Excel bị hỏng hoặc không đọc được. Hãy mở tệp trong Excel, kiểm tra rồi lưu lại "
        "dưới dạng .xlsx.",
        "The Excel file is damaged or cannot be read. Open it in Excel, check it, and save it "
        "again as .xlsx.",
    )
