"""The unit pages: the tree (agency: own subtree) with establishment counts; the administrator
creates, renames and retires units (with a reason); errors next to the fields."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from services.accounts.models import AuditEvent, Unit
from tests.accounts.pages import CSRF, html, login

TREE = [
    (None, 302),
    ("admin", 200),
    ("agency_a", 200),
    ("agency_b", 200),
    ("owner_a", 403),
    ("owner_b", 403),
]


@pytest.mark.parametrize(("who", "status"), TREE)
def test_tree_by_role(client: Any, world: Any, who: str | None, status: int) -> None:
    login(client, world, who)
    response = client.get("/units")
    assert response.status_code == status
    page = html(response)
    if who == "agency_a":
        assert world.unit_a.name in page
        assert world.unit_a1.name in page
        assert world.unit_b.name not in page
        assert world.root.name not in page
        assert 'name="code"' not in page  # no create form for officers
    if who == "admin":
        assert world.unit_b.name in page
        assert world.root.name in page
        assert 'name="code"' in page


def test_tree_counts_establishments(client: Any, world: Any) -> None:
    login(client, world, "agency_a")
    page = html(client.get("/units"))
    # District A manages none directly, one through commune A1.
    assert 'data-code="DIST-A" data-direct="0" data-total="1"' in page
    assert 'data-code="COMM-A1" data-direct="1" data-total="1"' in page


DETAIL = [
    (None, "unit_a1", 302),
    ("admin", "unit_b", 200),
    ("agency_a", "unit_a1", 200),
    ("agency_a", "unit_b", 404),
    ("agency_b", "unit_a", 404),
    ("owner_a", "unit_a1", 403),
]


@pytest.mark.parametrize(("who", "target", "status"), DETAIL)
def test_unit_page_by_role(
    client: Any, world: Any, who: str | None, target: str, status: int
) -> None:
    login(client, world, who)
    unit = getattr(world, target)
    response = client.get(f"/units/{unit.id}")
    assert response.status_code == status
    if status == 200:
        assert unit.name in html(response)
        assert (f"/units/{unit.id}/retire" in html(response)) == (who == "admin")
    if status == 404:
        assert unit.name not in html(response)


def test_officers_cannot_change_units(client: Any, world: Any) -> None:
    login(client, world, "agency_a")
    data = {"_csrf": CSRF, "name": "Tên mới", "reason": "thử", "code": "X", "level": "commune"}
    assert client.post("/units", data=data).status_code == 403
    assert client.post(f"/units/{world.unit_a1.id}/rename", data=data).status_code == 403
    assert client.post(f"/units/{world.unit_a1.id}/retire", data=data).status_code == 403
    login(client, world, "admin")
    assert client.post("/units", data={**data, "_csrf": ""}).status_code == 400


def test_create_unit(client: Any, world: Any, session: Any) -> None:
    login(client, world, "admin")
    response = client.post(
        "/units",
        data={
            "_csrf": CSRF,
            "code": "có dấu",
            "name": "",
            "level": "commune",
            "parent_id": str(world.unit_a.id),
        },
    )
    assert response.status_code == 422
    page = html(response)
    assert 'id="name-error"' in page
    response = client.post(
        "/units",
        data={
            "_csrf": CSRF,
            "code": "có dấu",
            "name": "Xã Quảng Lợi",
            "level": "commune",
            "parent_id": str(world.unit_a.id),
        },
    )
    assert response.status_code == 422
    assert 'id="code-error"' in html(response)
    assert 'value="Xã Quảng Lợi"' in html(response)
    response = client.post(
        "/units",
        data={
            "_csrf": CSRF,
            "code": "COMM-A2",
            "name": "Xã Quảng Lợi",
            "level": "commune",
            "parent_id": str(world.unit_a.id),
        },
    )
    assert response.status_code == 303
    unit = session.scalar(select(Unit).where(Unit.code == "COMM-A2"))
    assert unit is not None
    assert unit.parent_id == world.unit_a.id
    assert "Đã tạo đơn vị Xã Quảng Lợi." in html(client.get(response.headers["Location"]))


def test_rename_and_retire_unit(client: Any, world: Any, session: Any) -> None:
    login(client, world, "admin")
    url = f"/units/{world.unit_a1.id}"
    version = str(world.unit_a1.version)
    response = client.post(f"{url}/rename", data={"_csrf": CSRF, "name": "", "version": version})
    assert response.status_code == 422
    assert 'id="name-error"' in html(response)
    response = client.post(
        f"{url}/rename",
        data={
            "_csrf": CSRF,
            "name": "Xã Quảng Tân mới",
            "reason": "Nghị quyết sáp nhập",
            "version": version,
        },
    )
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "Đã đổi tên đơn vị." in page
    assert "Nghị quyết sáp nhập" in page
    stale = client.post(f"{url}/rename", data={"_csrf": CSRF, "name": "Cũ", "version": version})
    assert stale.status_code == 412
    assert "vừa được người khác sửa" in html(stale)

    session.expire_all()
    version = str(session.get(Unit, world.unit_a1.id).version)
    response = client.post(f"{url}/retire", data={"_csrf": CSRF, "reason": "", "version": version})
    assert response.status_code == 422
    assert 'id="reason-error"' in html(response)
    response = client.post(
        f"{url}/retire", data={"_csrf": CSRF, "reason": "Sáp nhập", "version": version}
    )
    assert response.status_code == 422  # it still manages an establishment
    assert "hãy chuyển chúng" in html(response)
    session.expire_all()
    assert session.get(Unit, world.unit_a1.id).status == "active"

    empty = Unit(
        code="EMPTY",
        name="Xã Trống",
        name_folded="xa trong",
        level="commune",
        parent_id=world.unit_b.id,
        path="",
        status="active",
    )
    session.add(empty)
    session.flush()
    empty.path = f"{world.unit_b.path}{empty.id}/"
    session.commit()
    response = client.post(
        f"/units/{empty.id}/retire",
        data={"_csrf": CSRF, "reason": "Giải thể", "version": str(empty.version)},
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Unit, empty.id).status == "retired"
    assert (
        session.scalar(select(AuditEvent).where(AuditEvent.action == "unit.retire")).reason
        == "Giải thể"
    )
