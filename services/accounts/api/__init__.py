"""The accounts service's REST API, one blueprint per sub-domain."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from flask_smorest import Api

from services.accounts.domain.login import Throttle, TokenIssuer
from services.accounts.domain.revocation import Revocations
from shared.errors import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    revocations: Revocations
    issuer: TokenIssuer | None
    throttle: Throttle
    public_jwk: dict[str, str]

    def token_issuer(self) -> TokenIssuer:
        if self.issuer is None:
            log.error("login refused: JWT_PRIVATE_KEY_FILE is not configured for this process")
            raise ServiceUnavailable(code="signing_key_missing")
        return self.issuer


def deps() -> Deps:
    return current_app.extensions["accounts"]


def register(api: Api) -> None:
    from services.accounts.api import (
        accounts,
        auth,
        establishments,
        imports,
        internal,
        registrations,
        units,
    )

    for module in (auth, units, establishments, imports, registrations, accounts, internal):
        api.register_blueprint(module.blp, url_prefix=f"/api/v1/{module.PREFIX}")
