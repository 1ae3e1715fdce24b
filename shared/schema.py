"""marshmallow building blocks shared by every service's API contract."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields

# C0 controls other than tab/newline/carriage return, DEL, and C1 controls: never valid text
# (PostgreSQL refuses NUL outright; the others break exports and terminals).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Text(fields.String):
    """A string stored as Unicode NFC, refusing control characters (`multiline` allows \\n)."""

    def __init__(self, *args: Any, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.multiline = multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            return None
        if _CONTROL.search(text) or (not self.multiline and ("\n" in text or "\r" in text)):
            raise ValidationError(
                {
                    "vi": "Có ký tự điều khiển không hợp lệ.",
                    "en": "Contains invalid control characters.",
                }
            )
        return unicodedata.normalize("NFC", text)


class _Bilingual(Schema):
    vi = fields.String()
    en = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details as every service answers them (documents the error responses)."""

    class Meta:
        unknown = INCLUDE  # some problems carry extra members (e.g. `blockers`)

    type = fields.String(metadata={"example": "urn:traceability:problem:validation_error"})
    title = fields.String()
    status = fields.Integer()
    code = fields.String(metadata={"description": "Stable machine-readable code"})
    detail = fields.String(metadata={"description": "In the language of Accept-Language"})
    message = fields.Nested(_Bilingual)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(_Bilingual)),
        metadata={"description": "Per-field messages"},
    )
    instance = fields.String()
    request_id = fields.String(allow_none=True)
