"""The codes a QR label carries, and how a scanned code is read back.

- Product and lot codes: a random short code (`/q/{code}`, 10 Crockford base-32 characters),
  or, where the product has a GTIN, a GS1 Digital Link path (`/01/{gtin}` and
  `/01/{gtin}/10/{lot}`).
- Item codes (one per printed label): the serial in Crockford base 32, a hyphen, and a 4-
  character signature — the first 20 bits of HMAC-SHA256(SERIAL_SIGNING_KEY, serial). A code
  with a bad signature was never issued (1 chance in a million for a guess), recognised
  without a database row per label; a good one is found by its batch's serial range.
  `/q/{serial code}`, or `/01/{gtin}/10/{lot}/21/{serial code}` with a GTIN.

The same string is the human-readable code printed under the QR (e.g. `0007K2M-9QF3`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
_DECODE = {c: i for i, c in enumerate(ALPHABET)} | {"I": 1, "L": 1, "O": 0}
SERIAL_WIDTH = 7  # 32**7 ≈ 34 billion serials before the code grows
SIGNATURE_LENGTH = 4
SHORT_CODE_LENGTH = 10
_SERIAL_CODE = re.compile(r"^([0-9A-Za-z]{1,13})-([0-9A-Za-z]{4})$")
_SHORT_CODE = re.compile(r"^[0-9A-Za-z]{10}$")
# GS1 AI (10) batch/lot: up to 20 characters of GS1's character set 82 (URL-safe subset here).
_AI10 = re.compile(r"^[0-9A-Za-z._/-]{1,20}$")
_GTIN14 = re.compile(r"^\d{14}$")


def b32encode(value: int, width: int = 1) -> str:
    digits = []
    while value:
        value, rest = divmod(value, 32)
        digits.append(ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def b32decode(text: str) -> int | None:
    value = 0
    for char in text.upper():
        digit = _DECODE.get(char)
        if digit is None:
            return None
        value = value * 32 + digit
    return value


def signature(key: str, serial: int) -> str:
    digest = hmac.new(key.encode(), f"serial:{serial}".encode(), hashlib.sha256).digest()
    return b32encode(int.from_bytes(digest[:3], "big") >> 4, SIGNATURE_LENGTH)


def serial_code(key: str, serial: int) -> str:
    return f"{b32encode(serial, SERIAL_WIDTH)}-{signature(key, serial)}"


@dataclass(frozen=True)
class SerialRead:
    serial: int
    genuine: bool  # the signature matches: this serial could have been issued


def read_serial(key: str, text: str) -> SerialRead | None:
    """A serial code read back; None when it is not even shaped like one."""
    match = _SERIAL_CODE.match(text.strip())
    if match is None:
        return None
    serial = b32decode(match.group(1))
    if serial is None or serial <= 0:
        return None
    expected = signature(key, serial)
    return SerialRead(serial, hmac.compare_digest(expected, match.group(2).upper()))


def new_short_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def is_short_code(text: str) -> bool:
    return bool(_SHORT_CODE.match(text))


def gs1_lot_ok(lot_code: str | None) -> bool:
    """A lot code that can travel as GS1 AI (10) in a Digital Link path."""
    return bool(lot_code) and bool(_AI10.match(lot_code or ""))


def digital_link(gtin: str, lot_code: str | None = None, serial: str | None = None) -> str:
    path = f"/01/{gtin}"
    if lot_code:
        path += f"/10/{lot_code}"
    if serial:
        path += f"/21/{serial}"
    return path


def item_path(key: str, batch: Any, serial: int) -> str:
    """The path an item label's QR points to (below PUBLIC_BASE_URL)."""
    code = serial_code(key, serial)
    if batch.gtin and (batch.lot_code is None or gs1_lot_ok(batch.lot_code)):
        return digital_link(batch.gtin, batch.lot_code, code)
    return f"/q/{code}"


def item_payload(key: str, base_url: str, batch: Any, serial: int) -> tuple[str, str]:
    """(URL in the QR, human-readable code printed under it) for one label of a batch."""
    return f"{base_url}{item_path(key, batch, serial)}", serial_code(key, serial)


def code_path(code: Any) -> str:
    """The path of a product- or lot-level code."""
    if code.gtin and (code.level == "product" or gs1_lot_ok(code.lot_code)):
        return digital_link(code.gtin, code.lot_code if code.level == "lot" else None)
    return f"/q/{code.code}"


def valid_gtin14(text: str) -> bool:
    if not _GTIN14.match(text):
        return False
    body, check = text[:-1], int(text[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check
