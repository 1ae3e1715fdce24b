"""Importing a published table: as printed, matched to units, bad files refused with nothing
kept [RELIABILITY 10, 11]."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest

from services.reports.models import PublishedRow, PublishedTable
from tests.products.factories import auth, mint_token
from tests.reports.conftest import APPENDIX01

pytestmark = pytest.mark.smoke


def _admin(reports_app: Any, tree: dict[str, Any]) -> dict[str, str]:
    return auth(mint_token(reports_app.config["SETTINGS"], role="admin", unit_id=tree[""].id))


def _post(client: Any, headers: dict[str, str], data: bytes, name: str, **form: Any) -> Any:
    return client.post(
        "/api/v1/published/",
        data={
            "file": (io.BytesIO(data), name),
            "title": "Phụ lục 01",
            "as_of": "2023-12-31",
            **form,
        },
        headers=headers,
        content_type="multipart/form-data",
    )


def test_rows_are_kept_as_printed_and_matched(
    rclient: Any, rsession: Any, reports_app: Any, appendix_tree: dict[str, Any]
) -> None:
    headers = _admin(reports_app, appendix_tree)
    response = _post(rclient, headers, APPENDIX01.read_bytes(), "appendix01.csv")
    assert response.status_code == 201, response.json
    detail = rclient.get(f"/api/v1/published/{response.json['id']}", headers=headers).json
    rows = {row["code"]: row for row in detail["rows"]}
    assert rows["PROV"]["values"]["certificate_subject"] == 2117
    assert rows["PROV"]["unit_id"] == str(appendix_tree["PROV"].id)
    assert rows["SNN-QLCL"]["values"]["commitment_subject"] is None  # blank as printed
    assert rows["SYT"]["values"]["rate"] == 0.26
    assert rows["TOTAL"]["unit_id"] is None
    listed = rclient.get("/api/v1/published/", headers=headers).json
    assert [t["title"] for t in listed] == ["Phụ lục 01"]


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "0" * 50_000_000)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "name", "form", "status"),
    [
        (b"name,foo\nA,1\n", "p.csv", {}, 422),  # missing columns
        (b"", "p.csv", {}, 422),
        (b"not a workbook", "p.xlsx", {}, 422),  # a renamed file
        (_zip_bomb(), "p.xlsx", {}, 422),
        (APPENDIX01.read_bytes().replace(b",1268,", b",12x8,"), "p.csv", {}, 422),
        (APPENDIX01.read_bytes().replace(b",4.82", b",abc"), "p.csv", {}, 422),
        (APPENDIX01.read_bytes(), "p.csv", {"as_of": "31/12/2023"}, 422),
        (APPENDIX01.read_bytes(), "p.csv", {"title": ""}, 422),
        (APPENDIX01.read_bytes(), "p.csv", {"title": "x" * 300}, 422),
    ],
)
def test_bad_tables_are_refused_and_nothing_is_kept(
    rclient: Any,
    rsession: Any,
    reports_app: Any,
    appendix_tree: dict[str, Any],
    content: bytes,
    name: str,
    form: dict[str, str],
    status: int,
) -> None:
    response = _post(rclient, _admin(reports_app, appendix_tree), content, name, **form)
    assert response.status_code == status, response.json
    assert response.json["message"]["vi"]
    assert rsession.query(PublishedTable).count() == 0
    assert rsession.query(PublishedRow).count() == 0


def test_a_missing_file(rclient: Any, reports_app: Any, appendix_tree: dict[str, Any]) -> None:
    response = rclient.post(
        "/api/v1/published/",
        data={"title": "Phụ lục 01", "as_of": "2023-12-31"},
        headers=_admin(reports_app, appendix_tree),
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "file" in response.json["errors"]
