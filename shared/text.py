"""Vietnamese text: NFC for storage, a folded form for diacritic-insensitive search."""

from __future__ import annotations

import unicodedata

_EXTRA_FOLDS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d"})


def nfc(value: str) -> str:
    """Unicode NFC with surrounding white space removed: how every text is stored."""
    return unicodedata.normalize("NFC", value).strip()


def fold(value: str) -> str:
    """Lower-case, no diacritics, đ → d, runs of white space collapsed.

    >>> fold("  Đầm   Hà ")
    'dam ha'
    """
    decomposed = unicodedata.normalize("NFD", value.translate(_EXTRA_FOLDS))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().translate(_EXTRA_FOLDS).split())
