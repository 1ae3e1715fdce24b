"""The public registration page (Mẫu 03): no login, CSRF-protected, errors next to fields,
every user-provided value escaped, Vietnamese with an English switch."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from services.accounts.models import Registration

pytestmark = pytest.mark.smoke


def _csrf(client: Any, query: str = "") -> str:
    page = client.get(f"/register{query}")
    assert page.status_code == 200
    match = re.search(r'name="_csrf" value="([^"]+)"', page.get_data(as_text=True))
    assert match
    return match.group(1)


def _form(world: Any, **overrides: str) -> dict[str, str]:
    return {
        "kind": "grant",
        "unit_id": str(world.unit_a1.id),
        "name": "Cơ sở Nước mắm Cái Rồng",
        "business_registration_no": "5701111222",
        "representative": "Lê Thị Hoa",
        "phone": "0912 345 678",
        **overrides,
    }


def test_form_is_vietnamese_first_with_an_english_switch(client: Any, world: Any) -> None:
    vi = client.get("/register").get_data(as_text=True)
    assert "Đề nghị cấp, cấp lại tài khoản" in vi
    assert world.unit_a1.name in vi
    en = client.get("/register?lang=en").get_data(as_text=True)
    assert "Application for a traceability account" in en
    assert "Application for a traceability account" in client.get("/register").get_data(
        as_text=True
    )  # remembered in a cookie


def test_submit_then_follow_the_application(client: Any, world: Any, session: Any) -> None:
    token = _csrf(client)
    response = client.post("/register", data={**_form(world), "_csrf": token})
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    link = re.search(r'href="(http[^"]+/register/[^"]+)"', html)
    assert link
    status = client.get(link.group(1).replace("http://localhost", ""))
    assert status.status_code == 200
    assert "Đang chờ xem xét" in status.get_data(as_text=True)
    stored = session.scalar(
        select(Registration).where(Registration.business_registration_no == "5701111222")
    )
    assert stored.data["name"] == "Cơ sở Nước mắm Cái Rồng"


def test_without_csrf_token_nothing_is_submitted(client: Any, world: Any, session: Any) -> None:
    _csrf(client)
    response = client.post("/register", data=_form(world))
    assert response.status_code == 400
    response = client.post("/register", data={**_form(world), "_csrf": "forged"})
    assert response.status_code == 400
    assert (
        session.scalar(
            select(Registration).where(Registration.business_registration_no == "5701111222")
        )
        is None
    )


def test_errors_are_shown_next_to_the_fields_and_values_kept(client: Any, world: Any) -> None:
    token = _csrf(client)
    response = client.post(
        "/register",
        data={
            **_form(world, name="", phone="gọi tôi", representative="<script>alert(1)</script>"),
            "_csrf": token,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Vui lòng sửa các mục" in html
    assert html.count('class="error"') >= 2
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_wrong_status_token_is_not_found(client: Any, world: Any) -> None:
    token = _csrf(client)
    client.post("/register", data={**_form(world), "_csrf": token})
    registration_id = "6f1c7a8e-3b1d-4c2e-9f00-5b6d7e8f9a0b"
    assert client.get(f"/register/{registration_id}?token=nope").status_code == 404
