"""Secrets for the embedded default: generated once into VAR_DIR, never committed.

Production supplies them through the environment (see docs/configuration.md); this module is
only called by the embedded runner and the test harness.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from shared.config import Settings


def generate_rsa_pair(directory: Path) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    private_path = directory / "jwt-private.pem"
    public_path = directory / "jwt-public.pem"
    if not private_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_private(private_path, pem)
        public_path.write_bytes(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return private_path, public_path


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _secret_file(path: Path) -> str:
    if not path.exists():
        _write_private(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip()


def ensure_local_secrets(settings: Settings) -> Settings:
    """Fill whatever secret the environment did not give, from files under VAR_DIR."""
    if settings.is_production:
        return settings
    keys = settings.var_path / "keys"
    keys.mkdir(parents=True, exist_ok=True)
    changes: dict[str, str] = {}
    if not settings.secret_key:
        changes["secret_key"] = _secret_file(keys / "secret-key")
    if not settings.service_secret:
        changes["service_secret"] = _secret_file(keys / "service-secret")
    if not settings.serial_signing_key:
        changes["serial_signing_key"] = _secret_file(keys / "serial-signing-key")
    if not settings.jwt_private_key_file or not settings.jwt_public_key_file:
        private_path, public_path = generate_rsa_pair(keys)
        changes.setdefault("jwt_private_key_file", str(private_path))
        changes["jwt_public_key_file"] = settings.jwt_public_key_file or str(public_path)
        if settings.jwt_private_key_file:
            changes["jwt_private_key_file"] = settings.jwt_private_key_file
    return settings.with_(**changes) if changes else settings
