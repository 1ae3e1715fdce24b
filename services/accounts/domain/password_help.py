"""Forgotten passwords: the holder asks; the managing unit re-issues a one-time password.

There is no e-mail or SMS gateway in the plan, and many establishments have neither: the
request reaches the officers of the establishment's managing unit (an agency officer's reaches
the administrator), who call the holder back on the number given and re-issue the password
(`accounts.reissue_password`, audited). The answer to the asker is the same whether or not the
login name exists, and the public form is rate-limited per address, so the form neither reveals
accounts nor floods the officers.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.accounts.domain import audit, names
from services.accounts.domain.scope import units_in_scope
from services.accounts.models import Account, Establishment, PasswordHelpRequest
from shared.auth import Principal
from shared.db import utcnow
from shared.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    Message,
    NotFound,
    TooManyRequests,
)
from shared.kv import KeyValueStore
from shared.text import nfc

PUBLIC_LIMIT = 5  # requests per client address per hour
PUBLIC_WINDOW_SECONDS = 3600
OPEN_PER_ACCOUNT = 3  # open requests kept per login name; more are refused quietly


def throttle(store: KeyValueStore, client: str | None) -> None:
    if store.incr(f"password-help:ip:{client}", PUBLIC_WINDOW_SECONDS) > PUBLIC_LIMIT:
        raise TooManyRequests(headers={"Retry-After": str(PUBLIC_WINDOW_SECONDS)})


def submit(
    session: Session, *, username: str, contact: str, note: str | None
) -> PasswordHelpRequest | None:
    """Record a request; returns None (and records nothing) when it would only repeat one."""
    login_name = names.normalise(username or "")[:64]
    contact_text = nfc(contact or "")[:200]
    problems: dict[str, tuple[str, str]] = {}
    if not login_name:
        problems["username"] = ("Cần nhập tên đăng nhập.", "The login name is required.")
    if len(contact_text) < 6:
        problems["contact"] = (
            "Cần số điện thoại hoặc cách liên hệ để đơn vị gọi lại.",
            "A phone number or other contact is required, so the unit can call back.",
        )
    if problems:
        raise InvalidInput(fields={k: [Message(vi, en)] for k, (vi, en) in problems.items()})
    account = session.scalar(select(Account).where(Account.username == login_name))
    unit_id = None
    if account is not None and account.role == "establishment" and account.establishment_id:
        unit_id = session.scalar(
            select(Establishment.unit_id).where(Establishment.id == account.establishment_id)
        )
    already = session.scalars(
        select(PasswordHelpRequest.id).where(
            PasswordHelpRequest.username == login_name, PasswordHelpRequest.status == "open"
        )
    ).all()
    if len(already) >= OPEN_PER_ACCOUNT:
        return None
    request = PasswordHelpRequest(
        username=login_name,
        account_id=account.id if account is not None else None,
        unit_id=unit_id,
        contact=contact_text,
        note=nfc(note or "")[:2000] or None,
    )
    session.add(request)
    session.flush()
    return request


def open_for(session: Session, principal: Principal) -> Sequence[PasswordHelpRequest]:
    """The open requests this officer handles: their units' establishments (admin: all,
    including agency officers' and unknown login names)."""
    if principal.role not in ("admin", "agency"):
        raise Forbidden()
    query = select(PasswordHelpRequest).where(PasswordHelpRequest.status == "open")
    if not principal.is_admin:
        query = query.where(PasswordHelpRequest.unit_id.in_(units_in_scope(session, principal)))
    return session.scalars(query.order_by(PasswordHelpRequest.created_at).limit(500)).all()


def get_for(session: Session, principal: Principal, request_id: uuid.UUID) -> PasswordHelpRequest:
    for request in open_for(session, principal):
        if request.id == request_id:
            return request
    raise NotFound()


def close(
    session: Session,
    *,
    actor: Principal,
    request_id: uuid.UUID,
    status: str,
    outcome: str | None,
) -> PasswordHelpRequest:
    """Mark a request handled (`done`: the password was re-issued) or `dismissed`."""
    if status not in ("done", "dismissed"):
        raise InvalidInput.field("status", "Trạng thái không hợp lệ.", "Unknown status.")
    request = get_for(session, actor, request_id)
    if request.status != "open":
        raise Conflict("Yêu cầu đã được xử lý.", "The request was handled already.")
    why = audit.reason_text(outcome, required=True)
    request.status, request.outcome = status, why
    request.handled_by, request.handled_at = actor.username, utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action=f"password_help.{status}",
        target_type="password_help",
        target_id=request.id,
        unit_id=request.unit_id,
        reason=why,
        after={"username": request.username},
    )
    return request
