"""Vietnamese text: NFC for storage, a folded form for diacritic-insensitive search."""

from __future__ import annotations

import unicodedata

_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d"})
# Combining diacritical marks (U+0300–U+036F hold all of Vietnamese's) removed in one C call.
_DROP_MARKS = {code: None for code in range(0x0300, 0x0370)} | {
    ord("đ"): "d",
    ord("Đ"): "d",
    ord("ð"): "d",
}


def nfc(value: str) -> str:
    """Unicode NFC with surrounding white space removed: how every text is stored."""
    return unicodedata.normalize("NFC", value).strip()


def fold(value: str) -> str:
    """Lower-case, no diacritics, đ → d, runs of white space collapsed.

    >>> fold("  Đầm   Hà ")
    'dam ha'
    """
    stripped = unicodedata.normalize("NFD", value).translate(_DROP_MARKS)
    if not stripped.isascii():  # marks outside the common block (rare): the thorough way
        stripped = "".join(ch for ch in stripped if not unicodedata.combining(ch))
    return " ".join(stripped.lower().translate(_EXTRA_FOLDS).split())
