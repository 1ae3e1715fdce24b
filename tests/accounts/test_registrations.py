"""Applications for an account (Mẫu 03) through the API — from the public form to the first
login — and bulk grants: every step audited, scope kept, one-time passwords handed out once."""

from __future__ import annotations

import io
import itertools
import uuid
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from services.accounts.models import Account, AuditEvent, Establishment, Registration
from tests.accounts.factories import PASSWORD, EstablishmentFactory, UnitFactory, auth

pytestmark = pytest.mark.smoke

URL = "/api/v1/registrations/"
_numbers = itertools.count(5_900_000_001)


def _number() -> str:
    return str(next(_numbers))


def _application(unit: Any, **overrides: Any) -> dict[str, Any]:
    return {
        "kind": "grant",
        "unit_id": str(unit.id),
        "name": "Cơ sở sản xuất nước mắm Cái Rồng",
        "business_registration_no": _number(),
        "representative": "Phạm Thị Thu",
        "phone": "0936 112 233",
        "address": "Thôn Cái Rồng, xã Quảng Tân",
        "activities": ["production", "processing"],
        "sectors": ["fishery"],
        "food_safety_status": "commitment",
        "commitment_signed_on": "2024-08-01",
        "commitment_receiving_unit": "UBND xã Quảng Tân",
        "contact_name": "Phạm Văn Hòa",
        "contact_email": "hoa@example.vn",
        "note": "Xin cấp tài khoản để in tem truy xuất.",
        **overrides,
    }


def _submit(client: Any, body: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(URL, json=body, **kwargs)


def _submitted(client: Any, body: dict[str, Any]) -> tuple[str, str]:
    response = _submit(client, body)
    assert response.status_code == 201, response.json
    return response.json["registration"]["id"], response.json["applicant_token"]


def _login(client: Any, username: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def _counts(session: Any) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(m)) or 0
        for m in (Registration, Establishment, Account, AuditEvent)
    )


def _assert_fields(response: Any, fields: set[str]) -> None:
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["message"]["vi"]
    assert body["message"]["en"]
    found = {name.split(".")[0] for name in body["errors"]}
    assert fields <= found, body["errors"]
    for messages in body["errors"].values():
        for message in messages:
            assert message["vi"]
            assert message["en"]


# --- the whole workflow -----------------------------------------------------------------------


def test_public_units_lists_active_units_without_login(
    client: Any, world: Any, session: Any
) -> None:
    UnitFactory(code="OLD-COMMUNE", name="Xã đã sáp nhập", parent=world.unit_a, status="retired")
    session.commit()
    response = client.get(f"{URL}units")
    assert response.status_code == 200
    assert {u["code"] for u in response.json} == {"ROOT", "DIST-A", "COMM-A1", "DIST-B"}
    # Only what an applicant needs; nothing about logins or history.
    assert set(response.json[0]) == {"id", "code", "name", "level", "parent_id"}
    a1 = next(u for u in response.json if u["code"] == "COMM-A1")
    assert a1 == {
        "id": str(world.unit_a1.id),
        "code": "COMM-A1",
        "name": "Xã Quảng Tân",
        "level": "commune",
        "parent_id": str(world.unit_a.id),
    }


def test_from_the_public_form_to_the_first_login(client: Any, world: Any) -> None:
    agency_a = auth(world.token("agency_a"))
    first = _application(world.unit_a1, phone="0936 112 23")

    # 1. The applicant submits, without login.
    submitted = _submit(client, first)
    assert submitted.status_code == 201, submitted.json
    registration = submitted.json["registration"]
    token = submitted.json["applicant_token"]
    assert len(token) >= 20
    assert registration["status"] == "submitted"
    assert registration["kind"] == "grant"
    assert registration["unit_id"] == str(world.unit_a1.id)
    assert registration["establishment_id"] is None
    assert registration["data"]["name"] == first["name"]
    assert registration["data"]["contact_name"] == "Phạm Văn Hòa"
    reg_id = registration["id"]

    # 2. It is in agency A's inbox (A covers A1), not in agency B's.
    inbox = client.get(URL, headers=agency_a, query_string={"status": "submitted"})
    assert inbox.status_code == 200
    assert [r["id"] for r in inbox.json] == [reg_id]
    other = client.get(
        URL, headers=auth(world.token("agency_b")), query_string={"status": "submitted"}
    )
    assert other.json == []
    assert client.get(f"{URL}{reg_id}", headers=auth(world.token("agency_b"))).status_code == 404

    # 3. Agency A asks for changes.
    reason = "Số điện thoại thiếu một chữ số; bổ sung Số ĐKKD đúng."
    changes = client.post(
        f"{URL}{reg_id}/request-changes", headers=agency_a, json={"reason": reason}
    )
    assert changes.status_code == 200, changes.json
    assert changes.json["status"] == "changes_requested"
    assert client.get(URL, headers=agency_a, query_string={"status": "submitted"}).json == []

    # 4. The applicant reads the reason with the token; a wrong token finds nothing.
    view = client.get(f"{URL}{reg_id}/applicant", query_string={"token": token})
    assert view.status_code == 200
    assert view.json["status"] == "changes_requested"
    assert view.json["decision_reason"] == reason
    wrong = client.get(f"{URL}{reg_id}/applicant", query_string={"token": "x" * 32})
    assert wrong.status_code == 404
    assert wrong.json["code"] == "not_found"
    assert wrong.json["message"] == {"vi": "Không tìm thấy hồ sơ.", "en": "Application not found."}
    elsewhere = client.get(f"{URL}{uuid.uuid4()}/applicant", query_string={"token": token})
    assert elsewhere.status_code == 404
    no_token = client.put(f"{URL}{reg_id}/applicant", json=first)
    assert no_token.status_code == 422

    # 5. The applicant answers with a corrected application.
    corrected = {**first, "phone": "0936 112 233"}
    resubmitted = client.put(
        f"{URL}{reg_id}/applicant", query_string={"token": token}, json=corrected
    )
    assert resubmitted.status_code == 200, resubmitted.json
    assert resubmitted.json["status"] == "submitted"
    assert resubmitted.json["data"]["phone"] == "0936 112 233"
    again = client.put(f"{URL}{reg_id}/applicant", query_string={"token": token}, json=corrected)
    assert again.status_code == 409
    assert again.json["code"] == "invalid_state"

    # 6. Agency A approves: the login follows the unit's rule; the one-time password is given once.
    approved = client.post(f"{URL}{reg_id}/approve", headers=agency_a)
    assert approved.status_code == 200, approved.json
    account = approved.json["account"]
    otp = approved.json["one_time_password"]
    assert account["username"] == "comm-a1.00001"
    assert account["role"] == "establishment"
    assert account["status"] == "active"
    assert account["must_change_password"] is True
    assert account["display_name"] == first["name"]
    assert approved.json["registration"]["status"] == "approved"
    assert approved.json["registration"]["account_id"] == account["id"]
    est_id = approved.json["registration"]["establishment_id"]
    assert account["establishment_id"] == est_id

    # The establishment is in the registry under A1, with the application's data.
    establishment = client.get(f"/api/v1/establishments/{est_id}", headers=agency_a)
    assert establishment.status_code == 200
    assert establishment.json["unit_id"] == str(world.unit_a1.id)
    assert establishment.json["name"] == first["name"]
    assert establishment.json["business_registration_no"] == first["business_registration_no"]
    assert establishment.json["activities"] == ["processing", "production"]
    assert establishment.json["commitment_signed_on"] == "2024-08-01"
    assert establishment.json["has_account"] is True
    found = client.get(
        "/api/v1/establishments/", headers=agency_a, query_string={"q": "nuoc mam cai rong"}
    )
    assert [e["id"] for e in found.json] == [est_id]

    # 7. First login with the one-time password; the password must be changed first.
    first_login = _login(client, "comm-a1.00001", otp)
    assert first_login.status_code == 200, first_login.json
    assert first_login.json["must_change_password"] is True
    pending = auth(first_login.json["access_token"])
    blocked = client.get("/api/v1/establishments/", headers=pending)
    assert blocked.status_code == 403
    assert blocked.json["code"] == "password_change_required"
    passphrase = "Nước mắm Cái Rồng thơm ngon nhất vùng"
    changed = client.post(
        "/api/v1/auth/me/password",
        headers=pending,
        json={"current_password": otp, "new_password": passphrase},
    )
    assert changed.status_code == 200, changed.json
    assert changed.json["must_change_password"] is False

    # 8. A normal login; the one-time password is dead.
    normal = _login(client, "comm-a1.00001", passphrase)
    assert normal.status_code == 200
    assert normal.json["must_change_password"] is False
    assert _login(client, "comm-a1.00001", otp).status_code == 401
    own = client.get("/api/v1/establishments/", headers=auth(normal.json["access_token"]))
    assert [e["id"] for e in own.json] == [est_id]

    # Every step left an audit row.
    trail = client.get(
        "/api/v1/accounts/audit-events",
        headers=auth(world.token("admin")),
        query_string={"target_type": "registration", "target_id": reg_id},
    )
    assert trail.status_code == 200
    events = list(reversed(trail.json))
    assert [e["action"] for e in events] == [
        "registration.submit",
        "registration.request_changes",
        "registration.resubmit",
        "registration.approve",
    ]
    assert [e["actor_username"] for e in events] == ["public", "canbo.a", "public", "canbo.a"]
    assert events[1]["reason"] == reason
    assert all(e["unit_id"] == str(world.unit_a1.id) for e in events)
    assert otp not in str(trail.json)
    # Agency A reads the same trail; agency B sees none of it.
    assert (
        len(
            client.get(
                "/api/v1/accounts/audit-events",
                headers=agency_a,
                query_string={"target_type": "registration", "target_id": reg_id},
            ).json
        )
        == 4
    )
    assert (
        client.get(
            "/api/v1/accounts/audit-events",
            headers=auth(world.token("agency_b")),
            query_string={"target_type": "registration"},
        ).json
        == []
    )
    grant = client.get(
        "/api/v1/accounts/audit-events",
        headers=auth(world.token("admin")),
        query_string={"action": "account.grant", "target_id": account["id"]},
    ).json
    assert len(grant) == 1
    assert grant[0]["reason"] == f"Mẫu 03 — hồ sơ {reg_id}"


def test_approval_uses_the_requested_login_name(client: Any, world: Any) -> None:
    reg_id, _ = _submitted(
        client, _application(world.unit_a1, requested_username="Nước.Mắm.Cái.Rồng")
    )
    approved = client.post(f"{URL}{reg_id}/approve", headers=auth(world.token("agency_a")))
    assert approved.status_code == 200, approved.json
    assert approved.json["account"]["username"] == "nuoc.mam.cai.rong"
    login = _login(client, "nuoc.mam.cai.rong", approved.json["one_time_password"])
    assert login.status_code == 200


def test_an_answer_to_a_change_request_can_correct_the_registration_number(
    client: Any, world: Any
) -> None:
    """The applicant typed est_a's number by mistake; once corrected, approval creates the
    new establishment instead of stumbling on est_a."""
    agency_a = auth(world.token("agency_a"))
    typo = _application(
        world.unit_a1, business_registration_no=world.est_a.business_registration_no
    )
    reg_id, token = _submitted(client, typo)
    client.post(
        f"{URL}{reg_id}/request-changes",
        headers=agency_a,
        json={"reason": "Số ĐKKD trùng với cơ sở khác."},
    )
    fixed = client.put(
        f"{URL}{reg_id}/applicant",
        query_string={"token": token},
        json={**typo, "business_registration_no": "5709990001"},
    )
    assert fixed.status_code == 200, fixed.json
    assert fixed.json["establishment_id"] is None
    approved = client.post(f"{URL}{reg_id}/approve", headers=agency_a)
    assert approved.status_code == 200, approved.json
    est_id = approved.json["registration"]["establishment_id"]
    assert est_id != str(world.est_a.id)
    created = client.get(f"/api/v1/establishments/{est_id}", headers=agency_a).json
    assert created["business_registration_no"] == "5709990001"


# --- reject, re-grant, conflicts --------------------------------------------------------------


def test_reject_needs_a_reason_and_is_final(client: Any, world: Any, session: Any) -> None:
    agency_a = auth(world.token("agency_a"))
    reg_id, token = _submitted(client, _application(world.unit_a1))
    before = _counts(session)
    missing = client.post(f"{URL}{reg_id}/reject", headers=agency_a, json={})
    _assert_fields(missing, {"reason"})
    blank = client.post(f"{URL}{reg_id}/reject", headers=agency_a, json={"reason": "   "})
    _assert_fields(blank, {"reason"})
    assert blank.json["errors"]["reason"] == [
        {"vi": "Cần nêu lý do.", "en": "A reason is required."}
    ]
    assert _counts(session) == before

    rejected = client.post(
        f"{URL}{reg_id}/reject",
        headers=agency_a,
        json={"reason": "Cơ sở không thuộc diện quản lý của xã."},
    )
    assert rejected.status_code == 200, rejected.json
    assert rejected.json["status"] == "rejected"
    assert rejected.json["decision_reason"] == "Cơ sở không thuộc diện quản lý của xã."
    assert rejected.json["decided_at"] is not None

    before = _counts(session)
    for action in ("approve", "request-changes", "reject"):
        response = client.post(f"{URL}{reg_id}/{action}", headers=agency_a, json={"reason": "x"})
        assert response.status_code == 409, (action, response.json)
        assert response.json["code"] == "invalid_state"
        assert response.json["status"] == "rejected"
        assert response.json["message"] == {
            "vi": "Hồ sơ đã được xử lý hoặc đang chờ bổ sung.",
            "en": "The application was already decided or awaits changes.",
        }
    answer = client.put(
        f"{URL}{reg_id}/applicant", query_string={"token": token}, json=_application(world.unit_a1)
    )
    assert answer.status_code == 409
    assert _counts(session) == before
    view = client.get(f"{URL}{reg_id}/applicant", query_string={"token": token}).json
    assert view["status"] == "rejected"
    assert view["decision_reason"] == "Cơ sở không thuộc diện quản lý của xã."


def test_regrant_application_reopens_the_revoked_account(
    client: Any, world: Any, session: Any
) -> None:
    agency_b = auth(world.token("agency_b"))
    revoked = client.post(
        f"/api/v1/accounts/{world.owner_b.id}/revoke",
        headers=agency_b,
        json={"reason": "Cơ sở tạm dừng hoạt động"},
    )
    assert revoked.status_code == 200
    assert revoked.json["status"] == "revoked"
    establishments = _counts(session)[1]

    body = _application(
        world.unit_b,
        kind="regrant",
        name="Cơ sở Miến dong Bình Liêu",
        business_registration_no=world.est_b.business_registration_no,
    )
    reg_id, _ = _submitted(client, body)
    registration = client.get(f"{URL}{reg_id}", headers=agency_b).json
    assert registration["kind"] == "regrant"
    assert registration["establishment_id"] == str(world.est_b.id)

    approved = client.post(f"{URL}{reg_id}/approve", headers=agency_b)
    assert approved.status_code == 200, approved.json
    account = approved.json["account"]
    assert account["id"] == str(world.owner_b.id)
    assert account["username"] == "coso.b"
    assert account["status"] == "active"
    assert account["must_change_password"] is True
    otp = approved.json["one_time_password"]
    assert otp != PASSWORD
    assert approved.json["registration"]["establishment_id"] == str(world.est_b.id)
    assert _counts(session)[1] == establishments  # no new establishment
    assert _login(client, "coso.b", PASSWORD).status_code == 401
    login = _login(client, "coso.b", otp)
    assert login.status_code == 200
    assert login.json["must_change_password"] is True
    trail = client.get(f"/api/v1/accounts/{world.owner_b.id}/audit", headers=agency_b).json
    regrant = next(e for e in trail if e["action"] == "account.regrant")
    assert regrant["reason"] == f"Mẫu 03 — hồ sơ {reg_id}"


@pytest.mark.parametrize("kind", ["grant", "regrant"])
def test_approval_refused_when_the_establishment_has_a_live_account(
    client: Any, world: Any, session: Any, kind: str
) -> None:
    reg_id, _ = _submitted(
        client,
        _application(
            world.unit_a1, kind=kind, business_registration_no=world.est_a.business_registration_no
        ),
    )
    before = _counts(session)
    response = client.post(f"{URL}{reg_id}/approve", headers=auth(world.token("agency_a")))
    assert response.status_code == 409, response.json
    assert response.json["code"] == "establishment_has_account"
    assert response.json["message"] == {
        "vi": "Cơ sở đã có tài khoản đang dùng.",
        "en": "The establishment already has an account in use.",
    }
    assert _counts(session) == before
    still = client.get(f"{URL}{reg_id}", headers=auth(world.token("agency_a"))).json
    assert still["status"] == "submitted"
    assert still["account_id"] is None


def test_regrant_with_an_unknown_registration_number(client: Any, world: Any, session: Any) -> None:
    before = _counts(session)
    response = _submit(
        client, _application(world.unit_a1, kind="regrant", business_registration_no="5700009999")
    )
    _assert_fields(response, {"business_registration_no"})
    assert response.json["errors"]["business_registration_no"] == [
        {
            "vi": "Không tìm thấy cơ sở có số đăng ký này để cấp lại tài khoản.",
            "en": "No establishment with this registration number to re-grant an account to.",
        }
    ]
    assert _counts(session) == before


def test_an_answer_to_a_regrant_change_request_keeps_to_existing_establishments(
    client: Any, world: Any, session: Any
) -> None:
    agency_b = auth(world.token("agency_b"))
    body = _application(
        world.unit_b, kind="regrant", business_registration_no=world.est_b.business_registration_no
    )
    reg_id, token = _submitted(client, body)
    client.post(f"{URL}{reg_id}/request-changes", headers=agency_b, json={"reason": "Bổ sung."})
    before = _counts(session)
    response = client.put(
        f"{URL}{reg_id}/applicant",
        query_string={"token": token},
        json={**body, "business_registration_no": "5700009999"},
    )
    _assert_fields(response, {"business_registration_no"})
    assert _counts(session) == before
    view = client.get(f"{URL}{reg_id}/applicant", query_string={"token": token}).json
    assert view["status"] == "changes_requested"
    assert view["establishment_id"] == str(world.est_b.id)


# --- the public form: rate limit and bad input ------------------------------------------------


def test_public_form_is_rate_limited_per_address(client: Any, world: Any, session: Any) -> None:
    address = {"REMOTE_ADDR": "198.51.100.7"}
    for _ in range(10):
        accepted = _submit(client, _application(world.unit_a1), environ_base=address)
        assert accepted.status_code == 201, accepted.json
    before = _counts(session)
    limited = _submit(client, _application(world.unit_a1), environ_base=address)
    assert limited.status_code == 429
    assert limited.json["code"] == "too_many_requests"
    assert limited.json["message"] == {
        "vi": "Quá nhiều yêu cầu; hãy thử lại sau.",
        "en": "Too many requests; try again later.",
    }
    assert limited.headers["Retry-After"] == "3600"
    assert _counts(session) == before
    # Another address, and an officer signed in, are not held back.
    other = _submit(
        client, _application(world.unit_a1), environ_base={"REMOTE_ADDR": "198.51.100.8"}
    )
    assert other.status_code == 201
    officer = _submit(
        client,
        _application(world.unit_a1),
        environ_base=address,
        headers=auth(world.token("agency_a")),
    )
    assert officer.status_code == 201, officer.json


BAD_FORMS: list[tuple[str, dict[str, Any], set[str]]] = [
    ("missing_required", {"name": None, "representative": None, "phone": None}, set()),
    ("empty_name", {"name": ""}, {"name"}),
    ("malformed_phone", {"phone": "gọi số 0912"}, {"phone"}),
    ("phone_too_short", {"phone": "12"}, {"phone"}),
    ("unknown_unit", {"unit_id": "unknown"}, {"unit_id"}),
    ("retired_unit", {"unit_id": "retired"}, {"unit_id"}),
    ("not_a_uuid", {"unit_id": "Xã Quảng Tân"}, {"unit_id"}),
    ("unknown_kind", {"kind": "transfer"}, {"kind"}),
    ("bad_contact_email", {"contact_email": "hoa@"}, {"contact_email"}),
    ("bad_requested_username", {"requested_username": "!!"}, {"requested_username"}),
    ("unknown_activity", {"activities": ["mining"]}, {"activities"}),
    (
        "expiry_before_issue",
        {"certificate_issued_on": "2024-06-01", "certificate_expires_on": "2024-01-01"},
        {"certificate_expires_on"},
    ),
    ("control_characters", {"representative": "Phạm\x07Thu"}, {"representative"}),
    ("field_not_settable", {"status": "approved", "establishment_id": "x"}, {"establishment_id"}),
]


@pytest.mark.parametrize(
    ("changes", "fields"), [c[1:] for c in BAD_FORMS], ids=[c[0] for c in BAD_FORMS]
)
def test_bad_input_on_the_public_form(
    client: Any, world: Any, session: Any, changes: dict[str, Any], fields: set[str]
) -> None:
    retired = UnitFactory(code="OLD", name="Xã cũ", parent=world.unit_a, status="retired")
    session.commit()
    body = _application(world.unit_a1)
    for key, value in changes.items():
        if value is None:
            del body[key]
            fields = fields | {key}
        elif key == "unit_id" and value == "unknown":
            body[key] = str(uuid.uuid4())
        elif key == "unit_id" and value == "retired":
            body[key] = str(retired.id)
        else:
            body[key] = value
    before = _counts(session)
    response = _submit(client, body)
    _assert_fields(response, fields)
    assert _counts(session) == before


def test_public_form_errors_in_both_languages(client: Any, world: Any) -> None:
    body = _application(world.unit_a1, unit_id=str(uuid.uuid4()))
    english = _submit(client, body, headers={"Accept-Language": "en"})
    assert english.json["detail"] == "The submitted data is not valid."
    assert english.json["errors"] == {
        "unit_id": [
            {
                "vi": "Hãy chọn đơn vị quản lý đang hoạt động.",
                "en": "Choose an active managing unit.",
            }
        ]
    }
    vietnamese = _submit(client, {"unit_id": str(world.unit_a1.id)})
    assert vietnamese.json["detail"] == "Dữ liệu gửi lên không hợp lệ."
    for field in ("name", "business_registration_no", "representative", "phone"):
        assert vietnamese.json["errors"][field] == [
            {"vi": "Thiếu trường bắt buộc.", "en": "Missing data for required field."}
        ]


# --- bulk grant -------------------------------------------------------------------------------


def test_bulk_grant(client: Any, world: Any, session: Any) -> None:
    fresh = [
        EstablishmentFactory(name=f"Cơ sở chưa có tài khoản {i}", unit=world.unit_a1)
        for i in range(3)
    ]
    session.commit()
    ids = [str(e.id) for e in fresh] + [str(world.est_b.id), str(world.est_a.id)]
    agency_a = auth(world.token("agency_a"))

    started = client.post(
        "/api/v1/jobs/bulk-grants", headers=agency_a, json={"establishment_ids": ids}
    )
    assert started.status_code == 202, started.json
    assert started.json["kind"] == "bulk_grant"
    job_url = f"/api/v1/jobs/{started.json['id']}"
    job = client.get(job_url, headers=agency_a)
    assert job.status_code == 200
    assert job.json["status"] == "done", job.json
    assert job.json["result"]["granted"] == 3
    assert job.json["result"]["skipped"] == 2

    result = client.get(f"{job_url}/result.xlsx", headers=agency_a)
    assert result.status_code == 200
    assert result.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f"tai-khoan-{started.json['id']}.xlsx" in result.headers["Content-Disposition"]
    data = result.get_data()
    result.close()
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Tài khoản đã cấp", "Bỏ qua"]
    granted = [[c.value for c in row] for row in workbook["Tài khoản đã cấp"].iter_rows()]
    assert granted[0] == ["Tên cơ sở", "Số GCN ĐKKD", "Tên đăng nhập", "Mật khẩu dùng một lần"]
    assert sorted(str(r[0]) for r in granted[1:]) == sorted(str(e.name) for e in fresh)
    assert sorted(str(r[2]) for r in granted[1:]) == [
        "comm-a1.00001",
        "comm-a1.00002",
        "comm-a1.00003",
    ]
    skipped = [[c.value for c in row] for row in workbook["Bỏ qua"].iter_rows()]
    assert skipped[0] == ["Mã cơ sở", "Tên cơ sở", "Lý do"]
    reasons = {r[0]: r for r in skipped[1:]}
    assert set(reasons) == {str(world.est_b.id), str(world.est_a.id)}
    assert "already has an account" in reasons[str(world.est_a.id)][2]
    assert reasons[str(world.est_a.id)][1] == "HTX Chè Đường Hoa"
    assert "not found in your scope" in reasons[str(world.est_b.id)][2]
    # Nothing about an establishment outside the officer's scope, not even its name.
    assert reasons[str(world.est_b.id)][1] in (None, "")

    # The file is for the officer who started the job only.
    for who in ("admin", "agency_b"):
        denied = client.get(f"{job_url}/result.xlsx", headers=auth(world.token(who)))
        denied.close()
        assert denied.status_code == 404, who
    assert client.get(job_url, headers=auth(world.token("agency_b"))).status_code == 404

    # Each one-time password logs in (and must be changed).
    for name, _, username, otp in granted[1:]:
        login = _login(client, username, otp)
        assert login.status_code == 200, (name, login.json)
        assert login.json["must_change_password"] is True
        assert login.json["account"]["display_name"] == name
    listed = client.get(
        "/api/v1/establishments/",
        headers=agency_a,
        query_string={"has_account": "false"},
    ).json
    assert listed == []
    assert (
        client.get(f"/api/v1/accounts/{world.owner_b.id}", headers=auth(world.token("admin"))).json[
            "status"
        ]
        == "active"
    )


def test_bulk_grant_refuses_bad_input_and_establishment_roles(client: Any, world: Any) -> None:
    empty = client.post(
        "/api/v1/jobs/bulk-grants",
        headers=auth(world.token("agency_a")),
        json={"establishment_ids": []},
    )
    _assert_fields(empty, {"establishment_ids"})
    junk = client.post(
        "/api/v1/jobs/bulk-grants",
        headers=auth(world.token("agency_a")),
        json={"establishment_ids": ["not-a-uuid"]},
    )
    _assert_fields(junk, {"establishment_ids"})
    owner = client.post(
        "/api/v1/jobs/bulk-grants",
        headers=auth(world.token("owner_a")),
        json={"establishment_ids": [str(world.est_a.id)]},
    )
    assert owner.status_code == 403
    assert owner.json["code"] == "forbidden"
