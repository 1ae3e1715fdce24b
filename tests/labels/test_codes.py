"""Serial codes: signed, compact, read back; forged ones recognised without a lookup."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from services.labels.domain import codes

pytestmark = pytest.mark.smoke
KEY = "test-serial-key-0123456789abcdef0123456789"


def test_base32_round_trip() -> None:
    for value in (1, 31, 32, 1023, 34_359_738_367, 10**15):
        assert codes.b32decode(codes.b32encode(value)) == value
    assert codes.b32decode("0O1Il") == codes.b32decode("00111")
    assert codes.b32decode("U") is None


def test_serial_codes_read_back_and_forgeries_are_recognised() -> None:
    code = codes.serial_code(KEY, 123_456)
    assert code == codes.serial_code(KEY, 123_456)
    assert len(code) == codes.SERIAL_WIDTH + 1 + codes.SIGNATURE_LENGTH
    read = codes.read_serial(KEY, code.lower())
    assert read == codes.SerialRead(123_456, True)
    assert codes.read_serial("another-key-0123456789abcdef0123456789", code).genuine is False
    forged = codes.read_serial(KEY, code[:-4] + "0000")
    assert forged is not None
    assert forged.genuine is (code.endswith("0000"))
    for junk in ("", "ABC", "12345-XYZ", "<script>-AAAA", "0000000-AAAA"):
        assert codes.read_serial(KEY, junk) is None


def test_a_random_guess_is_almost_never_genuine() -> None:
    rng = random.Random(7)
    genuine = sum(
        codes.read_serial(
            KEY,
            f"{codes.b32encode(rng.randrange(1, 10**9), 7)}-"
            f"{codes.b32encode(rng.randrange(32**4), 4)}",
        ).genuine
        for _ in range(20_000)
    )
    assert genuine <= 2  # expected 0.02 at 2^-20


def test_paths() -> None:
    with_gtin = SimpleNamespace(gtin="08936081120011", lot_code="CM-261201")
    assert codes.item_path(KEY, with_gtin, 5).startswith("/01/08936081120011/10/CM-261201/21/")
    no_gtin = SimpleNamespace(gtin=None, lot_code="L1")
    assert codes.item_path(KEY, no_gtin, 5) == f"/q/{codes.serial_code(KEY, 5)}"
    odd_lot = SimpleNamespace(gtin="08936081120011", lot_code="lô số 1")
    assert codes.item_path(KEY, odd_lot, 5).startswith("/q/")
    url, human = codes.item_payload(KEY, "https://tx.vn", no_gtin, 5)
    assert url == f"https://tx.vn/q/{human}"
    assert codes.valid_gtin14("08936081120011")
    assert not codes.valid_gtin14("08936081120012")
