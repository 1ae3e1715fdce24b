"""The Excel import pages: who may upload and see a job, a refused file is explained next to
the file field (nothing stored), a dry run writes nothing, the job page shows progress (htmx
fragment, meta refresh while running), the per-row result table and the error file link.
Jobs run eagerly in-process (real workers are in tests/e2e)."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services.accounts.demo import establishment_rows, write_import_file
from services.accounts.models import Establishment, Job
from shared.excel import SheetSpec, write_xlsx
from tests.accounts.pages import CSRF, html, login


def _file(tmp_path: Path, rows: list[dict[str, Any]]) -> bytes:
    path = tmp_path / f"{uuid.uuid4()}.xlsx"
    write_import_file(path, rows)
    return path.read_bytes()


def _upload(client: Any, data: bytes, *, dry_run: bool, name: str = "danh-sach.xlsx") -> Any:
    form: dict[str, Any] = {"_csrf": CSRF, "file": (io.BytesIO(data), name)}
    if dry_run:
        form["dry_run"] = "1"
    return client.post("/imports", data=form, content_type="multipart/form-data")


def _count(session: Any, model: Any) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0


PAGE = [
    (None, 302),
    ("admin", 200),
    ("agency_a", 200),
    ("agency_b", 200),
    ("owner_a", 403),
    ("owner_b", 403),
]


@pytest.mark.parametrize(("who", "status"), PAGE)
def test_upload_page_by_role(
    client: Any, world_with_work: Any, who: str | None, status: int
) -> None:
    login(client, world_with_work, who)
    response = client.get("/imports")
    assert response.status_code == status
    if status == 200:
        assert "/api/v1/jobs/import-template.xlsx" in html(response)
    job_id = world_with_work.extras["job"].id
    listed = f"/imports/{job_id}" in html(response)
    assert listed == (who in ("admin", "agency_a"))  # agency B does not see A's jobs


JOB = [
    (None, 302),
    ("admin", 200),
    ("agency_a", 200),
    ("agency_b", 404),
    ("owner_a", 403),
    ("owner_b", 403),
]


@pytest.mark.parametrize(("who", "status"), JOB)
def test_job_page_by_role(client: Any, world_with_work: Any, who: str | None, status: int) -> None:
    login(client, world_with_work, who)
    job_id = world_with_work.extras["job"].id
    assert client.get(f"/imports/{job_id}").status_code == status
    assert client.get(f"/imports/{job_id}/progress").status_code == status


def test_template_download_with_the_cookie(client: Any, world: Any) -> None:
    login(client, world, "agency_a")
    response = client.get("/api/v1/jobs/import-template.xlsx")
    assert response.status_code == 200
    login(client, world, "owner_a")
    assert client.get("/api/v1/jobs/import-template.xlsx").status_code == 403


def test_dry_run_then_import(client: Any, world: Any, session: Any, tmp_path: Path) -> None:
    rows = establishment_rows(4, seed=11, unit_codes=["COMM-A1"])
    rows[3] = {**rows[3], "unit_code": "DIST-B"}  # outside agency A's scope: rejected
    data = _file(tmp_path, rows)
    before = _count(session, Establishment)
    login(client, world, "agency_a")

    response = _upload(client, data, dry_run=True)
    assert response.status_code == 303
    job_page = client.get(response.headers["Location"])
    page = html(job_page)
    assert "Đã nhận tệp; đang kiểm tra thử (không ghi dữ liệu)." in page
    assert "Kiểm tra thử — chưa ghi dữ liệu" in page
    assert 'http-equiv="refresh"' not in page  # the job is over (run eagerly)
    assert str(rows[0]["name"]) in page
    assert _count(session, Establishment) == before

    response = _upload(client, data, dry_run=False)
    job_url = response.headers["Location"]
    page = html(client.get(job_url))
    assert "Đã nhận tệp; đang nhập." in page
    assert _count(session, Establishment) == before + 3
    assert "/report.xlsx" in page
    rejected = html(client.get(f"{job_url}?outcome=rejected"))
    assert str(rows[3]["name"]) in rejected
    assert str(rows[0]["name"]) not in rejected
    job_id = job_url.rstrip("/").rsplit("/", 1)[1]
    report = client.get(f"/api/v1/jobs/{job_id}/report.xlsx")
    assert report.status_code == 200
    # The fragment htmx polls; once the job is over it asks htmx to reload the page.
    fragment = client.get(f"/imports/{job_id}/progress", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert 'class="progress"' in html(fragment)
    assert fragment.headers.get("HX-Refresh") == "true"


def test_a_running_job_refreshes_itself(client: Any, world: Any, session: Any) -> None:
    job = Job(
        id=uuid.uuid4(),
        kind="import",
        status="running",
        created_by=world.agency_a.id,
        unit_id=world.unit_a.id,
        params={"file": "", "dry_run": False, "filename": "lon.xlsx"},
        progress_done=40,
        progress_total=100,
    )
    session.add(job)
    session.commit()
    login(client, world, "agency_a")
    page = html(client.get(f"/imports/{job.id}"))
    assert '<meta http-equiv="refresh" content="2">' in page
    assert f'hx-get="/imports/{job.id}/progress"' in page
    assert 'aria-valuenow="40"' in page
    fragment = client.get(f"/imports/{job.id}/progress", headers={"HX-Request": "true"})
    assert "HX-Refresh" not in fragment.headers
    assert 'hx-trigger="every 1s"' in html(fragment)


def test_refused_files_are_explained_next_to_the_field(
    client: Any, world: Any, session: Any
) -> None:
    login(client, world, "agency_a")
    jobs = _count(session, Job)
    response = client.post("/imports", data={"_csrf": CSRF}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert 'id="file-error"' in html(response)
    response = _upload(client, b"not an excel file", dry_run=True, name="x.xlsx")
    assert response.status_code == 422
    assert 'id="file-error"' in html(response)
    partial = io.BytesIO()
    write_xlsx(partial, [SheetSpec("Cơ sở", ["STT", "Tên cơ sở"], [[1, "Cơ sở A"]])])
    response = _upload(client, partial.getvalue(), dry_run=False)
    assert response.status_code == 422
    assert re.search(r'id="file-error">[^<]*Thiếu cột bắt buộc', html(response))
    assert _count(session, Job) == jobs


def test_upload_by_roles_and_without_csrf(client: Any, world: Any, tmp_path: Path) -> None:
    data = _file(tmp_path, establishment_rows(1, seed=3, unit_codes=["COMM-A1"]))
    login(client, world, "owner_a")
    assert _upload(client, data, dry_run=True).status_code == 403
    login(client, world, None)
    assert _upload(client, data, dry_run=True).status_code == 302
    login(client, world, "agency_a")
    response = client.post(
        "/imports",
        data={"file": (io.BytesIO(data), "x.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
