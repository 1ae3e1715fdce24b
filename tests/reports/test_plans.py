"""The plan (Appendix 02): imported from the published CSV or an .xlsx, stored for units
without sub-units only, subtotals checked against their children, read back with roll-ups."""

from __future__ import annotations

import io
from typing import Any

import pytest

from services.reports.models import PlanEntry
from shared.excel.writing import SheetSpec, write_xlsx
from tests.products.factories import auth, mint_token
from tests.reports.conftest import APPENDIX02

pytestmark = pytest.mark.smoke


def _admin(reports_app: Any, tree: dict[str, Any]) -> dict[str, str]:
    settings = reports_app.config["SETTINGS"]
    return auth(mint_token(settings, role="admin", unit_id=tree[""].id))


def _agency(reports_app: Any, unit: Any) -> dict[str, str]:
    settings = reports_app.config["SETTINGS"]
    return auth(mint_token(settings, role="agency", unit_id=unit.id))


def _upload(client: Any, headers: dict[str, str], data: bytes, name: str, **form: Any) -> Any:
    return client.post(
        "/api/v1/plans/2024/import",
        data={"file": (io.BytesIO(data), name), **form},
        headers=headers,
        content_type="multipart/form-data",
    )


def test_the_published_appendix02_imports_and_rolls_up(
    rclient: Any, rsession: Any, reports_app: Any, appendix_tree: dict[str, Any]
) -> None:
    headers = _admin(reports_app, appendix_tree)
    response = _upload(rclient, headers, APPENDIX02.read_bytes(), "appendix02.csv")
    assert response.status_code == 200, response.json
    body = response.json
    # 4 sub-departments, SCT, SYT and 13 districts carry the plan; 9 months each.
    assert body["units"] == 19
    assert body["stored"] == 19 * 9
    # The published subtotals (PROV, SNN, DIST) and total are the sums of their rows.
    assert body["subtotal_differences"] == []
    assert rsession.query(PlanEntry).count() == 171

    plan = rclient.get("/api/v1/plans/2024", headers=headers).json
    assert plan["total"] == 5565
    by_code = {u["code"]: u for u in plan["units"]}
    assert by_code["PROV"]["total"] == 2064
    assert by_code["DIST"]["total"] == 3501
    assert by_code["SNN"]["months"]["04"] == 38
    assert by_code["QN"]["months"]["12"] == 618

    # An agency reads its own sub-tree only.
    snn = rclient.get("/api/v1/plans/2024", headers=_agency(reports_app, appendix_tree["SNN"]))
    assert [u["code"] for u in snn.json["units"]] == [
        "SNN",
        "SNN-CNTY",
        "SNN-QLCL",
        "SNN-TS",
        "SNN-TTBVTV",
    ]
    assert snn.json["total"] == 352


def test_a_wrong_subtotal_is_reported_and_a_dry_run_stores_nothing(
    rclient: Any, rsession: Any, reports_app: Any, appendix_tree: dict[str, Any]
) -> None:
    text = (
        APPENDIX02.read_text(encoding="utf-8")
        .replace("SNN,Sở Nông nghiệp và PTNT,38,", "SNN,Sở Nông nghiệp và PTNT,40,")
        .replace(",39,41,39,40,39,352", ",39,41,39,40,39,354")
    )
    response = _upload(
        rclient, _admin(reports_app, appendix_tree), text.encode(), "plan.csv", dry_run="true"
    )
    assert response.status_code == 200, response.json
    differences = response.json["subtotal_differences"]
    assert differences == [
        {
            "row": 3,
            "label": "Sở Nông nghiệp và PTNT",
            "unit_id": str(appendix_tree["SNN"].id),
            "month": 4,
            "published": 40,
            "computed": 38,
        }
    ]
    assert response.json["dry_run"] is True
    assert rsession.query(PlanEntry).count() == 0


def test_xlsx_with_vietnamese_headers_and_names(
    rclient: Any, reports_app: Any, appendix_tree: dict[str, Any]
) -> None:
    buffer = io.BytesIO()
    write_xlsx(
        buffer,
        [
            SheetSpec(
                "KH",
                ["Đơn vị", "Tháng 4", "Tháng 5", "Tổng"],
                [["Cô Tô", 6, 7, 13], ["Ba Chẽ", 5, 5, 10]],
                title="KẾ HOẠCH CẤP TÀI KHOẢN",
            )
        ],
    )
    headers = _admin(reports_app, appendix_tree)
    response = _upload(rclient, headers, buffer.getvalue(), "kh.xlsx")
    assert response.status_code == 200, response.json
    assert response.json["stored"] == 4
    plan = rclient.get(
        "/api/v1/plans/2024",
        query_string={"unit_id": str(appendix_tree["DIST"].id)},
        headers=headers,
    ).json
    assert plan["months"] == {"04": 11, "05": 12}


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        (b"", "plan.csv", "file_empty_sheet"),
        (b"Don vi,foo\nCo To,1\n", "plan.csv", "file_missing_columns"),
        (b"code,m04,total\nCO-TO,6,7\n", "plan.csv", "plan_total_mismatch"),
        (b"code,m04\nCO-TO,-1\n", "plan.csv", "bad_cell"),
        (b"code,m04\nCO-TO,abc\n", "plan.csv", "bad_cell"),
        (b"code,m04\nNOWHERE,3\n", "plan.csv", "unknown_units"),
        (b"code,m04\nCO-TO,3\nCO-TO,4\n", "plan.csv", "duplicate_unit"),
        (b"\xff\xfe\x00b", "plan.csv", "file_not_utf8"),
        (b"%PDF-1.4", "plan.pdf", "file_not_table"),
    ],
)
def test_bad_files_are_refused_and_store_nothing(
    rclient: Any,
    rsession: Any,
    reports_app: Any,
    appendix_tree: dict[str, Any],
    content: bytes,
    name: str,
    code: str,
) -> None:
    response = _upload(rclient, _admin(reports_app, appendix_tree), content, name)
    assert response.status_code == 422, response.json
    assert response.json["code"] == code
    assert response.json["message"]["vi"]
    assert response.json["message"]["en"]
    assert rsession.query(PlanEntry).count() == 0


def test_an_agency_imports_only_its_own_units(
    rclient: Any, rsession: Any, reports_app: Any, appendix_tree: dict[str, Any]
) -> None:
    headers = _agency(reports_app, appendix_tree["SNN"])
    everything = _upload(rclient, headers, APPENDIX02.read_bytes(), "appendix02.csv")
    assert everything.status_code == 422
    assert everything.json["code"] == "out_of_scope"
    own = _upload(rclient, headers, b"code,m04,m05\nSNN-TS,34,34\n", "plan.csv")
    assert own.status_code == 200, own.json
    assert rsession.query(PlanEntry).count() == 2


def test_one_cell_is_corrected(
    rclient: Any, reports_app: Any, appendix_tree: dict[str, Any]
) -> None:
    headers = _admin(reports_app, appendix_tree)
    cell = f"/api/v1/plans/2024/{appendix_tree['CO-TO'].id}/5"
    response = rclient.put(cell, json={"accounts": 9}, headers=headers)
    assert response.status_code == 200, response.json
    assert rclient.put(cell, json={"accounts": 10}, headers=headers).json["accounts"] == 10
    parent = f"/api/v1/plans/2024/{appendix_tree['DIST'].id}/5"
    refused = rclient.put(parent, json={"accounts": 10}, headers=headers)
    assert refused.status_code == 422
    assert rclient.put(cell, json={"accounts": -1}, headers=headers).status_code == 422
    assert (
        rclient.put(
            f"/api/v1/plans/2024/{appendix_tree['CO-TO'].id}/13",
            json={"accounts": 1},
            headers=headers,
        ).status_code
        == 422
    )
    outsider = _agency(reports_app, appendix_tree["SNN"])
    assert rclient.put(cell, json={"accounts": 1}, headers=outsider).status_code == 404


def test_the_template_lists_the_units_in_scope(
    rclient: Any, reports_app: Any, appendix_tree: dict[str, Any]
) -> None:
    from shared.excel.reading import read_rows

    response = rclient.get(
        "/api/v1/plans/2024/template.xlsx", headers=_agency(reports_app, appendix_tree["SNN"])
    )
    assert response.status_code == 200
    rows = read_rows(response.data)
    codes = [row[0] for row in rows[2:]]
    assert codes == ["SNN", "SNN-CNTY", "SNN-QLCL", "SNN-TS", "SNN-TTBVTV"]
