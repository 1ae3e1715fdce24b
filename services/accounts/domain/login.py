"""Login, refresh and logout; access tokens; the brute-force throttle.

- `login` answers the same "wrong login name or password" whether the name exists or not, and
  spends the same argon2 time on both paths.
- The throttle counts failures per login name and per client address in the shared store
  (Redis across gunicorn workers and services; SQLite in the embedded default) and answers 429
  with Retry-After once over the limit — again without revealing whether the name exists.
- A login opens a session (its id is the token's `sid`); the refresh token is `<sid>.<secret>`,
  stored hashed and rotated on every use; presenting a rotated-out secret ends the session
  (token theft detection). Logout ends the session on the server.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from services.accounts.domain import audit, names, passwords
from services.accounts.domain.revocation import Revocations
from services.accounts.models import Account, LoginSession
from shared.auth import ISSUER, USER_AUDIENCE, USER_KID, Principal
from shared.db import utcnow
from shared.errors import TooManyRequests, Unauthenticated
from shared.kv import KeyValueStore

WRONG_CREDENTIALS = Unauthenticated(
    "Tên đăng nhập hoặc mật khẩu không đúng.",
    "Wrong login name or password.",
    code="invalid_credentials",
)


@dataclass(frozen=True)
class TokenIssuer:
    private_key_pem: str
    access_ttl: timedelta
    refresh_ttl: timedelta
    # Parsed once: PyJWT would parse the PEM again on every signature (~40 ms each).
    _key: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        object.__setattr__(
            self, "_key", load_pem_private_key(self.private_key_pem.encode(), password=None)
        )

    def access_token(self, account: Account, session_id: uuid.UUID) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": USER_AUDIENCE,
            "sub": str(account.id),
            "iat": now,
            "nbf": now,
            "exp": now + int(self.access_ttl.total_seconds()),
            "jti": uuid.uuid4().hex,
            "sid": str(session_id),
            "ver": account.token_version,
            "role": account.role,
            "name": account.username,
        }
        if account.unit_id:
            claims["unit"] = str(account.unit_id)
        if account.establishment_id:
            claims["est"] = str(account.establishment_id)
        if account.must_change_password:
            claims["pwc"] = True
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": USER_KID})


@dataclass(frozen=True)
class Throttle:
    store: KeyValueStore
    max_failures: int
    window_seconds: int

    def _keys(self, username: str, client: str | None) -> list[tuple[str, int]]:
        keys = [(f"login:user:{username}", self.max_failures)]
        if client:
            keys.append((f"login:ip:{client}", self.max_failures * 5))
        return keys

    def check(self, username: str, client: str | None) -> None:
        keys = self._keys(username, client)
        counts = self.store.get_many([k for k, _ in keys])
        for (_, limit), count in zip(keys, counts, strict=True):
            if count is not None and int(count) >= limit:
                raise TooManyRequests(
                    "Đăng nhập sai quá nhiều lần; hãy thử lại sau ít phút.",
                    "Too many failed logins; try again in a few minutes.",
                    code="login_throttled",
                    headers={"Retry-After": str(self.window_seconds)},
                )

    def failed(self, username: str, client: str | None) -> None:
        for key, _ in self._keys(username, client):
            self.store.incr(key, self.window_seconds)

    def succeeded(self, username: str) -> None:
        self.store.delete(f"login:user:{username}")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    account: Account
    session_id: uuid.UUID


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _principal_of(account: Account) -> Principal:
    return Principal(
        role=account.role,
        username=account.username,
        account_id=account.id,
        unit_id=account.unit_id,
        establishment_id=account.establishment_id,
    )


def _open_session(
    session: Session, account: Account, issuer: TokenIssuer, user_agent: str | None
) -> TokenPair:
    secret = secrets.token_urlsafe(32)
    login_session = LoginSession(
        id=uuid.uuid4(),
        account_id=account.id,
        refresh_hash=_hash(secret),
        expires_at=utcnow() + issuer.refresh_ttl,
        user_agent=(user_agent or "")[:255] or None,
    )
    session.add(login_session)
    session.flush()
    return TokenPair(
        access_token=issuer.access_token(account, login_session.id),
        refresh_token=f"{login_session.id}.{secret}",
        expires_in=int(issuer.access_ttl.total_seconds()),
        account=account,
        session_id=login_session.id,
    )


def login(
    session: Session,
    *,
    username: str,
    password: str,
    issuer: TokenIssuer,
    throttle: Throttle,
    client: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    if not username or not password or len(password) > 4 * passwords.MAX_LENGTH:
        raise WRONG_CREDENTIALS
    login_name = names.normalise(username)[:64]
    throttle.check(login_name, client)
    account = session.scalar(select(Account).where(Account.username == login_name))
    ok = passwords.verify_password(account.password_hash if account else None, password)
    if account is None or not ok or account.status != "active":
        throttle.failed(login_name, client)
        if account is not None and ok:
            # Right password on a suspended or revoked account: say so (the holder knows it).
            raise Unauthenticated(
                "Tài khoản đang bị tạm ngừng hoặc đã bị thu hồi; hãy liên hệ đơn vị quản lý.",
                "This account is suspended or revoked; contact your managing unit.",
                code="account_inactive",
            )
        raise WRONG_CREDENTIALS
    throttle.succeeded(login_name)
    # Bookkeeping, not an edit: written without the optimistic version, so two devices
    # logging in at the same moment do not refuse each other.
    bookkeeping: dict[str, Any] = {"last_login_at": utcnow()}
    if passwords.needs_rehash(account.password_hash):
        bookkeeping["password_hash"] = passwords.hash_password(password)
    session.execute(
        update(Account)
        .where(Account.id == account.id)
        .values(**bookkeeping)
        .execution_options(synchronize_session=False)
    )
    for key, value in bookkeeping.items():
        set_committed_value(account, key, value)
    pair = _open_session(session, account, issuer, user_agent)
    audit.record(
        session,
        actor=_principal_of(account),
        action="auth.login",
        target_type="account",
        target_id=account.id,
        unit_id=account.unit_id,
        after={"session_id": str(pair.session_id)},
    )
    return pair


def refresh(
    session: Session, *, refresh_token: str, issuer: TokenIssuer, revocations: Revocations
) -> TokenPair:
    invalid = Unauthenticated(
        "Phiên đăng nhập không còn hiệu lực; hãy đăng nhập lại.",
        "The session is no longer valid; log in again.",
        code="invalid_refresh_token",
    )
    sid_text, _, secret = (refresh_token or "").partition(".")
    try:
        sid = uuid.UUID(sid_text)
    except ValueError:
        raise invalid from None
    login_session = session.get(LoginSession, sid, with_for_update=True)
    if (
        login_session is None
        or login_session.revoked_at is not None
        or login_session.expires_at <= utcnow()
    ):
        raise invalid
    if not hmac.compare_digest(login_session.refresh_hash, _hash(secret)):
        # A rotated-out refresh token came back: someone holds a copy. End the session.
        login_session.revoked_at, login_session.revoked_reason = utcnow(), "refresh_reuse"
        revocations.publish_session_end(session, login_session.id, login_session.account_id)
        session.flush()
        raise Unauthenticated(
            invalid.message["vi"],
            invalid.message["en"],
            code="refresh_token_reused",
            commit_anyway=True,
        )
    account = session.get(Account, login_session.account_id)
    if account is None or account.status != "active":
        raise invalid
    new_secret = secrets.token_urlsafe(32)
    login_session.refresh_hash = _hash(new_secret)
    login_session.last_used_at = utcnow()
    session.flush()
    return TokenPair(
        access_token=issuer.access_token(account, login_session.id),
        refresh_token=f"{login_session.id}.{new_secret}",
        expires_in=int(issuer.access_ttl.total_seconds()),
        account=account,
        session_id=login_session.id,
    )


def logout(session: Session, *, principal: Principal, revocations: Revocations) -> None:
    if principal.session_id is None or principal.account_id is None:
        return
    login_session = session.get(LoginSession, uuid.UUID(principal.session_id))
    if login_session is not None and login_session.revoked_at is None:
        login_session.revoked_at, login_session.revoked_reason = utcnow(), "logout"
        session.flush()
    revocations.publish_session_end(session, uuid.UUID(principal.session_id), principal.account_id)
    audit.record(
        session,
        actor=principal,
        action="auth.logout",
        target_type="account",
        target_id=principal.account_id or "",
        unit_id=principal.unit_id,
    )
