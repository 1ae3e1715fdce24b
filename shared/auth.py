"""Token verification and the caller's identity, for every service.

Access tokens are RS256 JWTs signed by the accounts service; every service verifies them with
the public key alone (no call per request). A token carries the account's `ver` (token version)
and `sid` (login session). Suspending, revoking or changing the password of an account bumps
the version in the shared store (`shared.kv`), and logging out marks the session; verifiers
consult the store through a local cache of a couple of seconds, so old tokens die everywhere
within `TOKEN_REVOCATION_CACHE_SECONDS` (+ the store write) — under the 5 s the platform promises.

Service-to-service calls carry a separate short-lived HS256 token (`kid: svc`) signed with
`SERVICE_SECRET`. The algorithm is chosen by us per key, never by the token, so an RS/HS swap
or `alg: none` is refused.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

import jwt
from flask import Flask, current_app, g, request

from shared.errors import Forbidden, ServiceUnavailable, Unauthenticated
from shared.kv import KeyValueStore

USER_AUDIENCE = "traceability"
SERVICE_AUDIENCE = "traceability-internal"
ISSUER = "traceability-accounts"
SERVICE_KID = "svc"
USER_KID = "acc-1"
ACCESS_COOKIE = "trace_access"

ROLES = ("admin", "agency", "establishment")


def token_version_key(account_id: uuid.UUID | str) -> str:
    return f"tokver:{account_id}"


def session_key(session_id: str) -> str:
    return f"sess:{session_id}"


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says."""

    role: str
    username: str
    account_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    establishment_id: uuid.UUID | None = None
    token_version: int = 0
    session_id: str | None = None
    must_change_password: bool = False
    service: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_service(self) -> bool:
        return self.role == "service"


class TokenVerifier:
    def __init__(
        self,
        *,
        public_key_pem: str,
        service_secret: str,
        store: KeyValueStore,
        cache_seconds: float = 2.0,
        leeway_seconds: int = 10,
    ) -> None:
        self._public_key = _load_public(public_key_pem)
        self._service_secret = service_secret
        self._store = store
        self._cache_seconds = cache_seconds
        self._leeway = leeway_seconds
        self._cache: dict[tuple[str, str], tuple[float, int, bool]] = {}
        self._lock = threading.Lock()

    def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated(
                "Mã truy cập không hợp lệ.",
                "The access token is malformed.",
                code="invalid_token",
            ) from exc
        if header.get("kid") == SERVICE_KID:
            return self._verify_service(token)
        return self._verify_user(token)

    def _verify_user(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=["RS256"],
                audience=USER_AUDIENCE,
                issuer=ISSUER,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "aud", "iss", "role", "ver", "sid"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated(
                "Phiên đăng nhập đã hết hạn.",
                "The access token has expired.",
                code="token_expired",
            ) from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated(
                "Mã truy cập không hợp lệ.",
                "The access token is not valid.",
                code="invalid_token",
            ) from exc
        if claims["role"] not in ROLES:
            raise Unauthenticated(code="invalid_token")
        principal = Principal(
            role=claims["role"],
            username=str(claims.get("name", "")),
            account_id=uuid.UUID(claims["sub"]),
            unit_id=_uuid_or_none(claims.get("unit")),
            establishment_id=_uuid_or_none(claims.get("est")),
            token_version=int(claims["ver"]),
            session_id=str(claims["sid"]),
            must_change_password=bool(claims.get("pwc", False)),
        )
        self._check_not_revoked(principal)
        return principal

    def _verify_service(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._service_secret,
                algorithms=["HS256"],
                audience=SERVICE_AUDIENCE,
                leeway=self._leeway,
                options={"require": ["exp", "iat", "sub", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(
                "Mã dịch vụ không hợp lệ.",
                "The service token is not valid.",
                code="invalid_token",
            ) from exc
        service = str(claims["sub"]).removeprefix("service:")
        return Principal(role="service", username=f"service:{service}", service=service)

    def forget(self, account_id: uuid.UUID | str) -> None:
        """Drop cached answers for an account (the process that revoked it knows at once)."""
        prefix = str(account_id)
        with self._lock:
            for key in [k for k in self._cache if k[0] == prefix]:
                del self._cache[key]

    def _check_not_revoked(self, principal: Principal) -> None:
        key = (str(principal.account_id), str(principal.session_id))
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is None or cached[0] <= now:
            try:
                min_version, session_revoked = self._store.get_many(
                    [token_version_key(key[0]), session_key(key[1])]
                )
            except Exception as exc:
                # Fail closed: a token we cannot check is not accepted.
                raise ServiceUnavailable(headers={"Retry-After": "5"}) from exc
            cached = (now + self._cache_seconds, int(min_version or 0), bool(session_revoked))
            with self._lock:
                if len(self._cache) > 50_000:
                    self._cache.clear()
                self._cache[key] = cached
        _, min_version_value, revoked = cached
        if revoked or principal.token_version < min_version_value:
            raise Unauthenticated(
                "Phiên đăng nhập đã bị chấm dứt; hãy đăng nhập lại.",
                "This session has been ended; log in again.",
                code="token_revoked",
            )


def _load_public(pem: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem.encode())


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def mint_service_token(secret: str, service: str, ttl_seconds: int = 120) -> str:
    now = int(time.time())
    return jwt.encode(
        {
            "sub": f"service:{service}",
            "aud": SERVICE_AUDIENCE,
            "iat": now,
            "exp": now + ttl_seconds,
        },
        secret,
        algorithm="HS256",
        headers={"kid": SERVICE_KID},
    )


# --- Flask integration ------------------------------------------------------------------------

_EXT = "trace_auth"


def init_app(app: Flask, verifier: TokenVerifier) -> None:
    app.extensions[_EXT] = verifier


def get_verifier(app: Flask | None = None) -> TokenVerifier:
    return cast(TokenVerifier, (app or current_app).extensions[_EXT])


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated(
                "Tiêu đề Authorization phải có dạng 'Bearer <mã>'.",
                "The Authorization header must be 'Bearer <token>'.",
                code="invalid_token",
            )
        return value.strip()
    return request.cookies.get(ACCESS_COOKIE)


def current_principal(
    *, optional: bool = False, allow_pending_password: bool = False
) -> Principal | None:
    """The caller, verified once per request. Raises 401 when required and absent."""
    if "principal" not in g:
        token = _bearer_token()
        g.principal = get_verifier().verify(token) if token else None
    principal: Principal | None = g.principal
    if principal is None:
        if optional:
            return None
        raise Unauthenticated()
    if principal.must_change_password and not allow_pending_password:
        raise Forbidden(
            "Bạn cần đổi mật khẩu một lần trước khi tiếp tục.",
            "You must change your one-time password before going on.",
            code="password_change_required",
        )
    return principal


F = TypeVar("F", bound=Callable[..., Any])


def require_roles(*roles: str, allow_pending_password: bool = False) -> Callable[[F], F]:
    """View decorator: the caller must hold one of `roles`; finer scope checks follow."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticated(allow_pending_password=allow_pending_password)
            if principal.role not in roles:
                raise Forbidden()
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def authenticated(*, allow_pending_password: bool = False) -> Principal:
    """The verified caller; 401 without a valid token, 403 while a password change is due."""
    principal = current_principal(allow_pending_password=allow_pending_password)
    if principal is None:  # pragma: no cover - current_principal raised already
        raise Unauthenticated()
    return principal
