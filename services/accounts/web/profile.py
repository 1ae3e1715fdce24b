"""The establishment's own profile: its record (read-only — the managing unit keeps the
registry; the domain lets only agencies and the administrator edit it) and its account."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template

from services.accounts.domain import establishments as establishment_ops
from services.accounts.domain import scope
from services.accounts.models import Unit
from services.accounts.web import blp
from services.accounts.web.common import labels
from shared.db import request_session
from shared.web import page, user


@blp.get("/profile")
@page("establishment")
def profile() -> Any:
    session = request_session()
    principal = user()
    if principal.establishment_id is None or principal.account_id is None:
        abort(404)
    establishment = scope.get_establishment_for(session, principal, principal.establishment_id)
    account = scope.get_account_for(session, principal, principal.account_id)
    return render_template(
        "accounts/profile.html",
        establishment=establishment,
        account=account,
        unit=session.get(Unit, establishment.unit_id),
        state=establishment_ops.certificate_state(establishment),
        activities=establishment_ops.code_list(establishment.activities),
        sectors=establishment_ops.code_list(establishment.sectors),
        **labels(),
    )
