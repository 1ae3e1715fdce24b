"""Login names (đặt tên tài khoản): normalised, unique, renamable with history.

A login name is lower-case ASCII letters, digits, dots, hyphens and underscores, 3 to 64
characters, starting and ending with a letter or digit. What a person types is normalised
first — Vietnamese diacritics dropped, "đ" → "d", capitals lowered, spaces removed — so
"Nguyễn.Văn.An" and "nguyen.van.an" are the same login.

Establishment accounts granted by a unit are named by that unit's rule:
`<unit login prefix>.<5-digit sequence>` (e.g. `halong.00042`).
"""

from __future__ import annotations

import re

from shared.errors import InvalidInput
from shared.text import fold

PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{1,62})[a-z0-9]$")
PREFIX_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$")


def normalise(raw: str) -> str:
    return fold(raw).replace(" ", "")


def check(raw: str, field: str = "username") -> str:
    name = normalise(raw)
    if not PATTERN.match(name) or ".." in name:
        raise InvalidInput.field(
            field,
            "Tên đăng nhập gồm 3–64 ký tự: chữ không dấu, số, dấu chấm, gạch ngang, gạch dưới; "
            "bắt đầu và kết thúc bằng chữ hoặc số.",
            "A login name has 3–64 characters: letters, digits, dots, hyphens, underscores; "
            "it starts and ends with a letter or digit.",
            code="invalid_username",
        )
    return name


def check_prefix(raw: str, field: str = "login_prefix") -> str:
    prefix = normalise(raw)
    if not PREFIX_PATTERN.match(prefix):
        raise InvalidInput.field(
            field,
            "Tiền tố tên đăng nhập gồm 1–32 chữ không dấu, số hoặc gạch ngang.",
            "A login prefix has 1–32 letters, digits or hyphens.",
        )
    return prefix


def default_prefix(unit_code: str) -> str:
    return normalise(unit_code).replace("_", "-")[:32].strip("-") or "unit"
