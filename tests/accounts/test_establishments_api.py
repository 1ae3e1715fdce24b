"""The establishment registry through the API: every field, certificate state, diacritic-
insensitive search and filters, stable pages, optimistic locking [RELIABILITY 9], moves with
history, scope, exports that never run formulas [RELIABILITY 12], and bad input [10, 14]."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import unicodedata
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from services.accounts.models import AuditEvent, Establishment, EstablishmentAssignment
from tests.accounts.factories import EstablishmentFactory, auth

pytestmark = pytest.mark.smoke

URL = "/api/v1/establishments/"
_numbers = itertools.count(5_800_000_001)


def _number() -> str:
    return str(next(_numbers))


def _today() -> date:
    return date.today()  # noqa: DTZ011 - the local calendar date, as the code under test uses


def _create(client: Any, token: str, unit: Any, name: str, **fields: Any) -> dict[str, Any]:
    body = {"unit_id": str(unit.id), "name": name, "business_registration_no": _number(), **fields}
    response = client.post(URL, headers=auth(token), json=body)
    assert response.status_code == 201, response.json
    created: dict[str, Any] = response.json
    return created


def _ids(client: Any, token: str, params: dict[str, Any] | None = None) -> set[str]:
    response = client.get(
        URL, headers=auth(token), query_string={"page_size": 100, **(params or {})}
    )
    assert response.status_code == 200, response.json
    return {e["id"] for e in response.json}


def _counts(session: Any) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(m)) or 0
        for m in (Establishment, AuditEvent, EstablishmentAssignment)
    )


def _download(client: Any, url: str, token: str, params: dict[str, Any] | None = None) -> Any:
    """GET a streamed file; the response is closed before returning (warnings are errors)."""
    response = client.get(url, headers=auth(token), query_string=params or {})
    response.get_data()  # read the stream, then release the file behind it
    response.close()
    return response


def _assert_field_problem(response: Any, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.json
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["code"] == "validation_error"
    assert body["message"] == {
        "vi": "Dữ liệu gửi lên không hợp lệ.",
        "en": "The submitted data is not valid.",
    }
    names = [name for name in body["errors"] if name == field or name.startswith(f"{field}.")]
    assert names, body["errors"]
    for name in names:
        for message in body["errors"][name]:
            assert message["vi"]
            assert message["en"]


# --- create and read back ---------------------------------------------------------------------


def test_create_with_every_field_and_read_it_back(client: Any, world: Any) -> None:
    expires = _today() + timedelta(days=3 * 365)
    body = {
        "unit_id": str(world.unit_a1.id),
        "name": "Công ty TNHH Thủy sản Hải Hà",
        "business_registration_no": "5701234567",
        "business_registration_date": "2019-04-15",
        "tax_code": "5701234567-001",
        "address": "Thôn 2, xã Quảng Tân, huyện Đầm Hà",
        "commune": "Xã Quảng Tân",
        "representative": "Nguyễn Văn Hùng",
        "phone": "0912 345 678",
        "email": "thuysan.haiha@example.vn",
        "activities": ["production", "processing"],
        "sectors": ["fishery", "salt"],
        "food_safety_status": "certificate",
        "certificate_no": "125/2024/NNPTNT-QN",
        "certificate_issuer": "Chi cục Quản lý chất lượng NLS&TS Quảng Ninh",
        "certificate_issued_on": "2024-01-10",
        "certificate_expires_on": expires.isoformat(),
        "ocop": True,
        "ocop_stars": 4,
    }
    created = client.post(URL, headers=auth(world.token("agency_a")), json=body)
    assert created.status_code == 201, created.json
    assert created.headers["ETag"] == '"1"'
    got = client.get(f"{URL}{created.json['id']}", headers=auth(world.token("agency_a")))
    assert got.status_code == 200
    assert got.headers["ETag"] == '"1"'
    for response in (created, got):
        data = response.json
        for key, value in body.items():
            if key not in {"activities", "sectors"}:
                assert data[key] == value, key
        # Categories come back as sorted codes, whatever order they were sent in.
        assert data["activities"] == ["processing", "production"]
        assert data["sectors"] == ["fishery", "salt"]
        assert data["certificate_state"] == "valid"
        assert data["has_account"] is False
        assert data["status"] == "active"
        assert data["version"] == 1
    # It is found at once (search text from name, address and representative).
    assert _ids(client, world.token("agency_a"), {"q": "nguyen van hung"}) == {created.json["id"]}

    commitment = _create(
        client,
        world.token("admin"),
        world.unit_b,
        "Hộ kinh doanh Bánh gio Bình Liêu",
        food_safety_status="commitment",
        commitment_signed_on="2024-03-15",
        commitment_receiving_unit="UBND huyện Bình Liêu",
    )
    assert commitment["commitment_signed_on"] == "2024-03-15"
    assert commitment["commitment_receiving_unit"] == "UBND huyện Bình Liêu"
    assert commitment["certificate_state"] is None
    assert commitment["ocop"] is False
    assert commitment["ocop_stars"] is None


def test_has_account_reflects_a_live_operating_account(client: Any, world: Any) -> None:
    got = client.get(f"{URL}{world.est_a.id}", headers=auth(world.token("agency_a")))
    assert got.json["has_account"] is True
    fresh = _create(client, world.token("agency_a"), world.unit_a1, "Cơ sở chưa có tài khoản")
    assert fresh["has_account"] is False
    listed = client.get(URL, headers=auth(world.token("agency_a"))).json
    assert {e["id"]: e["has_account"] for e in listed} == {
        str(world.est_a.id): True,
        fresh["id"]: False,
    }


@pytest.mark.parametrize(
    ("days", "state"),
    [
        (-400, "expired"),
        (-1, "expired"),
        (0, "expiring"),
        (30, "expiring"),
        (183, "expiring"),
        (184, "valid"),
        (3 * 365, "valid"),
        (None, "unknown"),
    ],
)
def test_certificate_state(client: Any, world: Any, days: int | None, state: str) -> None:
    expires = None if days is None else (_today() + timedelta(days=days)).isoformat()
    created = _create(
        client,
        world.token("admin"),
        world.unit_a1,
        "Cơ sở có giấy chứng nhận",
        food_safety_status="certificate",
        certificate_issued_on="2015-01-01",
        certificate_expires_on=expires,
    )
    assert created["certificate_state"] == state
    # The list's certificate filter agrees with the state shown.
    for candidate in ("valid", "expiring", "expired", "unknown"):
        found = _ids(client, world.token("admin"), {"certificate": candidate})
        assert (created["id"] in found) is (candidate == state), candidate


# --- search and filters -----------------------------------------------------------------------


@pytest.fixture
def catalogue(client: Any, world: Any) -> dict[str, str]:
    """Four establishments registered through the API, besides the world's est_a and est_b
    (both without categories, status "none", and with an account):

    d1 in A1, d2 in A, d3 and d4 in B. The world's establishments were built by factories
    without search text, so no `q` ever finds them."""
    today = _today()
    admin = world.token("admin")
    d1 = _create(
        client,
        admin,
        world.unit_a1,
        "Cơ sở chế biến hải sản Đầm Hà",
        address="Thôn Đồng Tâm, xã Quảng Tân",
        representative="Nguyễn Văn Hải",
        activities=["processing"],
        sectors=["fishery"],
        food_safety_status="certificate",
        certificate_issued_on=(today - timedelta(days=1000)).isoformat(),
        certificate_expires_on=(today + timedelta(days=60)).isoformat(),
    )
    d2 = _create(
        client,
        admin,
        world.unit_a,
        "HTX Chè Đường Hoa",
        address="Xã Đường Hoa, huyện Hải Hà",
        representative="Trần Thị Lan",
        activities=["production"],
        sectors=["farming"],
        food_safety_status="commitment",
        commitment_signed_on="2024-05-20",
        ocop=True,
        ocop_stars=4,
    )
    d3 = _create(
        client,
        admin,
        world.unit_b,
        "Cửa hàng thực phẩm sạch Minh Anh",
        address="Khu 3, thị trấn Tiên Yên",
        representative="Lục Văn Đức",
        activities=["trading"],
        sectors=["livestock"],
        food_safety_status="certificate",
        certificate_issued_on=(today - timedelta(days=100)).isoformat(),
        certificate_expires_on=(today + timedelta(days=800)).isoformat(),
    )
    d4 = _create(
        client,
        admin,
        world.unit_b,
        "Cơ sở làm muối Đầm Hà Bắc",
        address="Thôn Bắc Sơn",
        representative="Hoàng Thị Mai",
        activities=["production", "pre_processing"],
        sectors=["salt"],
        food_safety_status="certificate",
        certificate_issued_on=(today - timedelta(days=1200)).isoformat(),
        certificate_expires_on=(today - timedelta(days=10)).isoformat(),
        status="closed",
    )
    return {
        "d1": d1["id"],
        "d2": d2["id"],
        "d3": d3["id"],
        "d4": d4["id"],
        "est_a": str(world.est_a.id),
        "est_b": str(world.est_b.id),
    }


@pytest.mark.parametrize(
    ("who", "q", "expected"),
    [
        ("admin", "dam ha", {"d1", "d4"}),
        ("admin", "ĐẦM HÀ", {"d1", "d4"}),
        ("admin", "Đầm Hà", {"d1", "d4"}),
        ("admin", unicodedata.normalize("NFD", "Đầm Hà"), {"d1", "d4"}),
        ("admin", "  dam   ha ", {"d1", "d4"}),
        ("admin", "duong hoa", {"d2"}),  # "đ" matches "d"
        ("admin", "dương hoa", {"d2"}),
        ("admin", "hai san", {"d1"}),
        ("admin", "tien yen", {"d3"}),  # address
        ("admin", "luc van duc", {"d3"}),  # representative
        ("admin", "dam lan", set()),  # every word must match
        ("admin", "khong co co so nay", set()),
        ("admin", "100%_", set()),  # LIKE wildcards are literal
        ("agency_a", "dam ha", {"d1"}),  # scope still applies
        ("agency_b", "dam ha", {"d4"}),
    ],
)
def test_search_ignores_diacritics_and_case(
    client: Any, world: Any, catalogue: dict[str, str], who: str, q: str, expected: set[str]
) -> None:
    found = _ids(client, world.token(who), {"q": q})
    assert found == {catalogue[k] for k in expected}


FILTER_CASES: list[tuple[str, dict[str, Any], set[str]]] = [
    ("admin", {}, {"d1", "d2", "d3", "d4", "est_a", "est_b"}),
    # unit_id takes the unit's sub-units along: A includes A1's establishments.
    ("admin", {"unit_id": "unit_a"}, {"d1", "d2", "est_a"}),
    ("admin", {"unit_id": "unit_a1"}, {"d1", "est_a"}),
    ("admin", {"unit_id": "unit_b"}, {"d3", "d4", "est_b"}),
    ("agency_a", {"unit_id": "unit_a"}, {"d1", "d2", "est_a"}),
    ("admin", {"food_safety_status": "certificate"}, {"d1", "d3", "d4"}),
    ("admin", {"food_safety_status": "commitment"}, {"d2"}),
    ("admin", {"food_safety_status": "none"}, {"est_a", "est_b"}),
    ("admin", {"activity": "processing"}, {"d1"}),
    ("admin", {"activity": "production"}, {"d2", "d4"}),
    ("admin", {"activity": "pre_processing"}, {"d4"}),
    ("admin", {"sector": "fishery"}, {"d1"}),
    ("admin", {"sector": "forestry"}, set()),
    ("admin", {"ocop": "true"}, {"d2"}),
    ("admin", {"ocop": "false"}, {"d1", "d3", "d4", "est_a", "est_b"}),
    ("admin", {"certificate": "valid"}, {"d3"}),
    ("admin", {"certificate": "expiring"}, {"d1"}),
    ("admin", {"certificate": "expired"}, {"d4"}),
    ("admin", {"certificate": "unknown"}, set()),
    ("admin", {"has_account": "true"}, {"est_a", "est_b"}),
    ("admin", {"has_account": "false"}, {"d1", "d2", "d3", "d4"}),
    ("admin", {"status": "closed"}, {"d4"}),
    ("admin", {"status": "active"}, {"d1", "d2", "d3", "est_a", "est_b"}),
    # combined
    ("admin", {"unit_id": "unit_a", "food_safety_status": "certificate"}, {"d1"}),
    ("admin", {"q": "dam ha", "status": "active"}, {"d1"}),
    ("admin", {"unit_id": "unit_b", "certificate": "expired", "sector": "salt"}, {"d4"}),
    ("admin", {"unit_id": "unit_b", "certificate": "expired", "sector": "fishery"}, set()),
    ("admin", {"has_account": "false", "ocop": "true", "activity": "production"}, {"d2"}),
    ("agency_b", {"food_safety_status": "certificate"}, {"d3", "d4"}),
    ("agency_a", {"has_account": "false"}, {"d1", "d2"}),
]


@pytest.mark.parametrize(("who", "params", "expected"), FILTER_CASES)
def test_filters(
    client: Any,
    world: Any,
    catalogue: dict[str, str],
    who: str,
    params: dict[str, Any],
    expected: set[str],
) -> None:
    resolved = {k: str(getattr(world, v).id) if k == "unit_id" else v for k, v in params.items()}
    assert _ids(client, world.token(who), resolved) == {catalogue[k] for k in expected}


def test_filtering_on_a_unit_outside_scope_is_not_found(
    client: Any, world: Any, catalogue: dict[str, str]
) -> None:
    response = client.get(
        URL, headers=auth(world.token("agency_a")), query_string={"unit_id": str(world.unit_b.id)}
    )
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


@pytest.mark.parametrize(
    "params",
    [
        {"certificate": "soon"},
        {"activity": "fishing"},
        {"sector": "mining"},
        {"food_safety_status": "maybe"},
        {"unit_id": "not-a-uuid"},
        {"ocop": "perhaps"},
    ],
)
def test_unknown_filter_values_are_refused(client: Any, world: Any, params: dict[str, str]) -> None:
    response = client.get(URL, headers=auth(world.token("admin")), query_string=params)
    _assert_field_problem(response, next(iter(params)))


# --- pagination -------------------------------------------------------------------------------


def test_pages_are_stable_and_complete(client: Any, world: Any, session: Any) -> None:
    # Names that fold to the same text ("co so a") force the tie-break on the id.
    variants = ["Cơ sở A", "Cơ sở Ă", "Cơ sở Â", "CƠ SỞ A", "Cơ sở Á"]
    made = [
        EstablishmentFactory(name=variants[i % len(variants)], unit=world.unit_a1)
        for i in range(35)
    ]
    session.commit()
    expected = {str(e.id) for e in made} | {str(world.est_a.id), str(world.est_b.id)}

    def walk() -> list[str]:
        seen: list[str] = []
        page = 0
        while True:
            page += 1
            response = client.get(
                URL,
                headers=auth(world.token("admin")),
                query_string={"page": page, "page_size": 10},
            )
            assert response.status_code == 200
            meta = json.loads(response.headers["X-Pagination"])
            assert meta["total"] == 37
            assert meta["total_pages"] == 4
            assert meta["page"] == page
            seen.extend(e["id"] for e in response.json)
            if "next_page" not in meta:
                return seen
            assert len(response.json) == 10

    first = walk()
    assert len(first) == 37
    assert len(set(first)) == 37
    assert set(first) == expected
    assert walk() == first
    # A filtered list pages the same way.
    response = client.get(
        URL,
        headers=auth(world.token("agency_a")),
        query_string={"page": 4, "page_size": 10},
    )
    assert json.loads(response.headers["X-Pagination"])["total"] == 36
    assert len(response.json) == 6


# --- edits: optimistic locking ----------------------------------------------------------------


def test_patch_needs_if_match(client: Any, world: Any, session: Any) -> None:
    before = _counts(session)
    response = client.patch(
        f"{URL}{world.est_a.id}",
        headers=auth(world.token("agency_a")),
        json={"phone": "0203 123 456"},
    )
    assert response.status_code == 412
    assert response.json["code"] == "version_required"
    assert response.json["message"]["vi"].startswith("Cần gửi phiên bản")
    assert "If-Match" in response.json["message"]["en"]
    garbage = client.patch(
        f"{URL}{world.est_a.id}",
        headers={**auth(world.token("agency_a")), "If-Match": "yesterday"},
        json={"phone": "0203 123 456"},
    )
    assert garbage.status_code == 412
    assert _counts(session) == before

    ok = client.patch(
        f"{URL}{world.est_a.id}",
        headers={**auth(world.token("agency_a")), "If-Match": '"1"'},
        json={"phone": "0203 123 456", "reason": "Chủ cơ sở báo số mới"},
    )
    assert ok.status_code == 200, ok.json
    assert ok.headers["ETag"] == '"2"'
    assert ok.json["version"] == 2
    assert ok.json["phone"] == "0203 123 456"
    history = client.get(f"{URL}{world.est_a.id}/history", headers=auth(world.token("agency_a")))
    update = history.json["events"][-1]
    assert update["action"] == "establishment.update"
    assert update["reason"] == "Chủ cơ sở báo số mới"
    assert update["before"] == {"phone": None}
    assert update["after"] == {"phone": "0203 123 456"}
    # A weak ETag as browsers send it back is accepted.
    weak = client.patch(
        f"{URL}{world.est_a.id}",
        headers={**auth(world.token("agency_a")), "If-Match": 'W/"2"'},
        json={"email": "htx.duonghoa@example.vn"},
    )
    assert weak.status_code == 200
    assert weak.headers["ETag"] == '"3"'


def test_two_officers_editing_the_same_establishment(client: Any, world: Any, session: Any) -> None:
    """RELIABILITY 9: the second save gets a conflict, not a silent overwrite."""
    url = f"{URL}{world.est_a.id}"
    first_read = client.get(url, headers=auth(world.token("agency_a")))
    second_read = client.get(url, headers=auth(world.token("admin")))
    assert first_read.headers["ETag"] == second_read.headers["ETag"] == '"1"'

    first = client.patch(
        url,
        headers={**auth(world.token("agency_a")), "If-Match": first_read.headers["ETag"]},
        json={"representative": "Vi Thị Hoa"},
    )
    assert first.status_code == 200
    assert first.headers["ETag"] == '"2"'
    events = _counts(session)[1]

    second = client.patch(
        url,
        headers={**auth(world.token("admin")), "If-Match": second_read.headers["ETag"]},
        json={"representative": "Người khác", "name": "Tên ghi đè"},
    )
    assert second.status_code == 412
    assert second.json["code"] == "stale_version"
    assert second.json["message"] == {
        "vi": "Dữ liệu đã được người khác thay đổi; hãy tải lại rồi thử lại.",
        "en": "Someone else changed this record; reload it and try again.",
    }
    assert second.json["current_version"] == 2
    assert _counts(session)[1] == events

    now = client.get(url, headers=auth(world.token("admin")))
    assert now.json["representative"] == "Vi Thị Hoa"
    assert now.json["name"] == "HTX Chè Đường Hoa"
    assert now.headers["ETag"] == '"2"'
    # Reloaded, the second officer saves on top of the first one's change.
    retry = client.patch(
        url,
        headers={**auth(world.token("admin")), "If-Match": now.headers["ETag"]},
        json={"name": "HTX Chè Đường Hoa Hải Hà"},
    )
    assert retry.status_code == 200
    assert retry.json["representative"] == "Vi Thị Hoa"
    assert retry.json["version"] == 3


# --- moves and scope --------------------------------------------------------------------------


def test_admin_moves_an_establishment_to_another_unit(
    client: Any, world: Any, session: Any
) -> None:
    url = f"{URL}{world.est_a.id}"
    admin = auth(world.token("admin"))
    target = {"unit_id": str(world.unit_b.id), "reason": "Điều chỉnh địa bàn quản lý"}
    before = _counts(session)

    no_version = client.post(f"{url}/move", headers=admin, json=target)
    assert no_version.status_code == 412
    assert no_version.json["code"] == "version_required"
    no_reason = client.post(
        f"{url}/move", headers={**admin, "If-Match": '"1"'}, json={"unit_id": target["unit_id"]}
    )
    _assert_field_problem(no_reason, "reason")
    blank_reason = client.post(
        f"{url}/move",
        headers={**admin, "If-Match": '"1"'},
        json={"unit_id": target["unit_id"], "reason": "   "},
    )
    _assert_field_problem(blank_reason, "reason")
    assert _counts(session) == before

    moved = client.post(f"{url}/move", headers={**admin, "If-Match": '"1"'}, json=target)
    assert moved.status_code == 200, moved.json
    assert moved.json["unit_id"] == str(world.unit_b.id)
    assert moved.headers["ETag"] == '"2"'

    history = client.get(f"{url}/history", headers=admin).json
    assignments = history["assignments"]
    assert [a["unit_id"] for a in assignments] == [str(world.unit_a1.id), str(world.unit_b.id)]
    assert assignments[0]["valid_to"] is not None
    assert assignments[1]["valid_to"] is None
    assert assignments[1]["valid_from"] == assignments[0]["valid_to"]
    move = [e for e in history["events"] if e["action"] == "establishment.move"]
    assert len(move) == 1
    assert move[0]["reason"] == "Điều chỉnh địa bàn quản lý"
    assert move[0]["before"] == {"unit_id": str(world.unit_a1.id)}
    assert move[0]["after"] == {"unit_id": str(world.unit_b.id)}
    assert move[0]["actor_username"] == "admin.test"

    gone = client.get(url, headers=auth(world.token("agency_a")))
    assert gone.status_code == 404
    assert gone.json["code"] == "not_found"
    assert client.get(url, headers=auth(world.token("agency_b"))).status_code == 200
    assert str(world.est_a.id) in _ids(client, world.token("agency_b"))
    assert str(world.est_a.id) not in _ids(client, world.token("agency_a"))
    # The agency that now manages it sees its history too.
    assert client.get(f"{url}/history", headers=auth(world.token("agency_b"))).status_code == 200


def test_agency_moves_within_its_subtree_only(client: Any, world: Any, session: Any) -> None:
    agency_a = auth(world.token("agency_a"))
    created = _create(client, world.token("agency_a"), world.unit_a1, "Cơ sở giò chả Quảng Tân")
    url = f"{URL}{created['id']}"
    before = _counts(session)
    outside = client.post(
        f"{url}/move",
        headers={**agency_a, "If-Match": '"1"'},
        json={"unit_id": str(world.unit_b.id), "reason": "Chuyển sang huyện khác"},
    )
    _assert_field_problem(outside, "unit_id")
    assert outside.json["errors"]["unit_id"] == [
        {
            "vi": "Không tìm thấy đơn vị đang hoạt động trong phạm vi quản lý của bạn.",
            "en": "No such active unit in your scope.",
        }
    ]
    assert _counts(session) == before
    assert client.get(url, headers=agency_a).json["unit_id"] == str(world.unit_a1.id)

    inside = client.post(
        f"{url}/move",
        headers={**agency_a, "If-Match": '"1"'},
        json={"unit_id": str(world.unit_a.id), "reason": "Huyện trực tiếp quản lý"},
    )
    assert inside.status_code == 200, inside.json
    assert inside.json["unit_id"] == str(world.unit_a.id)
    history = client.get(f"{url}/history", headers=agency_a).json
    assert [a["unit_id"] for a in history["assignments"]] == [
        str(world.unit_a1.id),
        str(world.unit_a.id),
    ]
    assert [e["action"] for e in history["events"]] == [
        "establishment.create",
        "establishment.move",
    ]


def test_agency_cannot_reach_another_units_establishments(
    client: Any, world: Any, session: Any
) -> None:
    agency_a = auth(world.token("agency_a"))
    url = f"{URL}{world.est_b.id}"
    for response in (
        client.get(url, headers=agency_a),
        client.get(f"{url}/history", headers=agency_a),
        client.patch(url, headers={**agency_a, "If-Match": '"1"'}, json={"phone": "0912000000"}),
        client.post(
            f"{url}/move",
            headers={**agency_a, "If-Match": '"1"'},
            json={"unit_id": str(world.unit_a1.id), "reason": "Lấy về"},
        ),
    ):
        assert response.status_code == 404, response.json
        assert response.json["code"] == "not_found"
        assert response.json["message"] == {
            "vi": "Không tìm thấy cơ sở.",
            "en": "Establishment not found.",
        }
    assert str(world.est_b.id) not in _ids(client, world.token("agency_a"))

    before = _counts(session)
    created = client.post(
        URL,
        headers=agency_a,
        json={"unit_id": str(world.unit_b.id), "name": "Cơ sở ở huyện khác"},
    )
    _assert_field_problem(created, "unit_id")
    assert _counts(session) == before


# --- exports ----------------------------------------------------------------------------------


def _xlsx_rows(data: bytes) -> tuple[list[str], list[list[Any]]]:
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[1]]  # row 1 is the title
    return header, [list(r) for r in rows[2:]]


def _csv_rows(data: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return rows[0], rows[1:]


def test_exports_honour_the_list_filters(
    client: Any, world: Any, catalogue: dict[str, str]
) -> None:
    token = world.token("admin")
    for params, expected in (
        ({"q": "dam ha"}, ["Cơ sở chế biến hải sản Đầm Hà", "Cơ sở làm muối Đầm Hà Bắc"]),
        ({"q": "dam ha", "status": "active"}, ["Cơ sở chế biến hải sản Đầm Hà"]),
        ({"unit_id": str(world.unit_a.id), "ocop": "true"}, ["HTX Chè Đường Hoa"]),
        ({"certificate": "expired"}, ["Cơ sở làm muối Đầm Hà Bắc"]),
    ):
        listed = client.get(URL, headers=auth(token), query_string=params).json
        assert sorted(e["name"] for e in listed) == sorted(expected)

        xlsx = _download(client, f"{URL}export.xlsx", token, params)
        assert xlsx.status_code == 200
        assert xlsx.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert "attachment" in xlsx.headers["Content-Disposition"]
        header, rows = _xlsx_rows(xlsx.data)
        name_col = header.index("Tên cơ sở")
        assert sorted(r[name_col].value for r in rows) == sorted(expected), params
        assert [r[0].value for r in rows] == list(range(1, len(rows) + 1))

        exported = _download(client, f"{URL}export.csv", token, params)
        assert exported.status_code == 200
        assert exported.mimetype == "text/csv"
        assert exported.data.startswith(codecs.BOM_UTF8)
        csv_header, csv_rows = _csv_rows(exported.data)
        assert csv_header == header
        assert sorted(r[name_col] for r in csv_rows) == sorted(expected), params

    # The export's columns carry the establishment's data in Vietnamese.
    xlsx = _download(client, f"{URL}export.xlsx", token, {"q": "duong hoa"})
    header, rows = _xlsx_rows(xlsx.data)
    row = {h: c.value for h, c in zip(header, rows[0], strict=True)}
    assert row["Mã đơn vị quản lý"] == "DIST-A"
    assert row["Loại hình hoạt động"] == "Sản xuất"
    assert row["Lĩnh vực"] == "Trồng trọt"
    assert row["Diện quản lý"] == "Ký cam kết"
    assert row["OCOP"] == "Có"
    assert row["Số sao OCOP"] == 4
    assert row["Đã có tài khoản"] == "Không"


def test_exports_are_scoped_like_the_list(
    client: Any, world: Any, catalogue: dict[str, str]
) -> None:
    xlsx = _download(client, f"{URL}export.xlsx", world.token("agency_b"))
    header, rows = _xlsx_rows(xlsx.data)
    names = {r[header.index("Tên cơ sở")].value for r in rows}
    assert names == {
        "Cửa hàng thực phẩm sạch Minh Anh",
        "Cơ sở làm muối Đầm Hà Bắc",
        "Cơ sở Miến dong Bình Liêu",
    }


FORMULA_NAMES = [
    '=HYPERLINK("http://evil.example","Bấm vào") Công thức',
    "+84 Công thức",
    "-2+3 Công thức",
    "@SUM(A1:A9) Công thức",
]


def test_exported_text_never_becomes_a_formula(client: Any, world: Any) -> None:
    """RELIABILITY 12."""
    token = world.token("agency_a")
    for name in FORMULA_NAMES:
        _create(client, token, world.unit_a1, name, address="=1+1", representative="@Chủ")

    xlsx = _download(client, f"{URL}export.xlsx", token, {"q": "cong thuc"})
    header, rows = _xlsx_rows(xlsx.data)
    assert len(rows) == len(FORMULA_NAMES)
    by_name = {r[header.index("Tên cơ sở")].value: r for r in rows}
    assert set(by_name) == set(FORMULA_NAMES)
    for row in by_name.values():
        for column in ("Tên cơ sở", "Địa chỉ", "Người đại diện"):
            cell = row[header.index(column)]
            assert cell.data_type == "s", (column, cell.value)

    exported = _download(client, f"{URL}export.csv", token, {"q": "cong thuc"})
    assert exported.data.startswith(codecs.BOM_UTF8)
    assert not exported.data.startswith(codecs.BOM_UTF8 * 2)
    csv_header, csv_rows = _csv_rows(exported.data)
    names = {r[csv_header.index("Tên cơ sở")] for r in csv_rows}
    assert names == {"'" + n for n in FORMULA_NAMES}
    for row in csv_rows:
        assert row[csv_header.index("Địa chỉ")] == "'=1+1"
        assert row[csv_header.index("Người đại diện")] == "'@Chủ"


@pytest.mark.parametrize("path", ["export.xlsx", "export.csv"])
def test_establishment_role_cannot_export(client: Any, world: Any, path: str) -> None:
    response = _download(client, f"{URL}{path}", world.token("owner_a"))
    assert response.status_code == 403
    assert response.json["code"] == "forbidden"
    assert response.json["message"]["vi"]
    assert response.json["message"]["en"]


# --- bad input --------------------------------------------------------------------------------

BAD_CREATES: list[tuple[str, dict[str, Any], str]] = [
    ("tax_code", {"tax_code": "abc"}, "tax_code"),
    ("ocop_stars_7", {"ocop": True, "ocop_stars": 7}, "ocop_stars"),
    ("ocop_stars_without_ocop", {"ocop": False, "ocop_stars": 4}, "ocop_stars"),
    (
        "expiry_before_issue",
        {
            "food_safety_status": "certificate",
            "certificate_issued_on": "2024-06-01",
            "certificate_expires_on": "2024-05-31",
        },
        "certificate_expires_on",
    ),
    ("unknown_activity", {"activities": ["production", "mining"]}, "activities"),
    ("unknown_sector", {"sectors": ["space"]}, "sectors"),
    ("phone", {"phone": "gọi tôi"}, "phone"),
    ("email", {"email": "not-an-email"}, "email"),
    ("date", {"certificate_issued_on": "31/02/2024"}, "certificate_issued_on"),
    ("empty_name", {"name": ""}, "name"),
    ("control_characters", {"name": "Cơ sở\x00ẩn"}, "name"),
    ("unknown_field", {"search_text": "dam ha"}, "search_text"),
    ("version_is_not_settable", {"version": 9}, "version"),
]


@pytest.mark.parametrize(
    ("fields", "field"), [c[1:] for c in BAD_CREATES], ids=[c[0] for c in BAD_CREATES]
)
def test_bad_input_is_refused_and_nothing_changes(
    client: Any, world: Any, session: Any, fields: dict[str, Any], field: str
) -> None:
    before = _counts(session)
    response = client.post(
        URL,
        headers=auth(world.token("agency_a")),
        json={"unit_id": str(world.unit_a1.id), "name": "Cơ sở thử", **fields},
    )
    _assert_field_problem(response, field)
    assert _counts(session) == before


def test_expiry_before_issue_names_the_field(client: Any, world: Any) -> None:
    response = client.post(
        URL,
        headers={**auth(world.token("agency_a")), "Accept-Language": "en"},
        json={
            "unit_id": str(world.unit_a1.id),
            "name": "Cơ sở thử",
            "certificate_issued_on": "2024-06-01",
            "certificate_expires_on": "2023-06-01",
        },
    )
    assert response.status_code == 422
    assert response.json["detail"] == "The submitted data is not valid."
    assert response.json["errors"] == {
        "certificate_expires_on": [
            {
                "vi": "Ngày hết hạn phải sau ngày cấp.",
                "en": "The expiry date must follow the issue date.",
            }
        ]
    }


@pytest.mark.parametrize(
    ("stored", "change", "field"),
    [
        (
            {"certificate_issued_on": "2024-06-01", "certificate_expires_on": "2027-06-01"},
            {"certificate_expires_on": "2024-01-01"},
            "certificate_expires_on",
        ),
        (
            {"certificate_issued_on": "2024-06-01", "certificate_expires_on": "2027-06-01"},
            {"certificate_issued_on": "2028-01-01"},
            "certificate_expires_on",
        ),
        ({"ocop": True, "ocop_stars": 3}, {"ocop": False}, "ocop_stars"),
    ],
    ids=["expiry_moved_before_issue", "issue_moved_after_expiry", "ocop_dropped_with_stars"],
)
def test_an_edit_is_checked_against_the_stored_values(
    client: Any,
    world: Any,
    session: Any,
    stored: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    created = _create(client, world.token("agency_a"), world.unit_a1, "Cơ sở thử", **stored)
    before = _counts(session)
    response = client.patch(
        f"{URL}{created['id']}",
        headers={**auth(world.token("agency_a")), "If-Match": '"1"'},
        json=change,
    )
    _assert_field_problem(response, field)
    assert _counts(session) == before
    now = client.get(f"{URL}{created['id']}", headers=auth(world.token("agency_a"))).json
    assert now["version"] == 1
    for key, value in stored.items():
        assert now[key] == value


def test_stars_alone_make_an_ocop_participant(client: Any, world: Any) -> None:
    created = _create(client, world.token("agency_a"), world.unit_a1, "Cơ sở thử")
    patched = client.patch(
        f"{URL}{created['id']}",
        headers={**auth(world.token("agency_a")), "If-Match": '"1"'},
        json={"ocop_stars": 5},
    )
    assert patched.status_code == 200, patched.json
    assert (patched.json["ocop"], patched.json["ocop_stars"]) == (True, 5)
    dropped = client.patch(
        f"{URL}{created['id']}",
        headers={**auth(world.token("agency_a")), "If-Match": '"2"'},
        json={"ocop": False, "ocop_stars": None},
    )
    assert dropped.status_code == 200, dropped.json
    assert (dropped.json["ocop"], dropped.json["ocop_stars"]) == (False, None)


@pytest.mark.parametrize(
    "send",
    [
        lambda client, world, token, number: client.post(
            URL,
            headers=auth(token),
            json={
                "unit_id": str(world.unit_a1.id),
                "name": "Cơ sở trùng số",
                "business_registration_no": number,
            },
        ),
        lambda client, world, token, number: client.patch(
            f"{URL}{world.est_a.id}",
            headers={**auth(token), "If-Match": '"1"'},
            json={"business_registration_no": number},
        ),
    ],
    ids=["create", "edit"],
)
def test_duplicate_business_registration_number(
    client: Any, world: Any, session: Any, send: Callable[..., Any]
) -> None:
    before = _counts(session)
    response = send(client, world, world.token("admin"), world.est_b.business_registration_no)
    assert response.status_code == 409, response.json
    assert response.json["code"] == "duplicate_registration_no"
    assert response.json["message"] == {
        "vi": "Số đăng ký kinh doanh đã có trong hệ thống.",
        "en": "This business registration number is already registered.",
    }
    assert response.json["establishment_id"] == str(world.est_b.id)
    assert _counts(session) == before
    session.expire_all()
    assert session.get(Establishment, world.est_a.id).version == 1


def test_markup_in_names_is_returned_verbatim_as_data(client: Any, world: Any) -> None:
    """RELIABILITY 14: the API returns what was stored, as JSON data; pages escape it."""
    name = "<script>alert('xss')</script> Cơ sở <b>Đầm Hà</b> & \"Con\""
    address = "<img src=x onerror=alert(1)>"
    created = client.post(
        URL,
        headers=auth(world.token("agency_a")),
        json={"unit_id": str(world.unit_a1.id), "name": name, "address": address},
    )
    assert created.status_code == 201, created.json
    assert created.mimetype == "application/json"
    assert created.json["name"] == name
    assert created.json["address"] == address
    got = client.get(f"{URL}{created.json['id']}", headers=auth(world.token("agency_a")))
    assert got.mimetype == "application/json"
    assert got.json["name"] == name
    listed = client.get(URL, headers=auth(world.token("agency_a")), query_string={"q": "script"})
    assert [e["name"] for e in listed.json] == [name]


def test_unknown_establishment_is_not_found(client: Any, world: Any) -> None:
    response = client.get(f"{URL}{uuid.uuid4()}", headers=auth(world.token("admin")))
    assert response.status_code == 404
    assert response.json["code"] == "not_found"
