"""Uploaded documents and images: type checked by content (never by name or header), size
limited, stored under generated names (RELIABILITY 13).

    stored = accept_upload(request.files.get("file"), kinds=DOCUMENT_KINDS, max_bytes=...)
    store.save(stored.key("products", "certifications"), stored.data)
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import Any

from shared.errors import DomainError, InvalidInput


class UploadTooLarge(DomainError):
    status = 413
    code = "file_too_large"


# What each accepted type starts with; images are then opened and verified by Pillow.
_MAGIC = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
IMAGE_KINDS = frozenset({"image/png", "image/jpeg", "image/webp"})
DOCUMENT_KINDS = IMAGE_KINDS | {"application/pdf"}
MAX_IMAGE_PIXELS = 40_000_000


@dataclass(frozen=True)
class Upload:
    data: bytes
    content_type: str
    extension: str
    original_name: str

    @property
    def size(self) -> int:
        return len(self.data)

    def key(self, service: str, kind: str) -> str:
        return f"{service}/{kind}/{uuid.uuid4().hex}.{self.extension}"


def sniff(data: bytes) -> tuple[str, str] | None:
    for magic, content_type, extension in _MAGIC:
        if data.startswith(magic):
            return content_type, extension
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def _refuse(field: str, vi: str, en: str) -> InvalidInput:
    return InvalidInput.field(field, vi, en, code="bad_file")


def accept_upload(
    file: Any, *, kinds: frozenset[str], max_bytes: int, field: str = "file"
) -> Upload:
    """Read and check an uploaded file (a werkzeug FileStorage)."""
    if file is None or not getattr(file, "filename", None):
        raise _refuse(field, "Chưa chọn tệp.", "No file was sent.")
    try:
        data = file.stream.read(max_bytes + 1)
    finally:
        file.close()  # a large upload is a temporary file: release it now
    if len(data) > max_bytes:
        raise UploadTooLarge(
            f"Tệp lớn hơn giới hạn {max_bytes // (1024 * 1024)} MB.",
            f"The file is larger than the {max_bytes // (1024 * 1024)} MB limit.",
        )
    if not data:
        raise _refuse(field, "Tệp rỗng.", "The file is empty.")
    found = sniff(data)
    if found is None or found[0] not in kinds:
        allowed = ", ".join(sorted(k.split("/")[1].upper() for k in kinds))
        raise _refuse(
            field,
            f"Loại tệp không được chấp nhận (chỉ nhận {allowed}).",
            f"This type of file is not accepted (only {allowed}).",
        )
    content_type, extension = found
    if content_type in IMAGE_KINDS:
        _verify_image(data, field)
    elif content_type == "application/pdf" and b"%%EOF" not in data[-2048:]:
        raise _refuse(
            field, "Tệp PDF bị hỏng hoặc không đầy đủ.", "The PDF is damaged or cut short."
        )
    name = str(file.filename).replace("\\", "/").rsplit("/", 1)[-1][:255]
    return Upload(data, content_type, extension, name)


def _verify_image(data: bytes, field: str) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise _refuse(field, "Ảnh quá lớn.", "The image has too many pixels.")
            image.verify()
    except InvalidInput:
        raise
    except Exception as exc:
        raise _refuse(field, "Ảnh bị hỏng.", "The image is damaged.") from exc
