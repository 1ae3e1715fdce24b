from __future__ import annotations

import unicodedata

import pytest

from services.accounts.domain import names, passwords
from shared.errors import InvalidInput, bilingual, flatten_field_errors
from shared.text import fold, nfc

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Đầm Hà", "dam ha"),
        ("  Hạ   Long ", "ha long"),
        ("ĐÔNG TRIỀU", "dong trieu"),
        (unicodedata.normalize("NFD", "Móng Cái"), "mong cai"),
        ("Cô Tô", "co to"),
    ],
)
def test_fold(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_nfc() -> None:
    assert nfc(unicodedata.normalize("NFD", " Quảng Ninh ")) == "Quảng Ninh"


@pytest.mark.parametrize(
    ("raw", "login"),
    [
        ("Nguyễn.Văn.An", "nguyen.van.an"),
        ("ĐẦM HÀ 01", "damha01"),
        ("ha_long-2", "ha_long-2"),
    ],
)
def test_login_names_are_normalised(raw: str, login: str) -> None:
    assert names.check(raw) == login


@pytest.mark.parametrize("raw", ["ab", ".abc", "abc.", "a..b", "tên@miền", "x" * 65, "a/b"])
def test_bad_login_names(raw: str) -> None:
    with pytest.raises(InvalidInput):
        names.check(raw)


def test_password_rules() -> None:
    assert passwords.problems("một câu dài dễ nhớ") == []
    assert passwords.problems("1234567")  # too short
    assert passwords.problems("iloveyou")  # common
    assert passwords.problems("Password")  # common, any case
    assert passwords.problems("x" * 129)
    assert passwords.problems("halong.00001", username="halong.00001")
    assert passwords.problems("x" * 128) == []


def test_hash_and_verify_are_argon2id_and_nfc_insensitive() -> None:
    hashed = passwords.hash_password(unicodedata.normalize("NFD", "Vịnh Hạ Long đẹp"))
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "Vịnh Hạ Long đẹp")
    assert not passwords.verify_password(hashed, "Vinh Ha Long dep")
    assert not passwords.verify_password(None, "anything")
    assert not passwords.verify_password("not a hash", "anything")


def test_one_time_passwords_are_unique_and_readable() -> None:
    otps = {passwords.one_time_password() for _ in range(200)}
    assert len(otps) == 200
    assert all(len(o) == 14 and o.count("-") == 2 for o in otps)
    assert not any(c in o for o in otps for c in "0o1li")


def test_marshmallow_messages_are_translated() -> None:
    assert bilingual("Missing data for required field.")["vi"] == "Thiếu trường bắt buộc."
    assert bilingual("Length must be between 1 and 32.")["vi"] == "Độ dài phải từ 1 đến 32 ký tự."
    both = "Must be greater than or equal to 1 and less than or equal to 100000."
    assert bilingual(both)["vi"] == "Phải từ 1 đến 100000."
    assert bilingual("Must be greater than or equal to 1.")["vi"] == "Phải lớn hơn hoặc bằng 1."
    nested = flatten_field_errors(
        {"json": {"a": ["Not a valid string."], "b": {"c": ["Unknown field."]}}}
    )
    assert set(nested) == {"a", "b.c"}
