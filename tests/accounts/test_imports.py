"""Excel import of establishments through the API, run eagerly in-process (real workers are
in tests/e2e): outcomes per row, idempotence, dry run, scope, tolerated layouts, bad files."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from services.accounts.demo import establishment_rows, write_import_file
from services.accounts.models import AuditEvent, Establishment, Job
from tests.accounts.factories import auth

pytestmark = pytest.mark.smoke


def _file(
    tmp_path: Path, rows: list[dict[str, Any]], name: str = "list.xlsx", **options: Any
) -> bytes:
    path = tmp_path / name
    write_import_file(path, rows, **options)
    return path.read_bytes()


def _upload(
    client: Any, token: str, data: bytes, *, dry_run: bool = False, filename: str = "danh-sach.xlsx"
) -> Any:
    return client.post(
        "/api/v1/jobs/imports",
        headers=auth(token),
        data={"file": (io.BytesIO(data), filename), "dry_run": "true" if dry_run else "false"},
        content_type="multipart/form-data",
    )


def _rows(n: int, *units: str, seed: int = 7) -> list[dict[str, Any]]:
    return establishment_rows(n, seed=seed, unit_codes=list(units))


def _count(session: Any, model: Any = Establishment) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_import_creates_then_is_idempotent_then_updates(
    client: Any, world: Any, session: Any, tmp_path: Path
) -> None:
    rows = _rows(300, "COMM-A1", "DIST-A")
    before = _count(session)
    started = _upload(client, world.token("agency_a"), _file(tmp_path, rows))
    assert started.status_code == 202, started.json
    job = client.get(f"/api/v1/jobs/{started.json['id']}", headers=auth(world.token("agency_a")))
    assert job.json["status"] == "done", job.json
    assert job.json["counts"] == {"created": 300, "updated": 0, "unchanged": 0, "rejected": 0}
    assert job.json["progress_done"] == job.json["progress_total"] == 300
    assert _count(session) == before + 300
    audit_rows = _count(session, AuditEvent)

    again = _upload(client, world.token("agency_a"), _file(tmp_path, rows))
    job2 = client.get(f"/api/v1/jobs/{again.json['id']}", headers=auth(world.token("agency_a")))
    assert job2.json["counts"] == {"created": 0, "updated": 0, "unchanged": 300, "rejected": 0}
    assert _count(session) == before + 300
    assert _count(session, AuditEvent) == audit_rows

    rows[0] = {**rows[0], "address": "Số 1, đường Trần Hưng Đạo, TP Hạ Long"}
    rows[1] = {**rows[1], "unit_code": "DIST-A" if rows[1]["unit_code"] != "DIST-A" else "COMM-A1"}
    third = _upload(client, world.token("agency_a"), _file(tmp_path, rows))
    job3 = client.get(f"/api/v1/jobs/{third.json['id']}", headers=auth(world.token("agency_a")))
    assert job3.json["counts"] == {"created": 0, "updated": 2, "unchanged": 298, "rejected": 0}
    changed = client.get(
        f"/api/v1/jobs/{third.json['id']}/rows?outcome=updated",
        headers=auth(world.token("agency_a")),
    ).json
    assert {tuple(sorted(r["changes"])) for r in changed} == {("address",), ("unit_id",)}
    moved = session.scalar(
        select(Establishment).where(
            Establishment.business_registration_no == rows[1]["business_registration_no"]
        )
    )
    history = client.get(
        f"/api/v1/establishments/{moved.id}/history", headers=auth(world.token("agency_a"))
    ).json
    assert len(history["assignments"]) == 2
    assert [i["outcome"] for i in history["imports"]] == ["created", "updated"]
    assert set(history["imports"][1]["changes"]) == {"unit_id"}


def test_dry_run_writes_nothing_but_reports(
    client: Any, world: Any, session: Any, tmp_path: Path
) -> None:
    before = _count(session)
    started = _upload(
        client, world.token("agency_a"), _file(tmp_path, _rows(50, "COMM-A1")), dry_run=True
    )
    job = client.get(f"/api/v1/jobs/{started.json['id']}", headers=auth(world.token("agency_a")))
    assert job.json["counts"]["created"] == 50
    assert job.json["result"]["dry_run"] is True
    assert job.json["params"]["dry_run"] is True
    assert _count(session) == before


def test_rows_outside_scope_or_invalid_are_rejected_with_reasons(
    client: Any, world: Any, tmp_path: Path
) -> None:
    rows = _rows(6, "COMM-A1")
    rows[1] = {**rows[1], "unit_code": "DIST-B"}  # agency A does not manage B
    rows[2] = {**rows[2], "unit_code": "NOWHERE"}
    rows[3] = {**rows[3], "business_registration_no": rows[0]["business_registration_no"]}
    rows[4] = {**rows[4], "name": ""}
    rows[5] = {**rows[5], "phone": "12ab", "certificate_issued_on": "31/02/2024"}
    started = _upload(client, world.token("agency_a"), _file(tmp_path, rows))
    job_id = started.json["id"]
    job = client.get(f"/api/v1/jobs/{job_id}", headers=auth(world.token("agency_a"))).json
    assert job["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "rejected": 5}
    rejected = client.get(
        f"/api/v1/jobs/{job_id}/rows?outcome=rejected", headers=auth(world.token("agency_a"))
    ).json
    fields = {r["row_number"]: {m["field"] for m in r["messages"]} for r in rejected}
    assert sorted(fields.values(), key=sorted) == sorted(
        [
            {"unit_code"},
            {"unit_code"},
            {"business_registration_no"},
            {"name"},
            {"phone", "certificate_issued_on"},
        ],
        key=sorted,
    )
    for row in rejected:
        for message in row["messages"]:
            assert message["vi"]
            assert message["en"]
    report = client.get(f"/api/v1/jobs/{job_id}/report.xlsx", headers=auth(world.token("agency_a")))
    assert report.status_code == 200
    sheet = load_workbook(io.BytesIO(report.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    header = values[1]
    assert "Lỗi" in header
    outcomes = [row[header.index("Kết quả")] for row in values[2:]]
    assert outcomes.count("Bị từ chối") == 5


@pytest.mark.parametrize(
    "options",
    [
        {"header_rows_above": True, "shuffle_columns": True},
        {"dates_as_text": True, "phones_as_numbers": True},
        {"nfd": True, "header_rows_above": False},
    ],
)
def test_layouts_agencies_use_are_tolerated(
    client: Any, world: Any, session: Any, tmp_path: Path, options: dict[str, Any]
) -> None:
    rows = _rows(40, "COMM-A1", seed=11)
    started = _upload(client, world.token("agency_a"), _file(tmp_path, rows, **options))
    job = client.get(
        f"/api/v1/jobs/{started.json['id']}", headers=auth(world.token("agency_a"))
    ).json
    assert job["counts"]["rejected"] == 0, client.get(
        f"/api/v1/jobs/{started.json['id']}/rows?outcome=rejected",
        headers=auth(world.token("agency_a")),
    ).json
    stored = session.scalar(
        select(Establishment).where(
            Establishment.business_registration_no == rows[0]["business_registration_no"]
        )
    )
    assert stored.name == unicodedata.normalize("NFC", rows[0]["name"])
    assert stored.phone == rows[0]["phone"]


def test_import_template_round_trips(client: Any, world: Any) -> None:
    template = client.get(
        "/api/v1/jobs/import-template.xlsx", headers=auth(world.token("agency_a"))
    )
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data)).active
    assert [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))][:3] == [
        "Tên cơ sở",
        "Số GCN ĐKKD",
        "Ngày cấp ĐKKD",
    ]


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


BAD_FILES = {
    "file_not_xlsx": b"ten,so dkkd\nCo so A,5700000001\n",
    "file_legacy_xls": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600,
    "file_password_protected": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    + b"\x00" * 100
    + "EncryptionInfo".encode("utf-16-le")
    + b"\x00" * 500,
    "file_empty": b"",
}


@pytest.mark.parametrize("code", sorted(BAD_FILES))
def test_bad_files_are_refused_and_nothing_is_queued(
    client: Any, world: Any, session: Any, code: str
) -> None:
    jobs_before = _count(session, Job)
    response = _upload(client, world.token("agency_a"), BAD_FILES[code])
    assert response.status_code == 422, response.json
    assert response.json["code"] == code
    assert response.json["message"]["vi"]
    assert _count(session, Job) == jobs_before


def test_zip_bomb_and_xml_entities_are_refused(client: Any, world: Any, tmp_path: Path) -> None:
    real = _file(tmp_path, _rows(3, "COMM-A1"))
    with zipfile.ZipFile(io.BytesIO(real)) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    sheet = next(n for n in members if n.startswith("xl/worksheets/"))
    evil = members | {
        sheet: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>'
        + members[sheet].split(b"?>", 1)[1]
    }
    response = _upload(client, world.token("agency_a"), _zip(evil))
    assert response.json["code"] == "file_xml_entities"
    bomb = members | {"xl/media/padding.bin": b"\0" * (210 * 1024 * 1024)}
    response = _upload(client, world.token("agency_a"), _zip(bomb))
    assert response.status_code == 422
    assert response.json["code"] == "file_zip_bomb"


def test_empty_sheet_and_missing_columns(client: Any, world: Any, tmp_path: Path) -> None:
    from shared.excel import SheetSpec, write_xlsx

    empty = io.BytesIO()
    write_xlsx(empty, [SheetSpec("Trống", [], [])])
    assert _upload(client, world.token("agency_a"), empty.getvalue()).json["code"] in {
        "file_empty_sheet",
        "file_missing_columns",
    }
    partial = io.BytesIO()
    write_xlsx(
        partial, [SheetSpec("Cơ sở", ["STT", "Tên cơ sở", "Địa chỉ"], [[1, "Cơ sở A", "Hạ Long"]])]
    )
    response = _upload(client, world.token("agency_a"), partial.getvalue())
    assert response.json["code"] == "file_missing_columns"
    assert set(response.json["missing"]) == {"Số GCN ĐKKD", "Mã đơn vị quản lý"}


def test_over_the_size_limit_is_413(client: Any, world: Any) -> None:
    # The body is built here, in memory: the test client would spool it to a temporary file.
    boundary = "----trace-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.xlsx"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + b"PK\x03\x04"
        + b"\0" * (21 * 1024 * 1024)
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/api/v1/jobs/imports",
        headers=auth(world.token("agency_a")),
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert response.json["code"] == "payload_too_large"


def test_establishments_cannot_import_and_jobs_are_private(
    client: Any, world: Any, tmp_path: Path
) -> None:
    data = _file(tmp_path, _rows(2, "COMM-A1"))
    assert _upload(client, world.token("owner_a"), data).status_code == 403
    started = _upload(client, world.token("agency_a"), data)
    job_id = started.json["id"]
    assert (
        client.get(f"/api/v1/jobs/{job_id}", headers=auth(world.token("agency_b"))).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/jobs/{job_id}", headers=auth(world.token("admin"))).status_code == 200
    )
