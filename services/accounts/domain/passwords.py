"""Passwords per OWASP ASVS 5.0 §6: argon2id, long passphrases, no composition rules.

- 8 to 128 characters (counted after Unicode NFC, so a Vietnamese passphrase typed on a phone
  in NFD matches the one typed on a PC in NFC);
- refused when it is one of the 30,000 most common passwords (zxcvbn's list, installed from
  PyPI), or the login name itself;
- hashed with argon2id, 64 MiB, 2 passes, 2 lanes — above OWASP's minimum (19 MiB, t=2),
  about 80 ms on one core here, so a login stays well under 150 ms; hashes made with other
  parameters are rehashed at the next login.
"""

from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from shared.errors import InvalidInput, Message
from shared.text import fold

MIN_LENGTH = 8
MAX_LENGTH = 128
_hasher = PasswordHasher(time_cost=2, memory_cost=65536, parallelism=2)  # argon2id
# Verified against when the login name is unknown, so both paths cost the same.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def normalise(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def problems(password: str, *, username: str | None = None) -> list[Message]:
    password = normalise(password)
    found: list[Message] = []
    if len(password) < MIN_LENGTH:
        found.append(
            Message(
                f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự.",
                f"The password needs at least {MIN_LENGTH} characters.",
            )
        )
    if len(password) > MAX_LENGTH:
        found.append(
            Message(
                f"Mật khẩu dài tối đa {MAX_LENGTH} ký tự.",
                f"The password may have at most {MAX_LENGTH} characters.",
            )
        )
    lowered = password.lower()
    if lowered in _common_passwords() or fold(password).replace(" ", "") in _common_passwords():
        found.append(
            Message(
                "Mật khẩu này quá phổ biến, dễ bị đoán; hãy chọn mật khẩu khác.",
                "This password is too common and easily guessed; choose another.",
            )
        )
    if username and fold(password).replace(" ", "") == fold(username).replace(" ", ""):
        found.append(
            Message(
                "Mật khẩu không được trùng tên đăng nhập.",
                "The password must not be the login name.",
            )
        )
    return found


def check_new_password(
    password: str, *, username: str | None = None, field: str = "new_password"
) -> str:
    """The password, normalised, or InvalidInput naming what is wrong with it."""
    found = problems(password, username=username)
    if found:
        raise InvalidInput(fields={field: found}, code="weak_password")
    return normalise(password)


def hash_password(password: str) -> str:
    return _hasher.hash(normalise(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, normalise(password)) and bool(
            password_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def one_time_password() -> str:
    """12 random characters in three groups, no look-alike letters: easy to read out by phone."""
    chars = "".join(secrets.choice(_OTP_ALPHABET) for _ in range(12))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"
