"""The establishment's profile: only establishments open it, each sees its own record and
account and nothing of another's; the record is read-only (the managing unit edits it)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.accounts.pages import CSRF, login


@pytest.mark.parametrize(
    ("who", "status"),
    [
        (None, 302),
        ("admin", 403),
        ("agency_a", 403),
        ("agency_b", 403),
        ("owner_a", 200),
        ("owner_b", 200),
    ],
)
def test_profile_by_role(client: Any, world: Any, who: str | None, status: int) -> None:
    login(client, world, who)
    response = client.get("/profile")
    assert response.status_code == status


def test_profile_shows_only_its_own(client: Any, world: Any) -> None:
    login(client, world, "owner_a")
    page = client.get("/profile").get_data(as_text=True)
    assert world.est_a.name in page
    assert "coso.a" in page
    assert world.unit_a1.name in page
    assert world.est_b.name not in page
    assert "coso.b" not in page
    assert "<form" not in page.split("<main", 1)[1]  # read-only: nothing to submit here
    assert "đơn vị quản lý của bạn sửa" in page
    login(client, world, "owner_b")
    page = client.get("/profile").get_data(as_text=True)
    assert world.est_b.name in page
    assert world.est_a.name not in page


def test_profile_is_read_only(client: Any, world: Any) -> None:
    login(client, world, "owner_a")
    assert client.post("/profile", data={"_csrf": CSRF, "name": "x"}).status_code == 405
