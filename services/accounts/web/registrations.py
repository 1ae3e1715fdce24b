"""The registrations inbox (Mẫu 03) of agency officers and the administrator: applications to
their units by status; review one, request changes, approve (the one-time password is shown
once), reject — each confirmed, with a reason where the domain asks one."""

from __future__ import annotations

import uuid
from typing import Any

from flask import flash, make_response, redirect, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from services.accounts.api import deps
from services.accounts.domain import queries
from services.accounts.domain import registrations as registration_ops
from services.accounts.models import REGISTRATION_STATUSES, Establishment, Unit
from services.accounts.schemas import RequiredReasonIn
from services.accounts.web import blp
from services.accounts.web.common import labels, paged
from shared.db import request_session
from shared.errors import DomainError
from shared.web import _, form_errors, page, user


@blp.get("/registrations")
@page("admin", "agency")
def registrations() -> Any:
    """Applications to the caller's units, newest first, by status (default: awaiting)."""
    session = request_session()
    status = request.args.get("status", "submitted")
    if status not in REGISTRATION_STATUSES and status != "all":
        status = "submitted"
    args = {} if status == "all" else {"status": status}
    result = paged(session, queries.registration_query(session, user(), args))
    unit_ids = {r.unit_id for r in result.items}
    unit_names = dict(
        session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all()
    )
    return render_template(
        "accounts/registrations.html",
        result=result,
        status=status,
        statuses=REGISTRATION_STATUSES,
        unit_names=unit_names,
        **labels(),
    )


def _detail(
    registration: Any, *, errors: dict[str, list[str]] | None = None, action: str = ""
) -> str:
    session = request_session()
    establishment = (
        session.get(Establishment, registration.establishment_id)
        if registration.establishment_id
        else None
    )
    return render_template(
        "accounts/registration.html",
        registration=registration,
        unit=session.get(Unit, registration.unit_id),
        establishment=establishment,
        errors=errors or {},
        failed=action,
        **labels(),
    )


@blp.get("/registrations/<uuid:registration_id>")
@page("admin", "agency")
def registration(registration_id: uuid.UUID) -> Any:
    session = request_session()
    return _detail(queries.registration_for_manager(session, user(), registration_id))


def _decide(registration_id: uuid.UUID, action: str) -> Any:
    session = request_session()
    principal = user()
    found = queries.registration_for_manager(session, principal, registration_id)
    try:
        body = RequiredReasonIn().load({"reason": request.form.get("reason", "")})
        operation = (
            registration_ops.request_changes if action == "changes" else registration_ops.reject
        )
        operation(session, actor=principal, registration=found, reason=body["reason"])
    except (ValidationError, DomainError) as exc:
        if isinstance(exc, DomainError) and exc.status not in (400, 409, 422):
            raise
        return _detail(found, errors=form_errors(exc), action=action), 422
    flash(_("Đã gửi yêu cầu bổ sung hồ sơ.") if action == "changes" else _("Đã từ chối hồ sơ."))
    return redirect(url_for("accounts_web.registration", registration_id=found.id), 303)


@blp.post("/registrations/<uuid:registration_id>/request-changes")
@page("admin", "agency")
def request_changes(registration_id: uuid.UUID) -> Any:
    return _decide(registration_id, "changes")


@blp.post("/registrations/<uuid:registration_id>/reject")
@page("admin", "agency")
def reject(registration_id: uuid.UUID) -> Any:
    return _decide(registration_id, "reject")


@blp.post("/registrations/<uuid:registration_id>/approve")
@page("admin", "agency")
def approve(registration_id: uuid.UUID) -> Any:
    """Approve: the establishment is created or linked and its account granted. The one-time
    password is on this answer only (not stored, not cached)."""
    session = request_session()
    principal = user()
    found = queries.registration_for_manager(session, principal, registration_id)
    try:
        approved = registration_ops.approve(
            session, actor=principal, registration=found, revocations=deps().revocations
        )
    except DomainError as exc:
        if exc.status not in (400, 409, 422):
            raise
        return _detail(found, errors=form_errors(exc), action="approve"), 422
    response = make_response(
        render_template(
            "accounts/one_time_password.html",
            title=_("Đã duyệt hồ sơ và cấp tài khoản"),
            account=approved.account,
            password=approved.one_time_password,
            back=url_for("accounts_web.registration", registration_id=found.id),
        )
    )
    response.headers["Cache-Control"] = "no-store"
    return response
