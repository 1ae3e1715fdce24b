"""RELIABILITY 14 on the accounts pages: an establishment's name, address and representative,
an application's fields and a forgotten-password request show as text on every page that shows
them — to officers, to the administrator and to the establishment itself."""

from __future__ import annotations

from typing import Any

import pytest

from services.accounts.domain import password_help
from services.accounts.domain import registrations as registration_ops
from services.accounts.domain.establishments import search_text

pytestmark = pytest.mark.smoke

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_every_typed_value_is_text(client: Any, world: Any, session: Any) -> None:
    est = world.est_a
    est.name = f"HTX {EVIL}"
    est.address = EVIL
    est.representative = EVIL
    est.search_text = search_text(est.name, est.address, est.representative)
    submitted = registration_ops.submit(
        session,
        actor=None,
        kind="grant",
        unit_id=world.unit_a1.id,
        data={
            "name": f"Cơ sở {EVIL}",
            "business_registration_no": "5799999999",
            "representative": EVIL,
            "phone": "0912 345 678",
            "address": EVIL,
        },
    )
    password_help.submit(session, username="coso.a", contact=f"0912 {EVIL}", note=EVIL)
    session.commit()

    pages = {
        "agency_a": [
            "/establishments",
            "/establishments?q=htx",
            f"/establishments/{est.id}",
            "/registrations",
            f"/registrations/{submitted.registration.id}",
            "/accounts",
            f"/accounts/{world.owner_a.id}",
            "/password-requests",
            "/units",
        ],
        "admin": ["/establishments", f"/establishments/{est.id}", "/password-requests"],
        "owner_a": ["/profile"],
    }
    for who, paths in pages.items():
        client.set_cookie("trace_access", world.token(who))
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            page = response.get_data(as_text=True)
            assert "<script>alert" not in page, (who, path)
            assert "<img src=x" not in page, (who, path)
    client.set_cookie("trace_access", world.token("agency_a"))
    assert "&lt;script&gt;" in client.get(f"/establishments/{est.id}").get_data(as_text=True)
