"""marshmallow building blocks shared by every service's API contract."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from marshmallow import ValidationError, fields

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
