"""The accounts service's pages: the public registration form (Mẫu 03) and its status page.

No login: an establishment applies for an account; the form goes through the same schema
and domain function as the API, with errors shown next to the fields, CSRF-protected and
rate-limited per client address.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, render_template, request, url_for
from marshmallow import ValidationError
from sqlalchemy import select

from services.accounts.domain import registrations as registration_ops
from services.accounts.models import ACTIVITIES, SECTORS, Unit
from services.accounts.schemas import RegistrationIn
from services.accounts.web import blp
from shared.db import request_session
from shared.errors import DomainError, flatten_field_errors
from shared.web import check_csrf

FORM_FIELDS = (
    "kind",
    "unit_id",
    "name",
    "business_registration_no",
    "tax_code",
    "address",
    "commune",
    "representative",
    "phone",
    "email",
    "food_safety_status",
    "certificate_no",
    "commitment_signed_on",
    "contact_name",
    "contact_phone",
    "requested_username",
    "note",
)


def _units() -> list[Unit]:
    return list(
        request_session().scalars(select(Unit).where(Unit.status == "active").order_by(Unit.path))
    )


def _form_data() -> dict[str, Any]:
    data: dict[str, Any] = {k: request.form.get(k, "").strip() for k in FORM_FIELDS}
    data = {k: v for k, v in data.items() if v != ""}
    for key in ("activities", "sectors"):
        values = request.form.getlist(key)
        if values:
            data[key] = values
    return data


@blp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    """Mẫu 03: đề nghị cấp / cấp lại tài khoản."""
    errors: dict[str, list[dict[str, str]]] = {}
    values: dict[str, Any] = {}
    problem: dict[str, str] | None = None
    if request.method == "POST":
        check_csrf()
        registration_ops.throttle_public(current_app.extensions["trace_kv"], request.remote_addr)
        values = _form_data()
        try:
            body = RegistrationIn().load(values)
            kind, unit_id = body.pop("kind"), body.pop("unit_id")
            submitted = registration_ops.submit(
                request_session(), actor=None, kind=kind, unit_id=unit_id, data=body
            )
        except ValidationError as exc:
            errors = {
                k: [dict(m) for m in v] for k, v in flatten_field_errors(exc.messages).items()
            }
        except DomainError as exc:
            errors = {k: [dict(m) for m in v] for k, v in exc.fields.items()}
            problem = None if errors else dict(exc.message)
        else:
            link = url_for(
                "accounts_web.status",
                registration_id=submitted.registration.id,
                token=submitted.applicant_token,
                _external=True,
            )
            return render_template(
                "accounts/registered.html", registration=submitted.registration, link=link
            ), 201
        status = 422
    else:
        status = 200
    return render_template(
        "accounts/register.html",
        units=_units(),
        values=values,
        errors=errors,
        problem=problem,
        activities=ACTIVITIES,
        sectors=SECTORS,
    ), status


@blp.get("/register/<uuid:registration_id>")
def status(registration_id: uuid.UUID) -> Any:
    """The applicant follows the application with the link given at submission."""
    registration = registration_ops.for_applicant(
        request_session(), registration_id, request.args.get("token", "")
    )
    unit = request_session().get(Unit, registration.unit_id)
    return render_template("accounts/status.html", registration=registration, unit=unit)
