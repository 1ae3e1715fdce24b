"""Applications for an account (Mẫu 03): the public form's API and the units' inbox."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint
from sqlalchemy import select

from services.accounts.api import deps
from services.accounts.domain import queries
from services.accounts.domain import registrations as registration_ops
from services.accounts.models import Registration, Unit
from services.accounts.schemas import (
    ApplicantQuery,
    ApprovedOut,
    PublicUnitOut,
    RegistrationIn,
    RegistrationOut,
    RegistrationQuery,
    RequiredReasonIn,
    SubmittedOut,
)
from shared.auth import authenticated, current_principal
from shared.db import request_session
from shared.pagination import paginate

PREFIX = "registrations"
blp = Blueprint("registrations", __name__, description="Applications for accounts (Mẫu 03)")


def _throttle_public() -> None:
    registration_ops.throttle_public(current_app.extensions["trace_kv"], request.remote_addr)


def _split(body: dict[str, Any]) -> tuple[str, uuid.UUID, dict[str, Any]]:
    data = dict(body)
    return data.pop("kind"), data.pop("unit_id"), data


@blp.get("/units")
@blp.response(200, PublicUnitOut(many=True))
@blp.doc(security=[])
def public_units() -> list[Unit]:
    """Active units an applicant may choose as managing unit (no login needed)."""
    return list(
        request_session().scalars(select(Unit).where(Unit.status == "active").order_by(Unit.path))
    )


@blp.post("/")
@blp.arguments(RegistrationIn)
@blp.response(201, SubmittedOut)
@blp.doc(security=[])
def submit(body: dict[str, Any]) -> registration_ops.Submitted:
    """Apply for an account. Without login (public form; rate-limited per address) or as an
    officer for an establishment of their units. Keep the returned `applicant_token`."""
    principal = current_principal(optional=True)
    if principal is None:
        _throttle_public()
    kind, unit_id, data = _split(body)
    return registration_ops.submit(
        request_session(), actor=principal, kind=kind, unit_id=unit_id, data=data
    )


@blp.get("/")
@blp.arguments(RegistrationQuery, location="query")
@blp.response(200, RegistrationOut(many=True))
@blp.paginate()
def inbox(args: dict[str, Any], pagination_parameters: Any) -> list[Registration]:
    """Applications to the caller's units, newest first."""
    session = request_session()
    stmt = queries.registration_query(session, authenticated(), args)
    return paginate(session, stmt, pagination_parameters)


def _for_manager(registration_id: uuid.UUID) -> tuple[Any, Registration]:
    principal = authenticated()
    return principal, queries.registration_for_manager(
        request_session(), principal, registration_id
    )


@blp.get("/<uuid:registration_id>")
@blp.response(200, RegistrationOut)
def get_registration(registration_id: uuid.UUID) -> Registration:
    return _for_manager(registration_id)[1]


@blp.post("/<uuid:registration_id>/request-changes")
@blp.arguments(RequiredReasonIn)
@blp.response(200, RegistrationOut)
def request_changes(body: dict[str, Any], registration_id: uuid.UUID) -> Registration:
    """Ask the applicant to complete or correct the application (reason required)."""
    principal, registration = _for_manager(registration_id)
    return registration_ops.request_changes(
        request_session(), actor=principal, registration=registration, reason=body["reason"]
    )


@blp.post("/<uuid:registration_id>/reject")
@blp.arguments(RequiredReasonIn)
@blp.response(200, RegistrationOut)
def reject(body: dict[str, Any], registration_id: uuid.UUID) -> Registration:
    principal, registration = _for_manager(registration_id)
    return registration_ops.reject(
        request_session(), actor=principal, registration=registration, reason=body["reason"]
    )


@blp.post("/<uuid:registration_id>/approve")
@blp.response(200, ApprovedOut)
def approve(registration_id: uuid.UUID) -> registration_ops.Approved:
    """Approve: create or link the establishment and grant its account (login by the unit's
    rule, or the requested one); the one-time password is in the answer, once."""
    principal, registration = _for_manager(registration_id)
    return registration_ops.approve(
        request_session(),
        actor=principal,
        registration=registration,
        revocations=deps().revocations,
    )


@blp.get("/<uuid:registration_id>/applicant")
@blp.arguments(ApplicantQuery, location="query")
@blp.response(200, RegistrationOut)
@blp.doc(security=[])
def applicant_view(args: dict[str, Any], registration_id: uuid.UUID) -> Registration:
    """The applicant follows their application with the token given at submission."""
    return registration_ops.for_applicant(request_session(), registration_id, args["token"])


@blp.put("/<uuid:registration_id>/applicant")
@blp.arguments(ApplicantQuery, location="query")
@blp.arguments(RegistrationIn)
@blp.response(200, RegistrationOut)
@blp.doc(security=[])
def applicant_resubmit(
    args: dict[str, Any], body: dict[str, Any], registration_id: uuid.UUID
) -> Registration:
    """The applicant answers a change request with a corrected application."""
    _throttle_public()
    session = request_session()
    registration = registration_ops.for_applicant(session, registration_id, args["token"])
    _, _, data = _split(body)
    return registration_ops.resubmit(session, registration=registration, data=data)
