"""The accounts service: units, establishments, accounts, login and tokens, audit log."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import Flask

from services.accounts.api import Deps, register
from services.accounts.domain import directory as _directory  # noqa: F401 - registers the doorbell
from services.accounts.domain.login import Throttle, TokenIssuer
from services.accounts.domain.revocation import Revocations
from services.accounts.web import blp as web_blueprint
from shared.auth import USER_KID, get_verifier
from shared.config import ConfigError, Settings, load_settings
from shared.files import file_store
from shared.keys import ensure_local_secrets
from shared.service import create_service_app
from shared.web import init_web

DESCRIPTION = """Management units, establishments, accounts and their lifecycle, login and
tokens, and the audit log. Errors are RFC 9457 problem details (`application/problem+json`)
with a stable `code` and a message in Vietnamese and English."""


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or ensure_local_secrets(load_settings())
    app, api = create_service_app(
        "accounts",
        settings,
        title="Accounts service (Dịch vụ tài khoản)",
        description=DESCRIPTION,
        import_name=__name__,
    )
    # Only the web process that logs people in signs tokens; workers load this app without
    # the private key (least privilege), and login there answers 503.
    issuer = None
    if settings.jwt_private_key_file:
        issuer = TokenIssuer(
            private_key_pem=Path(settings.jwt_private_key_file).read_text(),
            access_ttl=timedelta(minutes=settings.access_token_minutes),
            refresh_ttl=timedelta(hours=settings.refresh_token_hours),
        )
    public_pem = Path(settings.jwt_public_key_file or "").read_text()
    public_key = load_pem_public_key(public_pem.encode())
    if not isinstance(public_key, RSAPublicKey):
        raise ConfigError("JWT_PUBLIC_KEY_FILE must hold an RSA public key")
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public_key, as_dict=True)
    jwk.update(kid=USER_KID, use="sig", alg="RS256")
    access_ttl = timedelta(minutes=settings.access_token_minutes)
    store = app.extensions["trace_kv"]
    app.extensions["accounts"] = Deps(
        revocations=Revocations(
            store,
            ttl_seconds=int(access_ttl.total_seconds()) + 120,
            forget=get_verifier(app).forget,
        ),
        issuer=issuer,
        throttle=Throttle(store, settings.login_max_failures, settings.login_window_seconds),
        public_jwk=jwk,
    )
    app.extensions["trace_files"] = file_store(settings.var_dir)
    register(api)
    init_web(app)
    app.register_blueprint(web_blueprint)
    return app
